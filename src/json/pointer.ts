// RFC 6901 JSON Pointer: parsing, formatting and read-only lookup. The editing helpers that build new
// documents live in pointer-edit.ts.
import { getOwn, isJsonObject, type JsonValue } from './types.ts';

/** Why a pointer operation failed; json-patch.ts maps these onto its own error codes. */
export type JsonPointerErrorCode = 'malformed-pointer' | 'path-not-found' | 'invalid-index';

/** Thrown for a pointer that is not valid RFC 6901 syntax, or a location that cannot be used. */
export class JsonPointerError extends Error {
  override name = 'JsonPointerError';
  readonly code: JsonPointerErrorCode;

  constructor(code: JsonPointerErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The result of a lookup: `found` tells "absent" apart from a present `null`. */
export type JsonLookup = { found: true; value: JsonValue } | { found: false; value: undefined };

const NOT_FOUND: JsonLookup = { found: false, value: undefined };
// A `~` not followed by 0 or 1 is the only malformed escape RFC 6901 knows.
const BAD_ESCAPE = /~(?![01])/;
// RFC 6901 array index: "0" or digits without a leading zero.
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * Splits a JSON Pointer into its unescaped reference tokens. `''` is the whole document.
 * Throws JsonPointerError when the pointer does not start with `/` or has a bad `~` escape.
 *
 * @example parsePointer('/a~1b/m~0n/0') // ['a/b', 'm~n', '0']
 * @example parsePointer('')             // []
 */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (pointer.charCodeAt(0) !== 0x2f) {
    throw new JsonPointerError(
      'malformed-pointer',
      `JSON Pointer must start with "/": ${JSON.stringify(pointer)}`,
    );
  }
  const tokens = pointer.slice(1).split('/');
  if (!pointer.includes('~')) return tokens;
  if (BAD_ESCAPE.test(pointer)) {
    throw new JsonPointerError(
      'malformed-pointer',
      `JSON Pointer has a "~" not followed by 0 or 1: ${JSON.stringify(pointer)}`,
    );
  }
  // RFC 6901 §4: ~1 first, then ~0, so that "~01" becomes "~1" and not "/".
  return tokens.map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * Escapes one reference token (`~` → `~0`, `/` → `~1`).
 *
 * @example escapePointerToken('a/b~c') // 'a~1b~0c'
 */
export function escapePointerToken(token: string): string {
  if (!token.includes('~') && !token.includes('/')) return token;
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Joins reference tokens into a JSON Pointer.
 *
 * @example formatPointer(['a/b', 'm~n']) // '/a~1b/m~0n'
 * @example formatPointer([])            // ''
 */
export function formatPointer(tokens: readonly string[]): string {
  let pointer = '';
  for (const token of tokens) pointer += '/' + escapePointerToken(token);
  return pointer;
}

/**
 * Appends one token to an already formatted pointer.
 *
 * @example appendPointer('/seo', 'title') // '/seo/title'
 */
export function appendPointer(pointer: string, token: string): string {
  return pointer + '/' + escapePointerToken(token);
}

/**
 * The array index a token denotes, or null when it is not a valid RFC 6901 index (leading zero,
 * sign, `-`, non-digits, or beyond the safe integer range). Says nothing about the array's length.
 *
 * @example parseArrayIndex('3')  // 3
 * @example parseArrayIndex('03') // null
 */
export function parseArrayIndex(token: string): number | null {
  if (!ARRAY_INDEX.test(token)) return null;
  const index = Number(token);
  return Number.isSafeInteger(index) ? index : null;
}

/**
 * Looks up the value at `tokens`. Object members count only when they are own properties; array
 * tokens must be valid in-range indexes (`-` never exists).
 *
 * @example getAt({ a: [10, 20] }, ['a', '1'])   // { found: true, value: 20 }
 * @example getAt({ a: 1 }, ['constructor'])      // { found: false, value: undefined }
 */
export function getAt(value: JsonValue, tokens: readonly string[]): JsonLookup {
  let current: JsonValue = value;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      const index = parseArrayIndex(token);
      if (index === null || index >= current.length) return NOT_FOUND;
      current = current[index] as JsonValue;
    } else if (isJsonObject(current)) {
      const next = getOwn(current, token);
      if (next === undefined) return NOT_FOUND;
      current = next;
    } else {
      return NOT_FOUND;
    }
  }
  return { found: true, value: current };
}

/**
 * True when `prefix` names `tokens` itself or one of its ancestors (token-wise, so `/a` is not a
 * prefix of `/ab`).
 *
 * @example isPointerPrefix(['a'], ['a', 'b'])  // true
 * @example isPointerPrefix(['a'], ['ab'])      // false
 */
export function isPointerPrefix(prefix: readonly string[], tokens: readonly string[]): boolean {
  if (prefix.length > tokens.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== tokens[i]) return false;
  return true;
}
