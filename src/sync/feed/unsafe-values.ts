import {
  findImpreciseNumbers,
  findUnsafeJson,
  MAX_JSON_DEPTH,
  mayHaveImpreciseNumbers,
  UNSAFE_JSON_MESSAGES,
} from '../../json/inspect.ts';

/** Below this, a double is subnormal or close: an exponent literal may have lost digits (1e-320). */
const TINY = 1e-300;

/** Digit or dot bytes: a number's mantissa is one unbroken run of them. */
function isMantissaByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e;
}

/**
 * True if `bytes[from, to)` holds 16 or more digit/dot bytes in a row. Only every 16th byte is looked at
 * (any such run covers one of them), then the run around it is measured: ~20 ns for 200 bytes.
 */
function hasLongDigitRun(bytes: Uint8Array, from: number, to: number): boolean {
  for (let probe = from + 15; probe < to; probe += 16) {
    if (!isMantissaByte(bytes[probe]!)) continue;
    let left = probe;
    while (left > from && isMantissaByte(bytes[left - 1]!)) left--;
    let right = probe + 1;
    while (right < to && right - left < 16 && isMantissaByte(bytes[right]!)) right++;
    if (right - left >= 16) return true;
  }
  return false;
}

const DEEP = 1;
const ODD_NUMBER = 2;
const ZERO = 4;

function numberFlags(n: number): number {
  const size = Math.abs(n);
  if (size === 0) return ZERO;
  return size < TINY || size === Number.POSITIVE_INFINITY ? ODD_NUMBER : 0;
}

/**
 * One walk over the parsed value: nesting at the limit, numbers that are infinite, tiny or zero. It
 * stops descending at the limit, so its recursion is bounded however deep a feed nests (the record is
 * refused as too deep anyway).
 */
function walk(value: object, depth: number): number {
  if (depth > MAX_JSON_DEPTH) return DEEP;
  let flags = depth === MAX_JSON_DEPTH ? DEEP : 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'number') flags |= numberFlags(item);
      else if (typeof item === 'object' && item !== null) flags |= walk(item, depth + 1);
    }
    return flags;
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item === 'number') flags |= numberFlags(item);
    else if (typeof item === 'object' && item !== null) flags |= walk(item, depth + 1);
  }
  return flags;
}

/**
 * Describes the unsafe values of one record (`text`, its bytes `bytes[from, to)` and its parsed `value`),
 * or returns null. The JSON toolkit does the real checks; they only run when cheap necessary conditions
 * hold, so most records never reach them:
 * - findUnsafeJson (depth > 64, `\u0000`, lone surrogates, `__proto__` keys): in UTF-8-valid JSON the
 *   two characters can only be written as `\u` escapes, so it runs on a `\u`, a `__proto__` (or
 *   `constructor`) in the text, or nesting of 64+ in the value;
 * - mayHaveImpreciseNumbers/findImpreciseNumbers: a literal that JSON.parse rounds has 16+ significant
 *   digits (a run of 16+ digit/dot bytes), or an exponent beyond the normal range (parsed to Infinity,
 *   to a tiny number, or to 0 with an `e-` in the text). 15 digits always round-trip. Skipping the
 *   toolkit's regex prefilter this way was worth ~20% of NDJSON throughput in bench/feed-parse.ts.
 * If the toolkit learns a new kind of unsafe value, widen the conditions here.
 *
 * @example
 * unsafeValueMessage('{"a":"\\u0000"}', Buffer.from('{"a":"\\u0000"}'), 0, 14, { a: '\u0000' });
 * // 'unsafe value at /a: string contains the NUL character \\u0000'
 */
export function unsafeValueMessage(
  text: string,
  bytes: Uint8Array,
  from: number,
  to: number,
  value: object,
): string | null {
  const flags = walk(value, 1);
  if (
    (flags & DEEP) !== 0 ||
    text.includes('\\u') ||
    text.includes('__proto__') ||
    text.includes('constructor')
  ) {
    const unsafe = findUnsafeJson(value, { maxReports: 4 });
    if (unsafe.length > 0) {
      const list = unsafe.slice(0, 3).map((u) => `${u.pointer || '/'}: ${UNSAFE_JSON_MESSAGES[u.reason]}`);
      return `unsafe value at ${list.join('; ')}${unsafe.length > 3 ? ' (and more)' : ''}`;
    }
  }
  const mayBeImprecise =
    (flags & ODD_NUMBER) !== 0 ||
    ((flags & ZERO) !== 0 && (text.includes('e-') || text.includes('E-'))) ||
    hasLongDigitRun(bytes, from, to);
  if (mayBeImprecise && mayHaveImpreciseNumbers(text)) {
    const imprecise = findImpreciseNumbers(text, { maxReports: 3 });
    if (imprecise.length > 0) {
      const list = imprecise.slice(0, 3).map((n) => `${n.literal} (${n.reason}, character ${n.offset})`);
      return `number that JSON.parse would round: ${list.join(', ')}`;
    }
  }
  return null;
}
