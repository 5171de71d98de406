/** JSON helpers of the console: pointers, leaves of a record, and the JSON Patch between two states. */

export type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Every leaf of an object by JSON Pointer; arrays and empty objects are leaves (arrays are atomic). */
export function leaves(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (isObject(value) && (Object.keys(value).length > 0 || prefix === '')) {
    for (const [key, child] of Object.entries(value)) leaves(child, `${prefix}/${escapePointer(key)}`, out);
  } else if (prefix !== '') {
    out.set(prefix, value);
  }
  return out;
}

export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => equal(item, other[i]));
  }
  const left = a as JsonObject;
  const right = b as JsonObject;
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => key in right && equal(left[key], right[key]))
  );
}

export type PatchOperation =
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** The RFC 6902 operations that turn `from` into `to`, member by member (arrays replaced whole). */
export function diffPatch(from: JsonObject, to: JsonObject, prefix = ''): PatchOperation[] {
  const ops: PatchOperation[] = [];
  for (const key of Object.keys(from)) {
    if (!(key in to)) ops.push({ op: 'remove', path: `${prefix}/${escapePointer(key)}` });
  }
  for (const [key, value] of Object.entries(to)) {
    const path = `${prefix}/${escapePointer(key)}`;
    if (!(key in from)) ops.push({ op: 'add', path, value });
    else if (isObject(from[key]) && isObject(value))
      ops.push(...diffPatch(from[key] as JsonObject, value, path));
    else if (!equal(from[key], value)) ops.push({ op: 'replace', path, value });
  }
  return ops;
}

/** The field changes between two states, for showing what changed meanwhile. */
export function fieldChanges(
  from: JsonObject | null,
  to: JsonObject | null,
): { path: string; from: unknown; to: unknown }[] {
  const before = leaves(from ?? {});
  const after = leaves(to ?? {});
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths]
    .filter((path) => !equal(before.get(path), after.get(path)))
    .sort()
    .map((path) => ({ path, from: before.get(path), to: after.get(path) }));
}

/** True when `path` is `ancestor` or inside it (`/seo/title` is inside `/seo`). */
export function within(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}
