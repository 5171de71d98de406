// Field-level differences between two versions of a record, for history entries ("what changed").
import { jsonEqual } from './equal.ts';
import { appendPointer } from './pointer.ts';
import { isJsonObject, type JsonObject, type JsonValue } from './types.ts';

/**
 * One changed field. `path` is a JSON Pointer to an object member (`''` for the whole record);
 * `from` is present for remove/replace, `to` for add/replace.
 */
export type FieldChange = {
  path: string;
  op: 'add' | 'remove' | 'replace';
  from?: JsonValue;
  to?: JsonValue;
};

/**
 * The field changes that turn `before` into `after`. Recurses into objects only: an array is one
 * atomic value, so a changed array is a single `replace`. `null` stands for "no record": a create or
 * delete is one change at path `''`. Changes are listed in key order (sorted at each level), so the
 * same logical change gives the same list whatever the members' order.
 *
 * @example diffFields({ a: 1, s: { t: 1 } }, { a: 2, s: { t: 1, u: 3 } })
 *   // [{ path: '/a', op: 'replace', from: 1, to: 2 }, { path: '/s/u', op: 'add', to: 3 }]
 * @example diffFields(null, { a: 1 }) // [{ path: '', op: 'add', to: { a: 1 } }]
 */
export function diffFields(before: JsonObject | null, after: JsonObject | null): FieldChange[] {
  if (before === null && after === null) return [];
  if (before === null) return [{ path: '', op: 'add', to: after as JsonObject }];
  if (after === null) return [{ path: '', op: 'remove', from: before }];
  const changes: FieldChange[] = [];
  diffObjects(before, after, '', changes);
  return changes;
}

function diffObjects(before: JsonObject, after: JsonObject, pointer: string, changes: FieldChange[]): void {
  for (const key of unionOfKeys(before, after)) {
    const path = appendPointer(pointer, key);
    const inBefore = Object.hasOwn(before, key);
    const inAfter = Object.hasOwn(after, key);
    if (!inAfter) {
      changes.push({ path, op: 'remove', from: before[key] as JsonValue });
    } else if (!inBefore) {
      changes.push({ path, op: 'add', to: after[key] as JsonValue });
    } else {
      const from = before[key] as JsonValue;
      const to = after[key] as JsonValue;
      if (isJsonObject(from) && isJsonObject(to)) diffObjects(from, to, path, changes);
      else if (!jsonEqual(from, to)) changes.push({ path, op: 'replace', from, to });
    }
  }
}

/**
 * The own keys of both objects, each once, sorted (by UTF-16 code units, like Array#sort).
 *
 * @example unionOfKeys({ b: 1, a: 1 }, { c: 1, a: 2 }) // ['a', 'b', 'c']
 */
export function unionOfKeys(a: JsonObject, b: JsonObject): string[] {
  const keys = Object.keys(a);
  for (const key of Object.keys(b)) if (!Object.hasOwn(a, key)) keys.push(key);
  return keys.sort();
}
