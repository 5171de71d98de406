// The pure half of a sync: what one record becomes when a new source value arrives. No I/O; the apply
// step (src/features/syncs/apply.ts) feeds it the stored row and writes back what it returns.
import {
  applyOverrides,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  type OverrideConflict,
  type OverrideSet,
  rebaseOverrides,
  takeSource,
} from '../json/index.ts';

export type ConflictPolicy = 'keep-manual' | 'take-source';
/** A collection's setting: one policy, or a map from JSON Pointer to policy. */
export type ConflictPolicySetting = ConflictPolicy | Record<string, ConflictPolicy>;

/**
 * The policy for a path: the setting itself, or the map's entry with the longest pointer that is the
 * path or a parent of it ("/" and "" match every path); keep-manual when none matches.
 *
 * @example policyAt({ '/price': 'take-source', '/': 'keep-manual' }, '/price') // 'take-source'
 * @example policyAt({ '/price': 'take-source', '/': 'keep-manual' }, '/prices') // 'keep-manual'
 */
export function policyAt(setting: ConflictPolicySetting, path: string): ConflictPolicy {
  if (typeof setting === 'string') return setting;
  let best: ConflictPolicy = 'keep-manual';
  let bestLength = -1;
  for (const [pointer, policy] of Object.entries(setting)) {
    const prefix = pointer === '/' ? '' : pointer;
    const matches = path === prefix || path.startsWith(`${prefix}/`);
    if (matches && prefix.length > bestLength) {
      best = policy;
      bestLength = prefix.length;
    }
  }
  return best;
}

/** The stored state of a record that the merge needs. */
export type StoredRecord = {
  source: JsonObject | null;
  overrides: OverrideSet;
  manualDelete: unknown;
};

/** A conflict to record: `status: 'open'` under keep-manual, `'resolved'` (take-source) otherwise. */
export type MergeConflict = {
  path: string;
  manualValue: JsonValue | null;
  sourceValue: JsonValue | null;
  previousSourceValue: JsonValue | null;
  status: 'open' | 'resolved';
  /** False when upstream did not move in this sync: an earlier conflict on this path still stands. */
  changedInThisSync: boolean;
};

export type MergeResult = {
  source: JsonObject;
  overrides: OverrideSet;
  /** The effective value; null while a manual delete stands. */
  data: JsonObject | null;
  conflicts: MergeConflict[];
  /** Overrides that upstream caught up with: dropped, and their open conflicts close. */
  retired: string[];
};

/**
 * A record's new state after the feed delivered `newSource`: overrides rebased onto it (retired where
 * upstream now equals the manual value), conflicts per `policy` — keep-manual keeps the override and
 * opens a conflict, take-source drops the override and records a resolved conflict — and the effective
 * value recomputed. A manual delete keeps the effective value null.
 *
 * @example
 * mergeRecord({ source: { id: 1, p: 5 }, overrides: { '/p': { value: 4, by: null, at: 't', sourceValue: 5 } },
 *   manualDelete: null }, { id: 1, p: 6 }, 'keep-manual')
 * // data { id: 1, p: 4 }, one open conflict at /p (manual 4, source 6, previous 5)
 */
export function mergeRecord(
  stored: StoredRecord,
  newSource: JsonObject,
  setting: ConflictPolicySetting,
): MergeResult {
  const rebased = rebaseOverrides(stored.source, newSource, stored.overrides);
  let overrides = rebased.overrides;
  const conflicts = rebased.conflicts.map((conflict) =>
    toMergeConflict(conflict, policyAt(setting, conflict.path)),
  );
  const dropped = conflicts
    .filter((conflict) => conflict.status === 'resolved' && conflict.changedInThisSync)
    .map((conflict) => conflict.path);
  if (dropped.length > 0) overrides = takeSource(overrides, dropped);
  const data = stored.manualDelete ? null : applyOverrides(newSource, overrides);
  return {
    source: newSource,
    overrides,
    data,
    // Under take-source a conflict that did not move in this sync was already settled earlier.
    conflicts: conflicts.filter((conflict) => conflict.status === 'open' || conflict.changedInThisSync),
    retired: rebased.retired,
  };
}

function toMergeConflict(conflict: OverrideConflict, policy: ConflictPolicy): MergeConflict {
  return {
    path: conflict.path,
    manualValue: conflict.manualRemoved ? null : (conflict.manualValue ?? null),
    sourceValue: conflict.sourceMissing ? null : (conflict.sourceValue ?? null),
    previousSourceValue: conflict.previousSourceMissing ? null : (conflict.previousSourceValue ?? null),
    status: policy === 'take-source' ? 'resolved' : 'open',
    changedInThisSync: conflict.changedInThisSync,
  };
}

/**
 * True for a feed record `{ "id": …, "_deleted": true }`, as parsed: an explicit removal. Decided on
 * the parsed value, which the feed reader has anyway, so a member name spelled with \u escapes or
 * given twice reads as JSON.parse reads it.
 *
 * @example isTombstone({ id: 'x', _deleted: true }) // true
 * @example isTombstone({ id: 'x', _deleted: false }) // false
 */
export function isTombstone(value: unknown): boolean {
  return isJsonObject(value) && Object.hasOwn(value, '_deleted') && value._deleted === true;
}
