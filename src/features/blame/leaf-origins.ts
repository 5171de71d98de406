// Blame, the pure half: for every leaf of a record's effective value, the oldest version of an
// unbroken run, counted back from now, in which the leaf had its present value — the version that set
// it. No I/O; blame.service.ts reads the versions.
import { jsonEqual } from '../../json/equal.ts';
import { escapePointerToken } from '../../json/pointer.ts';
import { getOwn, isJsonObject, type JsonObject, type JsonValue } from '../../json/types.ts';

/** A leaf: a value that is not an object (arrays are one leaf, as overrides treat them), by pointer. */
export function leavesOf(value: JsonObject): Map<string, JsonValue> {
  const leaves = new Map<string, JsonValue>();
  const walk = (node: JsonObject, at: string) => {
    for (const key of Object.keys(node)) {
      const member = getOwn(node, key) as JsonValue;
      const path = `${at}/${escapePointerToken(key)}`;
      if (isJsonObject(member) && Object.keys(member).length > 0) walk(member, path);
      else leaves.set(path, member);
    }
  };
  walk(value, '');
  return leaves;
}

function valueAt(value: JsonObject | null, path: string): { found: boolean; value?: JsonValue } {
  if (value === null) return { found: false };
  let node: JsonValue = value;
  for (const raw of path.split('/').slice(1)) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isJsonObject(node)) return { found: false };
    const next = getOwn(node, token);
    if (next === undefined) return { found: false };
    node = next;
  }
  return { found: true, value: node };
}

/**
 * For each leaf of `versions[0].data` (the present), the index in `versions` (newest first) of the
 * version that set it: walking back, the last version before the leaf's value differs or is missing.
 * `complete` is false for a leaf that had its value in the oldest version given (history cut short).
 *
 * @example leafOrigins([{ data: { a: 1, b: 2 } }, { data: { a: 1, b: 1 } }, { data: { a: 0 } }])
 *   // Map { '/a' => { index: 1, complete: true }, '/b' => { index: 0, complete: true } }
 */
export function leafOrigins(
  versions: readonly { data: JsonObject | null }[],
): Map<string, { value: JsonValue; index: number; complete: boolean }> {
  const present = versions[0]?.data;
  const out = new Map<string, { value: JsonValue; index: number; complete: boolean }>();
  if (!present) return out;
  for (const [path, value] of leavesOf(present)) {
    let index = 0;
    let complete = false;
    for (let i = 1; i < versions.length; i++) {
      const then = valueAt(versions[i]!.data, path);
      if (!then.found || !jsonEqual(then.value as JsonValue, value)) {
        complete = true;
        break;
      }
      index = i;
    }
    out.set(path, { value, index, complete });
  }
  return out;
}
