// RFC 6902 JSON Patch, used for PATCH with application/json-patch+json. The patch is validated as a
// whole before anything is applied, then applied operation by operation on immutable copies, so a
// failure at any step throws and leaves the caller's document exactly as it was.
import { jsonEqual } from './equal.ts';
import { getAt, isPointerPrefix, JsonPointerError, parsePointer } from './pointer.ts';
import { addAt, removeAt, replaceAt } from './pointer-edit.ts';
import { isJsonObject, type JsonValue } from './types.ts';

/** One RFC 6902 operation. Extra members are allowed and ignored (RFC 6902 §4, Appendix A.11). */
export type JsonPatchOperation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: JsonValue };

/**
 * Why a patch failed:
 * - `invalid-patch`: the patch document itself is wrong (not an array, an operation that is not an
 *   object, unknown `op`, missing or non-string `path`/`from`, missing `value`, malformed pointer,
 *   a `move` into its own child). Nothing about the target document.
 * - `path-not-found`: a location (or its parent, or `from`) does not exist in the document.
 * - `invalid-index`: an array index that is malformed (`01`, `-` where not allowed) or out of range.
 * - `test-failed`: a `test` operation found a different value.
 */
export type JsonPatchErrorCode = 'invalid-patch' | 'path-not-found' | 'invalid-index' | 'test-failed';

/** Thrown by applyJsonPatch; `index` is the failing operation's position in the patch (-1: the patch). */
export class JsonPatchError extends Error {
  override name = 'JsonPatchError';
  readonly code: JsonPatchErrorCode;
  readonly index: number;
  readonly op: string | null;
  readonly path: string | null;

  constructor(
    code: JsonPatchErrorCode,
    index: number,
    op: string | null,
    path: string | null,
    message: string,
  ) {
    super(message);
    this.code = code;
    this.index = index;
    this.op = op;
    this.path = path;
  }
}

// An operation after validation, with its pointers already parsed.
type CheckedOperation = {
  op: JsonPatchOperation['op'];
  path: string;
  tokens: string[];
  fromTokens: string[];
  value: JsonValue;
};

const OPERATIONS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/**
 * Applies an RFC 6902 patch (all six operations) and returns the new document. Atomic: on any failure
 * it throws a JsonPatchError and `doc` is untouched (it is never mutated; the result shares untouched
 * subtrees with it). `patch` is typically a parsed request body and is validated here.
 *
 * @example applyJsonPatch({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: 'baz' }]) // { foo: ['bar', 'baz'] }
 * @example applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])                // throws test-failed
 */
export function applyJsonPatch(doc: JsonValue, patch: readonly JsonPatchOperation[] | unknown): JsonValue {
  const operations = validatePatch(patch);
  let result = doc;
  for (let index = 0; index < operations.length; index++) {
    const operation = operations[index] as CheckedOperation;
    try {
      result = applyOperation(result, operation);
    } catch (error) {
      if (error instanceof JsonPointerError) {
        // Pointers were parsed during validation, so a malformed one cannot surface here.
        const code = error.code === 'malformed-pointer' ? 'invalid-patch' : error.code;
        throw new JsonPatchError(code, index, operation.op, operation.path, error.message);
      }
      if (error instanceof JsonPatchError) {
        throw new JsonPatchError(error.code, index, operation.op, operation.path, error.message);
      }
      throw error;
    }
  }
  return result;
}

/**
 * Checks a patch document without applying it and returns it typed; throws JsonPatchError
 * (`invalid-patch`) naming the first bad operation.
 *
 * @example validateJsonPatch([{ op: 'remove', path: '/a' }]) // the same array, typed
 * @example validateJsonPatch([{ op: 'add', path: '/a' }])    // throws: missing "value"
 */
export function validateJsonPatch(patch: unknown): JsonPatchOperation[] {
  validatePatch(patch);
  return patch as JsonPatchOperation[];
}

function applyOperation(doc: JsonValue, operation: CheckedOperation): JsonValue {
  const { tokens } = operation;
  switch (operation.op) {
    case 'add':
      return addAt(doc, tokens, operation.value);
    case 'remove':
      return removeAt(doc, tokens);
    case 'replace':
      return replaceAt(doc, tokens, operation.value);
    case 'move': {
      const moved = requireValue(doc, operation.fromTokens, 'from');
      // Moving a location onto itself is a no-op once "from" is known to exist.
      if (operation.fromTokens.length === tokens.length && isPointerPrefix(operation.fromTokens, tokens)) {
        return doc;
      }
      return addAt(removeAt(doc, operation.fromTokens), tokens, moved);
    }
    case 'copy':
      // Sharing the copied subtree is safe: nothing in this toolkit mutates a value in place.
      return addAt(doc, tokens, requireValue(doc, operation.fromTokens, 'from'));
    case 'test': {
      const actual = requireValue(doc, tokens, 'path');
      if (!jsonEqual(actual, operation.value)) {
        throw new JsonPatchError(
          'test-failed',
          -1,
          'test',
          operation.path,
          `test failed at ${operation.path}`,
        );
      }
      return doc;
    }
  }
}

function requireValue(doc: JsonValue, tokens: readonly string[], member: 'from' | 'path'): JsonValue {
  const lookup = getAt(doc, tokens);
  if (!lookup.found) {
    throw new JsonPointerError('path-not-found', `the "${member}" location does not exist`);
  }
  return lookup.value;
}

function validatePatch(patch: unknown): CheckedOperation[] {
  if (!Array.isArray(patch)) {
    throw new JsonPatchError('invalid-patch', -1, null, null, 'a JSON Patch must be an array of operations');
  }
  return patch.map((operation, index) => validateOperation(operation, index));
}

// Reads members with Object.hasOwn only: an operation like {"path": "/a"} must not pick up an "op"
// or "value" from a polluted prototype.
function validateOperation(raw: unknown, index: number): CheckedOperation {
  const fail = (op: string | null, path: string | null, message: string): JsonPatchError =>
    new JsonPatchError('invalid-patch', index, op, path, `operation ${index}: ${message}`);
  if (!isJsonObject(raw)) throw fail(null, null, 'must be an object');
  const op = Object.hasOwn(raw, 'op') ? raw['op'] : undefined;
  if (typeof op !== 'string') throw fail(null, null, 'missing "op"');
  if (!OPERATIONS.has(op)) throw fail(op, null, `unknown op ${JSON.stringify(op)}`);
  const path = Object.hasOwn(raw, 'path') ? raw['path'] : undefined;
  if (typeof path !== 'string') throw fail(op, null, 'missing "path" (a string)');
  const tokens = parseOrFail(path, 'path', fail, op);
  const checked: CheckedOperation = {
    op: op as CheckedOperation['op'],
    path,
    tokens,
    fromTokens: [],
    value: null,
  };
  if (op === 'add' || op === 'replace' || op === 'test') {
    if (!Object.hasOwn(raw, 'value') || raw['value'] === undefined) throw fail(op, path, 'missing "value"');
    checked.value = raw['value'] as JsonValue;
  }
  if (op === 'move' || op === 'copy') {
    const from = Object.hasOwn(raw, 'from') ? raw['from'] : undefined;
    if (typeof from !== 'string') throw fail(op, path, 'missing "from" (a string)');
    checked.fromTokens = parseOrFail(from, 'from', fail, op, path);
    if (
      op === 'move' &&
      checked.fromTokens.length < tokens.length &&
      isPointerPrefix(checked.fromTokens, tokens)
    ) {
      throw fail(op, path, `cannot move ${from} into its own child ${path}`);
    }
  }
  return checked;
}

function parseOrFail(
  pointer: string,
  member: 'from' | 'path',
  fail: (op: string | null, path: string | null, message: string) => JsonPatchError,
  op: string,
  path: string | null = null,
): string[] {
  try {
    return parsePointer(pointer);
  } catch (error) {
    if (error instanceof JsonPointerError) throw fail(op, path ?? pointer, `"${member}": ${error.message}`);
    throw error;
  }
}
