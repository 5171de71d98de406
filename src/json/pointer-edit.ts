// Immutable edits at a JSON Pointer location, with RFC 6902 semantics for each kind of edit. Each call
// returns a new document that shares every untouched subtree with the old one; the input is never
// mutated, which is what makes a failed JSON Patch leave its input as it was.
import { formatPointer, JsonPointerError, parseArrayIndex } from './pointer.ts';
import { copyObject, getOwn, isJsonObject, type JsonObject, type JsonValue, setOwn } from './types.ts';

type Container = JsonObject | JsonValue[];
type EditContainer = (parent: Container, key: string, tokens: readonly string[]) => Container;

/**
 * Adds `value` at `tokens` (RFC 6902 "add"): sets an object member (replacing one that exists), inserts
 * into an array before an index (0..length, `-` appends), or replaces the whole document for `[]`.
 * The parent must exist. Throws JsonPointerError.
 *
 * @example addAt({ a: [1, 3] }, ['a', '1'], 2)  // { a: [1, 2, 3] }
 * @example addAt({ a: [1] }, ['a', '-'], 2)     // { a: [1, 2] }
 */
export function addAt(root: JsonValue, tokens: readonly string[], value: JsonValue): JsonValue {
  if (tokens.length === 0) return value;
  return editParent(root, tokens, 0, (parent, key, all) => {
    if (!Array.isArray(parent)) return withMember(parent, key, value);
    const index = key === '-' ? parent.length : requireIndex(key, all, parent.length + 1);
    const copy = parent.slice();
    copy.splice(index, 0, value);
    return copy;
  });
}

/**
 * Removes the value at `tokens` (RFC 6902 "remove"); it must exist. Array elements after it shift left.
 * The whole document cannot be removed. Throws JsonPointerError.
 *
 * @example removeAt({ a: 1, b: 2 }, ['a'])     // { b: 2 }
 * @example removeAt({ a: [1, 2, 3] }, ['a', '0']) // { a: [2, 3] }
 */
export function removeAt(root: JsonValue, tokens: readonly string[]): JsonValue {
  if (tokens.length === 0)
    throw new JsonPointerError('path-not-found', 'the document root cannot be removed');
  return editParent(root, tokens, 0, (parent, key, all) => {
    if (!Array.isArray(parent)) {
      requireMember(parent, key, all);
      return withoutMember(parent, key);
    }
    const copy = parent.slice();
    copy.splice(requireIndex(key, all, parent.length), 1);
    return copy;
  });
}

/**
 * Replaces the value at `tokens` (RFC 6902 "replace"); it must exist. `[]` replaces the document.
 * Throws JsonPointerError.
 *
 * @example replaceAt({ a: 1 }, ['a'], 2) // { a: 2 }
 */
export function replaceAt(root: JsonValue, tokens: readonly string[], value: JsonValue): JsonValue {
  if (tokens.length === 0) return value;
  return editParent(root, tokens, 0, (parent, key, all) => {
    if (!Array.isArray(parent)) {
      requireMember(parent, key, all);
      return withMember(parent, key, value);
    }
    const copy = parent.slice();
    copy[requireIndex(key, all, parent.length)] = value;
    return copy;
  });
}

/**
 * A copy of `obj` without the member `key`. Built fresh rather than with `delete`, which would push V8
 * into slow dictionary-mode objects.
 *
 * @example withoutMember({ a: 1, b: 2 }, 'a') // { b: 2 }
 */
export function withoutMember(obj: JsonObject, key: string): JsonObject {
  const result: JsonObject = {};
  for (const name in obj) {
    if (name !== key && Object.hasOwn(obj, name)) setOwn(result, name, obj[name] as JsonValue);
  }
  return result;
}

/**
 * A copy of `obj` with the member `key` set to `value`.
 *
 * @example withMember({ a: 1 }, 'b', 2) // { a: 1, b: 2 }
 */
export function withMember(obj: JsonObject, key: string, value: JsonValue): JsonObject {
  const result = copyObject(obj);
  setOwn(result, key, value);
  return result;
}

// Walks to the parent of the last token and rebuilds the containers on the way back up; tokens is
// never empty here.
function editParent(
  node: JsonValue,
  tokens: readonly string[],
  depth: number,
  edit: EditContainer,
): JsonValue {
  const last = depth === tokens.length - 1;
  const token = tokens[depth] as string;
  if (Array.isArray(node)) {
    if (last) return edit(node, token, tokens);
    const index = parseArrayIndex(token);
    if (index === null || index >= node.length) throw notFound(tokens, depth);
    const copy = node.slice();
    copy[index] = editParent(node[index] as JsonValue, tokens, depth + 1, edit);
    return copy;
  }
  if (isJsonObject(node)) {
    if (last) return edit(node, token, tokens);
    const child = getOwn(node, token);
    if (child === undefined) throw notFound(tokens, depth);
    return withMember(node, token, editParent(child, tokens, depth + 1, edit));
  }
  // A scalar has no members: the location's parent does not exist as a container.
  throw new JsonPointerError(
    'path-not-found',
    `${formatPointer(tokens.slice(0, depth)) || 'the document root'} is not an object or array`,
  );
}

/** Throws path-not-found unless `obj` has the member `key` (the last of `tokens`). */
export function requireMember(obj: JsonObject, key: string, tokens: readonly string[]): void {
  if (!Object.hasOwn(obj, key)) throw notFound(tokens, tokens.length - 1);
}

// `limit` is exclusive: length for an existing element, length + 1 where an insert may append.
export function requireIndex(token: string, tokens: readonly string[], limit: number): number {
  const index = parseArrayIndex(token);
  if (index === null) {
    throw new JsonPointerError(
      'invalid-index',
      `${JSON.stringify(token)} is not a valid array index in ${formatPointer(tokens)}`,
    );
  }
  if (index >= limit) {
    throw new JsonPointerError(
      'invalid-index',
      `array index ${index} is out of range in ${formatPointer(tokens)}`,
    );
  }
  return index;
}

/** path-not-found for the pointer made of `tokens` up to `depth`. */
export function notFound(tokens: readonly string[], depth: number): JsonPointerError {
  return new JsonPointerError(
    'path-not-found',
    `${formatPointer(tokens.slice(0, depth + 1))} does not exist`,
  );
}
