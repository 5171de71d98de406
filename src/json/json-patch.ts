// RFC 6902 JSON Patch, used for PATCH with application/json-patch+json. The patch is validated as a
// whole before anything is applied. Operations then edit a working copy in place: a container is
// copied the first time an operation changes something inside it and edited in place after that, so a
// patch costs time linear in its operations (copying every container on the path per operation made
// thousands of `add`s to one object quadratic). The caller's document is never changed, so a failure
// at any step throws and leaves it exactly as it was.
import { jsonEqual } from './equal.ts';
import {
  formatPointer,
  getAt,
  isPointerPrefix,
  JsonPointerError,
  parseArrayIndex,
  parsePointer,
} from './pointer.ts';
import { notFound, requireIndex, requireMember } from './pointer-edit.ts';
import { copyObject, getOwn, isJsonObject, type JsonObject, type JsonValue, setOwn } from './types.ts';

/** Most operations one patch may hold; more is refused before anything is applied. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/** A counter of the work a patch did: array elements and object members copied into working copies. */
export type JsonPatchWork = { copiedEntries: number };

export type ApplyJsonPatchOptions = {
  /** Defaults to MAX_JSON_PATCH_OPERATIONS. */
  maxOperations?: number;
  /** Incremented as containers are copied; lets tests bound the work by operation count. */
  work?: JsonPatchWork;
};

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
 * - `too-many-operations`: the patch holds more than the allowed number of operations.
 */
export type JsonPatchErrorCode =
  | 'invalid-patch'
  | 'path-not-found'
  | 'invalid-index'
  | 'test-failed'
  | 'too-many-operations';

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
 * subtrees with it). `patch` is typically a parsed request body and is validated here. Time is linear
 * in the number of operations and the size of the containers they touch.
 *
 * @example applyJsonPatch({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: 'baz' }]) // { foo: ['bar', 'baz'] }
 * @example applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])                // throws test-failed
 */
export function applyJsonPatch(
  doc: JsonValue,
  patch: readonly JsonPatchOperation[] | unknown,
  options: ApplyJsonPatchOptions = {},
): JsonValue {
  const operations = validatePatch(patch, options.maxOperations ?? MAX_JSON_PATCH_OPERATIONS);
  const working = new WorkingCopy(doc, options.work ?? { copiedEntries: 0 });
  for (let index = 0; index < operations.length; index++) {
    const operation = operations[index] as CheckedOperation;
    try {
      applyOperation(working, operation);
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
  return working.root;
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

function applyOperation(working: WorkingCopy, operation: CheckedOperation): void {
  const { tokens } = operation;
  switch (operation.op) {
    case 'add':
      working.add(tokens, operation.value);
      return;
    case 'remove':
      working.remove(tokens);
      return;
    case 'replace':
      working.replace(tokens, operation.value);
      return;
    case 'move': {
      const moved = requireValue(working.root, operation.fromTokens, 'from');
      // Moving a location onto itself is a no-op once "from" is known to exist.
      if (operation.fromTokens.length === tokens.length && isPointerPrefix(operation.fromTokens, tokens)) {
        return;
      }
      working.remove(operation.fromTokens);
      working.add(tokens, moved);
      return;
    }
    case 'copy': {
      // The copied subtree is shared by two locations from now on: it may no longer be edited in place.
      const copied = requireValue(working.root, operation.fromTokens, 'from');
      working.share(copied);
      working.add(tokens, copied);
      return;
    }
    case 'test': {
      const actual = requireValue(working.root, tokens, 'path');
      if (!jsonEqual(actual, operation.value)) {
        throw new JsonPatchError(
          'test-failed',
          -1,
          'test',
          operation.path,
          `test failed at ${operation.path}`,
        );
      }
      return;
    }
  }
}

type Container = JsonObject | JsonValue[];

function isContainer(value: JsonValue | undefined): value is Container {
  return typeof value === 'object' && value !== null;
}

/**
 * The document being patched. Containers in `owned` were copied by this patch and are referenced from
 * one place only, so they are edited in place; any other container (the caller's, a patch value, a
 * subtree shared by a `copy`) is copied before its first edit. Invariant: an owned container is only
 * reachable through owned containers, so `share` stops at the first container it does not own.
 */
class WorkingCopy {
  private readonly owned = new Set<Container>();

  constructor(
    public root: JsonValue,
    private readonly work: JsonPatchWork,
  ) {}

  add(tokens: readonly string[], value: JsonValue): void {
    if (tokens.length === 0) {
      this.root = value;
      return;
    }
    const { parent, key } = this.parentOf(tokens);
    if (!Array.isArray(parent)) {
      setOwn(parent, key, value);
      return;
    }
    if (key === '-') parent.push(value);
    else parent.splice(requireIndex(key, tokens, parent.length + 1), 0, value);
  }

  remove(tokens: readonly string[]): void {
    if (tokens.length === 0)
      throw new JsonPointerError('path-not-found', 'the document root cannot be removed');
    const { parent, key } = this.parentOf(tokens);
    if (!Array.isArray(parent)) {
      requireMember(parent, key, tokens);
      delete parent[key];
      return;
    }
    parent.splice(requireIndex(key, tokens, parent.length), 1);
  }

  replace(tokens: readonly string[], value: JsonValue): void {
    if (tokens.length === 0) {
      this.root = value;
      return;
    }
    const { parent, key } = this.parentOf(tokens);
    if (!Array.isArray(parent)) {
      requireMember(parent, key, tokens);
      setOwn(parent, key, value);
      return;
    }
    parent[requireIndex(key, tokens, parent.length)] = value;
  }

  /** Gives up ownership of every owned container in `value` (a walk with a stack, not recursion). */
  share(value: JsonValue): void {
    const pending: JsonValue[] = [value];
    while (pending.length > 0) {
      const node = pending.pop();
      if (!isContainer(node) || !this.owned.delete(node)) continue;
      if (Array.isArray(node)) for (const item of node) pending.push(item);
      else for (const name in node) if (Object.hasOwn(node, name)) pending.push(node[name] as JsonValue);
    }
  }

  // The owned container that holds the last token's location, copying the containers on the way that
  // are not owned yet; tokens is never empty here.
  private parentOf(tokens: readonly string[]): { parent: Container; key: string } {
    const last = tokens.length - 1;
    this.root = this.own(this.root, tokens, 0);
    let node = this.root as Container;
    for (let depth = 0; depth < last; depth++) {
      const token = tokens[depth] as string;
      if (Array.isArray(node)) {
        const index = parseArrayIndex(token);
        if (index === null || index >= node.length) throw notFound(tokens, depth);
        const child = this.own(node[index] as JsonValue, tokens, depth + 1);
        node[index] = child;
        node = child as Container;
      } else {
        const member = getOwn(node, token);
        if (member === undefined) throw notFound(tokens, depth);
        const child = this.own(member, tokens, depth + 1);
        setOwn(node, token, child);
        node = child as Container;
      }
    }
    return { parent: node, key: tokens[last] as string };
  }

  // `value` as an owned container (copied unless it already is); `depth` names it in errors.
  private own(value: JsonValue, tokens: readonly string[], depth: number): JsonValue {
    if (!isContainer(value)) {
      // A scalar has no members: the location's parent does not exist as a container.
      throw new JsonPointerError(
        'path-not-found',
        `${formatPointer(tokens.slice(0, depth)) || 'the document root'} is not an object or array`,
      );
    }
    if (this.owned.has(value)) return value;
    let copy: Container;
    if (Array.isArray(value)) {
      copy = value.slice();
      this.work.copiedEntries += value.length;
    } else {
      copy = copyObject(value);
      for (const name in value) if (Object.hasOwn(value, name)) this.work.copiedEntries++;
    }
    this.owned.add(copy);
    return copy;
  }
}

function requireValue(doc: JsonValue, tokens: readonly string[], member: 'from' | 'path'): JsonValue {
  const lookup = getAt(doc, tokens);
  if (!lookup.found) {
    throw new JsonPointerError('path-not-found', `the "${member}" location does not exist`);
  }
  return lookup.value;
}

function validatePatch(patch: unknown, maxOperations = MAX_JSON_PATCH_OPERATIONS): CheckedOperation[] {
  if (!Array.isArray(patch)) {
    throw new JsonPatchError('invalid-patch', -1, null, null, 'a JSON Patch must be an array of operations');
  }
  if (patch.length > maxOperations) {
    throw new JsonPatchError(
      'too-many-operations',
      -1,
      null,
      null,
      `a JSON Patch may hold at most ${maxOperations} operations, this one has ${patch.length}`,
    );
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
