import { copyRow } from '../../db/copy/copy-text.ts';
import type { Queryable } from '../../db/database.ts';
import { asOwner } from '../../db/tenant-scope.ts';
import type { JsonObject, OverrideSet } from '../../json/index.ts';
import { once } from '../../lib/once.ts';
import { type MergeConflict, mergeRecord } from '../../sync/merge.ts';
import type { Collection } from '../collections/collections.service.ts';
import * as sql from './apply.sql.ts';
import { checkGuards, type GuardCheck } from './check-guards.ts';
import type { GuardReason } from './guards.ts';
import { samplePlan } from './plan.sql.ts';
import { planStaged, type StagedPlan } from './plan.ts';
import type { StagedFeed } from './staging.ts';

export { deleteGuard } from './check-guards.ts';

export type SyncMode = 'full' | 'partial';

export type SyncCounts = {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  conflicts: number;
  /** Part of `created`: records that came back after being deleted as gone upstream. */
  revived: number;
  /** Overrides that retired themselves because upstream now has the manual value. */
  overridesRetired: number;
  /** Rows in the feed. */
  rows: number;
  /** Rows the collection's schema refused, left out (invalidRecords=skip). */
  skipped?: number;
};

export type SyncPlan = { create: string[]; update: string[]; delete: string[] };

export type ApplyResult = {
  counts: SyncCounts;
  plan: SyncPlan | null;
  /** Set when applying would trip the delete guard (dry runs report it instead of refusing). */
  guard: string | null;
  /** The guards this run trips (unless forced): it is held, nothing written (docs/run-safety.md). */
  held: GuardReason[];
  snapshotId: string | null;
  changeId: string | null;
  timings: Record<string, number>;
};

const MERGE_PAGE = 2000;
const PLAN_SAMPLE = 20;

/** What applyStaged and applyPlan are given: the run, its collection and what its feed staged. */
export type ApplyInput = {
  tenantId: string;
  runId: string;
  collection: Collection;
  mode: SyncMode;
  dryRun: boolean;
  force: boolean;
  staged: StagedFeed;
  /** Taken by the caller before the feed was staged (null in a dry run). */
  snapshotId: string | null;
  changeId: string | null;
};

/**
 * The set-based apply of what stageFeed left, inside the run's transaction and under the collection's
 * lock: plan with counting queries over the small staging tables, check the guards, then write.
 */
export async function applyStaged(tx: Queryable, input: ApplyInput): Promise<ApplyResult> {
  const plan = await planStaged(tx, input);
  const guards = await checkGuards(tx, input, plan);
  return applyPlan(tx, input, plan, guards);
}

/**
 * The writes of a plan whose guards were checked. A run that trips a guard writes nothing and returns
 * a sample of its plan (it is held); otherwise the few changed records that carry overrides are merged
 * in JS, then one statement per kind of write. Every written row gets version + 1 and the run's change
 * id; the history trigger keeps the old rows.
 */
export async function applyPlan(
  tx: Queryable,
  input: ApplyInput,
  plan: StagedPlan,
  { guard, held }: GuardCheck,
): Promise<ApplyResult> {
  const { tenantId, runId, collection, mode, dryRun, staged, snapshotId, changeId } = input;
  const cid = collection.id;
  const full = mode === 'full';
  const counts = { ...plan.counts };
  const timings: Record<string, number> = { ...plan.timings };
  let clock = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - clock);
    clock = now;
  };
  if (held.length > 0 && !dryRun) {
    const [sample] = await tx.query<SyncPlan>(samplePlan(tenantId, cid, full, PLAN_SAMPLE));
    return { counts, plan: sample!, guard, held, snapshotId, changeId, timings };
  }

  if (plan.toMerge > 0) {
    const merged = await mergeOverridden(tx, tenantId, collection, runId, dryRun);
    counts.conflicts = merged.conflicts;
    counts.overridesRetired = merged.retired;
  }
  lap('mergeMs');

  if (!dryRun && changeId) {
    if (plan.toMerge > 0) await tx.query(sql.updateMerged(tenantId, cid, changeId));
    if (plan.changed - plan.toMerge > 0) await tx.query(sql.updatePlain(tenantId, cid, changeId));
    if (plan.created > 0) await tx.query(sql.insertNew(tenantId, cid, changeId));
    if (plan.tombstoned > 0) await tx.query(sql.deleteTombstoned(tenantId, cid, changeId));
    if (plan.goneDeletes > 0) await tx.query(sql.deleteGone(tenantId, cid, changeId));
    // After deleteGone (which sets the flag on what it deletes): the rest of the newly gone.
    const marked = plan.gone > 0 ? (await tx.query(sql.markGone(tenantId, cid, changeId))).length : 0;
    // Statistics after growth: without them the planner takes a collection for one row, and joins
    // that go through every record once per staged row cost O(n²).
    const grown = staged.inserted + plan.created;
    if (grown >= 100 && grown > staged.live / 5) {
      await asOwner(tx, async () => {
        await tx.query(sql.sampleStatisticsLightly);
        await tx.query(sql.analyzeRecords);
      });
    }
    const written = counts.created + counts.updated + counts.deleted;
    if (written > 0 || marked > 0) await tx.query(sql.insertChange(tenantId, changeId, runId));
  }
  lap('writeMs');

  let sampled: SyncPlan | null = null;
  if (dryRun) {
    const [sample] = await tx.query<SyncPlan>(samplePlan(tenantId, cid, full, PLAN_SAMPLE));
    sampled = sample!;
  }
  return { counts, plan: sampled, guard, held, snapshotId, changeId, timings };
}

type MergeRow = {
  record_id: string;
  source: JsonObject | null;
  overrides: OverrideSet;
  manual_delete: unknown;
  doc: string;
};

/**
 * The changed records that carry overrides, page by page: rebase each in JS, stage the results in
 * sync_merged (written by one UPDATE later) and record conflicts. These rows are few; the rest of the
 * feed never leaves the database.
 */
async function mergeOverridden(
  tx: Queryable,
  tenantId: string,
  collection: Collection,
  runId: string,
  dryRun: boolean,
): Promise<{ conflicts: number; retired: number }> {
  if (!dryRun) await tx.query(sql.createMergeStaging);
  let conflicts = 0;
  let retired = 0;
  let after: string | null = null;
  for (;;) {
    const rows: MergeRow[] = await tx.query<MergeRow>(
      sql.selectToMerge(tenantId, collection.id, after, MERGE_PAGE),
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.record_id;
    const lines: string[] = [];
    const found: (MergeConflict & { record_id: string })[] = [];
    const settled: { record_id: string; path: string }[] = [];
    for (const row of rows) {
      const result = mergeRecord(
        { source: row.source, overrides: row.overrides, manualDelete: row.manual_delete },
        JSON.parse(row.doc) as JsonObject,
        collection.conflictPolicy,
      );
      retired += result.retired.length;
      for (const path of result.retired) settled.push({ record_id: row.record_id, path });
      const stillOpen = new Set<string>();
      for (const conflict of result.conflicts) {
        if (conflict.changedInThisSync) conflicts++;
        found.push({ ...conflict, record_id: row.record_id });
        if (conflict.status === 'resolved') settled.push({ record_id: row.record_id, path: conflict.path });
        else stillOpen.add(conflict.path);
      }
      // An open conflict whose premise went away (upstream came back to the value the override was
      // made against: 5 → 6 → 5) is settled too: the merge no longer reports it.
      for (const path of Object.keys(result.overrides)) {
        if (!stillOpen.has(path)) settled.push({ record_id: row.record_id, path });
      }
      lines.push(
        copyRow([
          row.record_id,
          row.doc,
          JSON.stringify(result.overrides),
          result.data === null ? null : JSON.stringify(result.data),
        ]),
      );
    }
    if (dryRun) continue;
    await asOwner(tx, () => tx.copyFrom(sql.copyMergeStaging, once(lines.join(''))));
    if (settled.length > 0) await tx.query(sql.closeConflicts(tenantId, collection.id, settled));
    const toRecord = found.filter((conflict) => conflict.changedInThisSync || conflict.status === 'open');
    if (toRecord.length > 0) {
      const rowsOut = toRecord.map((conflict) => ({
        record_id: conflict.record_id,
        path: conflict.path,
        manual_value: conflict.manualValue,
        source_value: conflict.sourceValue,
        previous_source_value: conflict.previousSourceValue,
        status: conflict.status,
      }));
      await tx.query(sql.upsertConflicts(tenantId, collection.id, runId, rowsOut));
    }
  }
  return { conflicts, retired };
}
