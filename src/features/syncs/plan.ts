import type { Queryable } from '../../db/database.ts';
import type { Collection } from '../collections/collections.service.ts';
import type { SyncCounts, SyncMode } from './apply.ts';
import * as sql from './plan.sql.ts';
import type { StagedFeed } from './staging.ts';

/** What the staged feed would do: the run's counts and the sizes the writes need, read before any write. */
export type StagedPlan = {
  counts: SyncCounts;
  /** Changed records that carry overrides (merged in JS). */
  toMerge: number;
  /** Changed records in all, merged or not. */
  changed: number;
  /** Staged rows with no stored record yet. */
  created: number;
  tombstoned: number;
  /** Full mode: records newly gone upstream. */
  gone: number;
  /** Full mode, policy delete: the live records gone upstream, to delete. */
  goneDeletes: number;
  timings: { planMs: number };
};

/**
 * The counting queries over what stageFeed left (changed rows in sync_feed, gone ids in sync_gone; new
 * ids are already in records). Outside a dry run the changed records are locked for the writes.
 */
export async function planStaged(
  tx: Queryable,
  input: { tenantId: string; collection: Collection; mode: SyncMode; dryRun: boolean; staged: StagedFeed },
): Promise<StagedPlan> {
  const started = performance.now();
  const { tenantId, collection, dryRun, staged } = input;
  const cid = collection.id;
  const full = input.mode === 'full';
  const [feedPlan] = await tx.query<{
    upserts: number;
    matched: number;
    changed: number;
    revived: number;
    to_merge: number;
    tombstoned: number;
  }>(sql.planFeed(tenantId, cid, !dryRun));
  const gone = full
    ? (await tx.query<{ gone: number; live_gone: number }>(sql.planGone(tenantId, cid)))[0]!
    : { gone: 0, live_gone: 0 };
  const p = { ...feedPlan!, created: feedPlan!.upserts - feedPlan!.matched };
  const goneDeletes = full && collection.deletePolicy === 'delete' ? gone.live_gone : 0;
  const counts: SyncCounts = {
    created: staged.inserted + p.created + p.revived,
    updated: p.changed - p.revived,
    unchanged: staged.unchanged + p.upserts - p.created - p.changed,
    deleted: p.tombstoned + goneDeletes,
    conflicts: 0,
    revived: p.revived,
    overridesRetired: 0,
    rows: staged.rows,
  };
  return {
    counts,
    toMerge: p.to_merge,
    changed: p.changed,
    created: p.created,
    tombstoned: p.tombstoned,
    gone: gone.gone,
    goneDeletes,
    timings: { planMs: Math.round(performance.now() - started) },
  };
}
