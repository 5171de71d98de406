// Checks for JSON that parses in JavaScript but would be rejected, mangled or dangerous further on:
// PostgreSQL jsonb refuses NUL characters and lone surrogates, PGlite silently drops very deep documents,
// `__proto__` members turn into prototype changes in naive code, and JSON.parse rounds long numbers.
// Both scanners run on the sync hot path, so they avoid allocating in the common (clean) case.
import { DEFAULT_MAX_REPORTS } from './imprecise-numbers.ts';
import { formatPointer } from './pointer.ts';

/** Deepest container nesting accepted (the root object is level 1). PGlite drops documents ~7000 deep. */
export const MAX_JSON_DEPTH = 64;

export type UnsafeJsonReason =
  | 'too-deep'
  | 'nul-in-string'
  | 'nul-in-key'
  | 'lone-surrogate-in-string'
  | 'lone-surrogate-in-key'
  | 'non-finite-number'
  | 'proto-key'
  | 'not-json';

/** Human-readable text for each reason, for error details. */
export const UNSAFE_JSON_MESSAGES: Readonly<Record<UnsafeJsonReason, string>> = {
  'too-deep': `nested deeper than ${MAX_JSON_DEPTH} levels`,
  'nul-in-string': 'string contains the NUL character \\u0000',
  'nul-in-key': 'member name contains the NUL character \\u0000',
  'lone-surrogate-in-string': 'string contains an unpaired UTF-16 surrogate',
  'lone-surrogate-in-key': 'member name contains an unpaired UTF-16 surrogate',
  'non-finite-number': 'number is not finite (NaN or Infinity)',
  'proto-key': 'member name "__proto__" is not allowed',
  'not-json': 'value is not a JSON value',
};

/** One problem: where (RFC 6901 pointer; for a bad member name, the member's own pointer) and why. */
export type UnsafeJsonReport = { pointer: string; reason: UnsafeJsonReason };

export type FindUnsafeJsonOptions = { maxReports?: number; maxDepth?: number };

// One cheap character-class test first; the precise checks run only on strings that might fail.
const SUSPECT_CHARACTER = /[\u0000\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type ScanState = {
  reports: UnsafeJsonReport[];
  maxReports: number;
  maxDepth: number;
  tooDeepReported: boolean;
  // The current location, kept as a stack and formatted only when something is reported.
  path: (string | number)[];
};

/**
 * Everything in `value` that must not be stored, with pointers; empty when the value is fine. Checks:
 * nesting deeper than MAX_JSON_DEPTH (reported once, at the first container past the limit), strings
 * and member names containing `\u0000` or a lone surrogate, non-finite numbers, `__proto__` member
 * names, and values that are not JSON at all (undefined, functions, class instances). Capped at
 * `maxReports` (default 20).
 *
 * @example findUnsafeJson({ a: ['ok', 'bad\u0000'] }) // [{ pointer: '/a/1', reason: 'nul-in-string' }]
 * @example findUnsafeJson({ a: 1 })                   // []
 */
export function findUnsafeJson(value: unknown, options: FindUnsafeJsonOptions = {}): UnsafeJsonReport[] {
  const state: ScanState = {
    reports: [],
    maxReports: options.maxReports ?? DEFAULT_MAX_REPORTS,
    maxDepth: options.maxDepth ?? MAX_JSON_DEPTH,
    tooDeepReported: false,
    path: [],
  };
  if (state.maxReports > 0) visit(value, state);
  return state.reports;
}

// Returns false once the report list is full, so callers stop walking.
function visit(value: unknown, state: ScanState): boolean {
  switch (typeof value) {
    case 'string':
      return checkText(value, state, 'nul-in-string', 'lone-surrogate-in-string');
    case 'number':
      return Number.isFinite(value) || report(state, 'non-finite-number');
    case 'boolean':
      return true;
    case 'object':
      if (value === null) return true;
      if (state.path.length >= state.maxDepth) {
        if (state.tooDeepReported) return true;
        state.tooDeepReported = true;
        return report(state, 'too-deep');
      }
      if (Array.isArray(value)) return visitArray(value, state);
      if (isPlainObject(value)) return visitObject(value as Record<string, unknown>, state);
      return report(state, 'not-json');
    default:
      return report(state, 'not-json');
  }
}

function visitArray(array: readonly unknown[], state: ScanState): boolean {
  for (let i = 0; i < array.length; i++) {
    state.path.push(i);
    const more = visit(array[i], state);
    state.path.pop();
    if (!more) return false;
  }
  return true;
}

function visitObject(obj: Record<string, unknown>, state: ScanState): boolean {
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    state.path.push(key);
    const more =
      (key !== '__proto__' || report(state, 'proto-key')) &&
      checkText(key, state, 'nul-in-key', 'lone-surrogate-in-key') &&
      visit(obj[key], state);
    state.path.pop();
    if (!more) return false;
  }
  return true;
}

function checkText(
  text: string,
  state: ScanState,
  nulReason: UnsafeJsonReason,
  surrogateReason: UnsafeJsonReason,
): boolean {
  if (!SUSPECT_CHARACTER.test(text)) return true;
  if (text.includes('\u0000') && !report(state, nulReason)) return false;
  return !LONE_SURROGATE.test(text) || report(state, surrogateReason);
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function report(state: ScanState, reason: UnsafeJsonReason): boolean {
  state.reports.push({ pointer: formatPointer(state.path.map(String)), reason });
  return state.reports.length < state.maxReports;
}

// The raw-text number check lives in its own file; it is part of this module's API.
export {
  DEFAULT_MAX_REPORTS,
  findImpreciseNumbers,
  type ImpreciseNumber,
  mayHaveImpreciseNumbers,
  precisionProblem,
} from './imprecise-numbers.ts';
