// Manual edits as overrides: a set of JSON Pointer → value (or removal) laid over the source value.
// This is the core of "never lose a hand edit": the records API computes overrides from what a person
// wants (overridesFor), every read applies them (applyOverrides), and every sync rebases them onto the
// new source value (rebaseOverrides).
//
// Override pointers address object members only (arrays are atomic values), and never the whole record:
// a manual delete of a record is kept outside the override set, by the records layer.
import { jsonEqual } from './equal.ts';
import { appendPointer, type JsonLookup, JsonPointerError, parsePointer } from './pointer.ts';
import { copyObject, getOwn, isJsonObject, type JsonObject, type JsonValue, setOwn } from './types.ts';

/**
 * One manual change at a pointer: `value` for a field set by hand, `removed: true` for a field deleted
 * by hand. `sourceValue` / `sourceMissing` record what the source had at that path when the override
 * was made; rebaseOverrides compares against it to tell whether upstream moved since.
 */
export type Override = {
  value?: JsonValue;
  removed?: true;
  by: string | null;
  at: string;
  sourceValue?: JsonValue;
  sourceMissing?: true;
};

/** Overrides of one record, keyed by JSON Pointer (`/price`, `/seo/title`). */
export type OverrideSet = Record<string, Override>;

/**
 * Upstream changed a field that has an override. Values that do not exist are flagged instead of
 * given: `manualRemoved` (the field was deleted by hand), `sourceMissing` (the new source lacks it),
 * `previousSourceMissing` (the source lacked it when the override was made).
 */
export type OverrideConflict = {
  path: string;
  manualValue?: JsonValue;
  manualRemoved?: true;
  sourceValue?: JsonValue;
  sourceMissing?: true;
  previousSourceValue?: JsonValue;
  previousSourceMissing?: true;
  /** False when this sync left the field alone and the conflict only persists from an earlier one. */
  changedInThisSync: boolean;
};

export type RebaseResult = { overrides: OverrideSet; conflicts: OverrideConflict[]; retired: string[] };

const MISSING: JsonLookup = { found: false, value: undefined };

/**
 * The effective value: `source` (or `{}` for a record made by hand) with every override applied at its
 * pointer, parents before children (shorter pointers first, then lexicographic). Missing intermediate
 * objects are created; an intermediate that is not an object in the source (a scalar or an array) is
 * REPLACED by an object, because the override is the newer, explicit intent for that subtree. A
 * `removed` override whose field is already absent changes nothing. Inputs are not mutated.
 *
 * @example applyOverrides({ price: 5, seo: { a: 1 } }, { '/price': { value: 4, by: null, at: 't' } })
 *   // { price: 4, seo: { a: 1 } }
 * @example applyOverrides(null, { '/name': { value: 'x', by: 'k1', at: 't' } }) // { name: 'x' }
 */
export function applyOverrides(source: JsonObject | null, overrides: OverrideSet): JsonObject {
  const paths = sortedPaths(overrides);
  if (paths.length === 0) return source ?? {};
  // Objects copied during this call are edited in place; everything else is copied on first write.
  const copies = new Set<JsonObject>();
  const writable = (obj: JsonObject): JsonObject => {
    if (copies.has(obj)) return obj;
    const copy = copyObject(obj);
    copies.add(copy);
    return copy;
  };
  const root = writable(source ?? {});
  for (const path of paths) {
    const override = overrides[path] as Override;
    const tokens = memberTokens(path);
    const last = tokens.length - 1;
    let parent = root;
    for (let i = 0; i < last; i++) {
      const token = tokens[i] as string;
      const child = getOwn(parent, token);
      if (override.removed && !isJsonObject(child)) break;
      const next = isJsonObject(child) ? writable(child) : writable({});
      setOwn(parent, token, next);
      parent = next;
    }
    const key = tokens[last] as string;
    if (override.removed) {
      if (memberAt(root, tokens).found) Reflect.deleteProperty(parent, key);
    } else if (override.value !== undefined) {
      setOwn(parent, key, override.value);
    } else {
      throw new JsonPointerError('path-not-found', `override at ${path} has neither "value" nor "removed"`);
    }
  }
  return root;
}

/**
 * The minimal override set that turns `source` into `desired` (after a PUT or PATCH), i.e.
 * `applyOverrides(source, result)` deep-equals `desired`. Recurses into objects present on both sides;
 * anywhere else that differs becomes one override. An override of `previous` with the same path and the
 * same change is kept as it was (its `by`, `at` and `sourceValue`), so editing one field does not
 * rewrite who made the others; new or changed ones get `by`/`at` and the source's current value at that
 * path. With `source` null (a record made by hand) each top-level member is one override.
 *
 * @example overridesFor({ a: 1, b: 2 }, { a: 1, b: 3 }, {}, 'key1', '2024-01-01T00:00:00Z')
 *   // { '/b': { value: 3, by: 'key1', at: '2024-01-01T00:00:00Z', sourceValue: 2 } }
 */
export function overridesFor(
  source: JsonObject | null,
  desired: JsonObject,
  previous: OverrideSet,
  by: string | null,
  at: string,
): OverrideSet {
  const result: OverrideSet = {};
  const record = (path: string, manual: JsonValue | undefined, sourceValue: JsonValue | undefined): void => {
    const before = Object.hasOwn(previous, path) ? previous[path] : undefined;
    if (before !== undefined && isSameChange(before, manual)) {
      result[path] = before;
      return;
    }
    const override: Override = manual === undefined ? { removed: true, by, at } : { value: manual, by, at };
    if (sourceValue === undefined) override.sourceMissing = true;
    else override.sourceValue = sourceValue;
    result[path] = override;
  };
  const compare = (from: JsonObject, to: JsonObject, pointer: string): void => {
    for (const key in from) {
      if (Object.hasOwn(from, key) && !Object.hasOwn(to, key)) {
        record(appendPointer(pointer, key), undefined, from[key]);
      }
    }
    for (const key in to) {
      if (!Object.hasOwn(to, key)) continue;
      const want = to[key] as JsonValue;
      const have = getOwn(from, key);
      if (isJsonObject(have) && isJsonObject(want)) compare(have, want, appendPointer(pointer, key));
      else if (have === undefined || !jsonEqual(have, want)) record(appendPointer(pointer, key), want, have);
    }
  };
  // A hand-made record has no source to recurse into: compare against {} gives one override per member.
  compare(source ?? {}, desired, '');
  return result;
}

/**
 * Carries overrides over a source change (a sync). For each override: retired when the new source now
 * has exactly the manual state (same value, or absent for a removal); otherwise a conflict when the
 * source at its path differs from what it was when the override was made (`sourceValue` /
 * `sourceMissing`; `oldSource` stands in only for overrides stored without them); the override itself is
 * kept either way, the caller applies the collection's policy. Unaffected overrides are kept as they are.
 *
 * @example rebaseOverrides({ p: 5 }, { p: 4 }, { '/p': { value: 4, by: null, at: 't', sourceValue: 5 } })
 *   // { overrides: {}, conflicts: [], retired: ['/p'] }
 */
export function rebaseOverrides(
  oldSource: JsonObject | null,
  newSource: JsonObject | null,
  overrides: OverrideSet,
): RebaseResult {
  const kept: OverrideSet = {};
  const conflicts: OverrideConflict[] = [];
  const retired: string[] = [];
  for (const path of sortedPaths(overrides)) {
    const override = overrides[path] as Override;
    const tokens = memberTokens(path);
    const now = memberAt(newSource, tokens);
    const settled = override.removed
      ? !now.found
      : now.found && override.value !== undefined && jsonEqual(now.value, override.value);
    if (settled) {
      retired.push(path);
      continue;
    }
    kept[path] = override;
    const before = memberAt(oldSource, tokens);
    const baseline = override.sourceMissing
      ? MISSING
      : override.sourceValue !== undefined
        ? ({ found: true, value: override.sourceValue } as const)
        : before;
    if (!sameLookup(baseline, now)) {
      const conflict: OverrideConflict = { path, changedInThisSync: !sameLookup(before, now) };
      if (override.removed) conflict.manualRemoved = true;
      else conflict.manualValue = override.value as JsonValue;
      if (now.found) conflict.sourceValue = now.value;
      else conflict.sourceMissing = true;
      if (baseline.found) conflict.previousSourceValue = baseline.value;
      else conflict.previousSourceMissing = true;
      conflicts.push(conflict);
    }
  }
  return { overrides: kept, conflicts, retired };
}

/**
 * The override set without the overrides at `paths`: the source value shows through again there. Used
 * for the take-source policy, resolving a conflict with take-source, and reverting an override.
 *
 * @example takeSource({ '/a': a, '/b': b }, ['/a']) // { '/b': b }
 */
export function takeSource(overrides: OverrideSet, paths: Iterable<string>): OverrideSet {
  const drop = new Set(paths);
  const result: OverrideSet = {};
  for (const path of Object.keys(overrides)) {
    if (!drop.has(path)) result[path] = overrides[path] as Override;
  }
  return result;
}

/**
 * The override set with the overrides at `paths` re-based on `currentSource`: their `sourceValue` /
 * `sourceMissing` become what the source has now, so the next sync reports a conflict only if upstream
 * moves again. Used when a person resolves a conflict with keep-manual.
 *
 * @example keepManual({ '/p': { value: 4, by: null, at: 't', sourceValue: 5 } }, ['/p'], { p: 6 })
 *   // { '/p': { value: 4, by: null, at: 't', sourceValue: 6 } }
 */
export function keepManual(
  overrides: OverrideSet,
  paths: Iterable<string>,
  currentSource: JsonObject | null,
): OverrideSet {
  const result: OverrideSet = { ...overrides };
  for (const path of paths) {
    const override = Object.hasOwn(overrides, path) ? overrides[path] : undefined;
    if (override === undefined) continue;
    const { sourceValue: _value, sourceMissing: _missing, ...rest } = override;
    const now = memberAt(currentSource, memberTokens(path));
    result[path] = now.found ? { ...rest, sourceValue: now.value } : { ...rest, sourceMissing: true };
  }
  return result;
}

/**
 * The value at an override pointer, descending through objects only (arrays are atomic values, so
 * `/tags/0` never finds an element). Own members only.
 *
 * @example memberAt({ seo: { title: 't' } }, ['seo', 'title']) // { found: true, value: 't' }
 */
export function memberAt(value: JsonValue | null, tokens: readonly string[]): JsonLookup {
  let current: JsonValue | undefined = value;
  for (const token of tokens) {
    if (!isJsonObject(current)) return MISSING;
    current = getOwn(current, token);
    if (current === undefined) return MISSING;
  }
  return { found: true, value: current as JsonValue };
}

function isSameChange(override: Override, manual: JsonValue | undefined): boolean {
  if (manual === undefined) return override.removed === true;
  return !override.removed && override.value !== undefined && jsonEqual(override.value, manual);
}

function sameLookup(a: JsonLookup, b: JsonLookup): boolean {
  if (!a.found || !b.found) return a.found === b.found;
  return jsonEqual(a.value, b.value);
}

// Parents before children: fewer tokens first (each token adds one unescaped "/"), then by pointer.
function sortedPaths(overrides: OverrideSet): string[] {
  const depth = (pointer: string): number => {
    let slashes = 0;
    for (let i = 0; i < pointer.length; i++) if (pointer.charCodeAt(i) === 0x2f) slashes++;
    return slashes;
  };
  return Object.keys(overrides).sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function memberTokens(path: string): string[] {
  const tokens = parsePointer(path);
  if (tokens.length === 0) {
    throw new JsonPointerError(
      'malformed-pointer',
      'an override must address a member, not the whole record',
    );
  }
  return tokens;
}
