import type { ApplyResult, SyncCounts, SyncMode, SyncPlan } from './apply.ts';
import type { SyncOrigin, SyncRequest, SyncRunView } from './syncs.service.ts';

/** A sync_runs row as sync-runs.sql.ts reads it. */
export type RunRow = {
  id: string;
  collection: string;
  source_name: string | null;
  mode: SyncMode;
  dry_run: boolean;
  forced: boolean;
  status: SyncRunView['status'];
  counts: Partial<SyncCounts>;
  errors: unknown[];
  timings: Record<string, number>;
  snapshot_id: string | null;
  change_id: string | null;
  origin: SyncOrigin;
  started_at: Date;
  finished_at: Date | null;
  started_key: string;
  hold: { plan?: SyncPlan } | null;
  held_until: Date | null;
  reverts_run_id: string | null;
};

export function toView(row: RunRow): SyncRunView {
  return {
    id: row.id,
    collection: row.collection,
    source: row.source_name,
    mode: row.mode,
    dryRun: row.dry_run,
    forced: row.forced,
    status: row.status,
    counts: row.counts,
    snapshotId: row.snapshot_id,
    changeId: row.change_id,
    errors: row.errors,
    timings: row.timings,
    origin: row.origin,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    ...(row.hold?.plan ? { plan: row.hold.plan } : {}),
    ...(row.held_until ? { heldUntil: row.held_until.toISOString() } : {}),
    ...(row.reverts_run_id ? { revertOf: row.reverts_run_id } : {}),
  };
}

/** The run as it ends, before its row is updated: the answer kept for an Idempotency-Key. */
export function finishedView(
  input: {
    runId: string;
    collection: string;
    request: SyncRequest;
    status: 'succeeded' | 'planned' | 'held';
    applied: ApplyResult;
  },
  started: number,
): SyncRunView {
  const { request, applied } = input;
  const now = new Date();
  const view: SyncRunView = {
    id: input.runId,
    collection: input.collection,
    source: request.source ?? null,
    mode: request.mode,
    dryRun: request.dryRun,
    forced: request.force,
    status: input.status,
    counts: applied.counts,
    snapshotId: applied.snapshotId,
    changeId: applied.changeId,
    errors: guardErrors(applied),
    timings: { ...applied.timings, totalMs: Math.round(performance.now() - started) },
    origin: request.origin,
    startedAt: new Date(now.getTime() - (performance.now() - started)).toISOString(),
    finishedAt: now.toISOString(),
  };
  if (applied.plan) view.plan = applied.plan;
  return view;
}

/** What a dry run reports of the guards the run would trip. */
export function guardErrors(result: ApplyResult): unknown[] {
  if (result.held.length > 0) return result.held;
  return result.guard ? [{ code: 'delete_guard', message: result.guard }] : [];
}
