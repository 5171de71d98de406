// The revert of one run for one record written again after the run: field by field, a three-way
// choice between the state before the run (B), the state the run left (A) and the state now (N).
// Pure: no database. Records nobody wrote after the run are reverted whole, in SQL (revert.sql.ts).
import {
  addAt,
  applyOverrides,
  diffFields,
  getAt,
  type JsonObject,
  type JsonValue,
  jsonEqual,
  type OverrideSet,
  parsePointer,
  removeAt,
} from '../../json/index.ts';
import { type SourceParts, storedParts } from '../../sync/merge-sources.ts';

/** A stored version of a record, as records and record_versions hold it. */
export type StoredState = {
  source: JsonObject | null;
  source_hash: string | null;
  upstream_gone: boolean;
  overrides: OverrideSet;
  manual_delete: unknown;
  /** The effective value; null = deleted; `true` = the source value. */
  data: JsonObject | true | null;
  /** Each named source's part (docs/sources.md); null: one part, `default`, the source itself. */
  source_parts: SourceParts | null;
};

export type RecordRevert = {
  /** The state to write, or null when nothing changes. */
  write: StoredState | null;
  /** Pointers of the effective value the run changed and that stay as they are now ('' = the record). */
  kept: string[];
};

/** What the site sees of a stored state (null: deleted or not existing). */
export function effectiveOf(state: StoredState | null): JsonObject | null {
  if (state === null || state.data === null) return null;
  return state.data === true ? state.source : state.data;
}

/**
 * Undoes what the run did (A → back to B) where the record still shows what the run left, and keeps
 * what a later change rewrote. `before` null: the run created the record.
 *
 * @example
 *   // the run set price 5 → 6 and name a → b; later someone set the name to c by hand:
 *   revertRecord(B {price 5, name a}, A {price 6, name b}, N {price 6, name c})
 *   // → write {price 5, name c}, kept ['/name']
 */
export function revertRecord(before: StoredState | null, after: StoredState, now: StoredState): RecordRevert {
  const eB = effectiveOf(before);
  const eA = effectiveOf(after);
  if (before === null) {
    // Made by the run: it goes only if nothing wrote it since; otherwise the later writes keep it.
    if (!sameContent(now, after)) return { write: null, kept: [''] };
    return { write: NOT_EXISTING, kept: [] };
  }
  const source = revertValue(after.source, now.source, before.source);
  const overrides = revertOverrides(after.overrides, now.overrides, before.overrides);
  const upstreamGone = now.upstream_gone === after.upstream_gone ? before.upstream_gone : now.upstream_gone;
  const deletedA = eA === null;
  const deletedN = effectiveOf(now) === null;
  const deleted = now.manual_delete != null || (deletedN === deletedA ? eB === null : deletedN);
  const data: StoredState['data'] = deleted
    ? null
    : Object.keys(overrides).length === 0 && source !== null
      ? true
      : applyOverrides(source, overrides);
  const sourceHash = jsonEqual(source, before.source)
    ? before.source_hash
    : jsonEqual(source, now.source)
      ? now.source_hash
      : null;
  const next: StoredState = {
    source,
    source_hash: sourceHash,
    upstream_gone: upstreamGone,
    overrides,
    manual_delete: now.manual_delete,
    data,
    source_parts: revertParts(after, now, before),
  };
  const eNext = effectiveOf(next);
  const kept: string[] = [];
  for (const change of diffFields(eB, eA)) {
    if (!sameAt(eNext, eB, change.path)) kept.push(change.path);
  }
  return { write: sameContent(next, now) ? null : next, kept };
}

/** A row that holds nothing: how a restore, and a revert, undo a record's creation. */
const NOT_EXISTING: StoredState = {
  source: null,
  source_hash: null,
  upstream_gone: false,
  overrides: {},
  manual_delete: null,
  data: null,
  source_parts: null,
};

/**
 * The per-source parts, source by source: a part the record still has as the run left it goes back
 * whole (with its hash); one rewritten since is reverted field by field like the source value, its hash
 * kept only where its value is exactly one side's (else null: the next sync compares it afresh).
 * No parts on any side (one source owning everything) stays null.
 */
function revertParts(base: StoredState, now: StoredState, target: StoredState): SourceParts | null {
  if (base.source_parts === null && now.source_parts === null && target.source_parts === null) return null;
  const [a, n, b] = [storedParts(base), storedParts(now), storedParts(target)];
  const result: SourceParts = { ...n };
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const inA = Object.hasOwn(a, name) ? a[name] : undefined;
    const inB = Object.hasOwn(b, name) ? b[name] : undefined;
    const inN = Object.hasOwn(n, name) ? n[name] : undefined;
    if (jsonEqual((inA ?? null) as JsonValue, (inB ?? null) as JsonValue)) continue;
    if (jsonEqual((inN ?? null) as JsonValue, (inA ?? null) as JsonValue)) {
      if (inB === undefined) delete result[name];
      else result[name] = inB;
      continue;
    }
    if (!inA || !inB || !inN) continue; // added or dropped on one side, rewritten since: it stays
    const v = revertValue(inA.v, inN.v, inB.v) ?? inN.v;
    const h = jsonEqual(v, inB.v) ? inB.h : jsonEqual(v, inN.v) ? inN.h : null;
    result[name] = { h, v };
  }
  // Back to exactly what a side stored as "no parts": stored as it was.
  if (target.source_parts === null && jsonEqual(result as JsonValue, b as JsonValue)) return null;
  if (now.source_parts === null && jsonEqual(result as JsonValue, n as JsonValue)) return null;
  return result;
}

/**
 * `now` with each change that turns `base` into `target` applied where `now` still equals `base` at
 * that field. Null on any side (no source: made by hand, or not existing) is one whole value.
 */
function revertValue(
  base: JsonObject | null,
  now: JsonObject | null,
  target: JsonObject | null,
): JsonObject | null {
  if (base === null || now === null || target === null) return jsonEqual(now, base) ? target : now;
  let result: JsonValue = now;
  for (const change of diffFields(base, target)) {
    const tokens = parsePointer(change.path);
    if (!sameLookup(getAt(now, tokens), getAt(base, tokens))) continue;
    try {
      result = change.op === 'remove' ? removeAt(result, tokens) : addAt(result, tokens, change.to!);
    } catch {
      // The field's parent is gone from the current value: a later change rewrote it, so it stays.
    }
  }
  return result as JsonObject;
}

function revertOverrides(base: OverrideSet, now: OverrideSet, target: OverrideSet): OverrideSet {
  const result: OverrideSet = { ...now };
  for (const path of new Set([...Object.keys(base), ...Object.keys(target)])) {
    const inBase = base[path];
    const inTarget = target[path];
    if (jsonEqual(inBase ?? null, inTarget ?? null)) continue;
    if (!jsonEqual(now[path] ?? null, inBase ?? null)) continue;
    if (inTarget === undefined) delete result[path];
    else result[path] = inTarget;
  }
  return result;
}

function sameAt(a: JsonObject | null, b: JsonObject | null, path: string): boolean {
  if (path === '') return jsonEqual(a, b);
  if (a === null || b === null) return a === b;
  const tokens = parsePointer(path);
  return sameLookup(getAt(a, tokens), getAt(b, tokens));
}

function sameLookup(a: ReturnType<typeof getAt>, b: ReturnType<typeof getAt>): boolean {
  if (!a.found || !b.found) return a.found === b.found;
  return jsonEqual(a.value, b.value);
}

/** Same stored content (the version aside); the `true` marker compared by what it stands for. */
export function sameContent(a: StoredState, b: StoredState): boolean {
  return (
    jsonEqual(a.source, b.source) &&
    a.upstream_gone === b.upstream_gone &&
    jsonEqual(a.overrides, b.overrides) &&
    jsonEqual((a.manual_delete ?? null) as JsonValue, (b.manual_delete ?? null) as JsonValue) &&
    jsonEqual(effectiveOf(a), effectiveOf(b)) &&
    jsonEqual((a.source_parts ?? null) as JsonValue, (b.source_parts ?? null) as JsonValue)
  );
}
