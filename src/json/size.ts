// The size of a JSON value as compact UTF-8 text, measured without building the text: a JSON Patch of
// a few `copy` operations can make a document whose text is gigabytes while its value, sharing
// subtrees, stays small. Measuring remembers each shared container, so the cost is linear in the
// value's distinct containers, and stops as soon as the limit is passed.
import type { JsonValue } from './types.ts';

/** The largest record stored, as compact JSON text in UTF-8 (a feed record: its text as received). */
export const MAX_RECORD_BYTES = 1024 * 1024;

type Frame = { node: object; names: string[] | null; next: number; size: number };

/**
 * The byte length of `JSON.stringify(value)` in UTF-8, or the first partial size past `limit` once it
 * is known to be larger (so compare the result with `limit`). Uses a stack, not recursion, so any
 * depth is fine.
 *
 * @example jsonByteLength({ a: [1, 'é'] })      // 16, the length of {"a":[1,"é"]}
 * @example jsonByteLength('x'.repeat(10), 5) > 5 // true
 */
export function jsonByteLength(value: JsonValue, limit = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'object' || value === null) return scalarBytes(value);
  const known = new Map<object, number>();
  const stack: Frame[] = [frameOf(value)];
  let result = 0;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const { node, names } = frame;
    const count = names === null ? (node as JsonValue[]).length : names.length;
    if (frame.next === count) {
      stack.pop();
      known.set(node, frame.size);
      const parent = stack[stack.length - 1];
      if (parent === undefined) result = frame.size;
      else parent.size += frame.size;
      continue;
    }
    const index = frame.next++;
    let child: JsonValue;
    if (names === null) {
      child = (node as JsonValue[])[index] as JsonValue;
      if (index > 0) frame.size += 1;
    } else {
      const name = names[index] as string;
      child = (node as Record<string, JsonValue>)[name] as JsonValue;
      frame.size += stringBytes(name) + 1 + (index > 0 ? 1 : 0);
    }
    if (typeof child !== 'object' || child === null) {
      frame.size += scalarBytes(child);
    } else {
      const size = known.get(child);
      if (size !== undefined) frame.size += size;
      else stack.push(frameOf(child));
    }
    // Sizes only grow towards the root: once any open container passes the limit, so does the value.
    if (frame.size > limit) return frame.size;
  }
  return result;
}

function frameOf(node: object): Frame {
  return { node, names: Array.isArray(node) ? null : Object.keys(node), next: 0, size: 2 };
}

function scalarBytes(value: string | number | boolean | null): number {
  if (typeof value === 'string') return stringBytes(value);
  return String(JSON.stringify(value)).length;
}

function stringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}
