// Deep equality of JSON values, the comparison behind JSON Patch "test", override retirement and
// field diffs.
import type { JsonValue } from './types.ts';

/**
 * True when `a` and `b` are the same JSON value: object member order is irrelevant, array order is
 * not, numbers compare by value (`1` equals `1.0`), and only own members count.
 *
 * @example jsonEqual({ a: 1, b: [2] }, { b: [2], a: 1 }) // true
 * @example jsonEqual([1, 2], [2, 1])                     // false
 */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!jsonEqual(a[i] as JsonValue, b[i] as JsonValue)) return false;
    }
    return true;
  }
  if (Array.isArray(b)) return false;
  // for...in over both objects avoids allocating key arrays; hasOwn keeps inherited names out.
  let count = 0;
  for (const key in a) {
    if (!Object.hasOwn(a, key)) continue;
    if (!Object.hasOwn(b, key) || !jsonEqual(a[key] as JsonValue, b[key] as JsonValue)) return false;
    count++;
  }
  for (const key in b) {
    if (Object.hasOwn(b, key)) count--;
  }
  return count === 0;
}
