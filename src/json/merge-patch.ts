// RFC 7396 JSON Merge Patch, used for PATCH with application/merge-patch+json (and plain JSON).
import { getOwn, isJsonObject, type JsonObject, type JsonValue, setOwn } from './types.ts';

/**
 * Applies an RFC 7396 merge patch and returns the new value; neither argument is mutated (the result
 * shares untouched subtrees with both). A `null` member removes, an object member merges recursively,
 * anything else (arrays included) replaces. A patch that is not an object replaces the whole target.
 * Keys such as `__proto__` or `constructor` are ordinary members: they never reach a prototype.
 *
 * @example applyMergePatch({ a: 'b', c: { d: 'e' } }, { a: 'z', c: { d: null } }) // { a: 'z', c: {} }
 * @example applyMergePatch({ a: 1 }, [1])                                        // [1]
 */
export function applyMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  return mergeValue(target, patch);
}

// `target` is undefined where the member does not exist yet; RFC 7396 treats that like a non-object.
// The result is built in one pass over each side (no `delete`, which would slow the object down).
function mergeValue(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const base: JsonObject = isJsonObject(target) ? target : {};
  const result: JsonObject = {};
  for (const key in base) {
    if (!Object.hasOwn(base, key)) continue;
    if (getOwn(patch, key) === null) continue;
    setOwn(result, key, base[key] as JsonValue);
  }
  for (const key in patch) {
    if (!Object.hasOwn(patch, key)) continue;
    const value = patch[key] as JsonValue;
    if (value !== null) setOwn(result, key, mergeValue(getOwn(base, key), value));
  }
  return result;
}
