import type { Statement } from '../../db/database.ts';

// Held runs (docs/run-safety.md): what a held run staged is kept in held_run_rows until it is
// approved (then applied from there), rejected or expired (then deleted).

/** Inside the run's transaction: the staged feed (sync_feed, sync_gone) and the new rows it inserted. */
export function keepStaged(
  tenantId: string,
  collectionId: string,
  runId: string,
  changeId: string,
): Statement {
  return {
    text: `WITH feed AS (
        INSERT INTO held_run_rows (tenant_id, sync_run_id, kind, record_id, row_no, hash, deleted, doc)
        SELECT $1, $3, 'feed', record_id, row_no, hash, deleted, doc FROM sync_feed),
      gone AS (
        INSERT INTO held_run_rows (tenant_id, sync_run_id, kind, record_id)
        SELECT $1, $3, 'gone', record_id FROM sync_gone)
      INSERT INTO held_run_rows (tenant_id, sync_run_id, kind, record_id, hash, doc)
      SELECT $1, $3, 'new', record_id, source_hash, source::text FROM records
      WHERE tenant_id = $1 AND collection_id = $2 AND change_id = $4`,
    values: [tenantId, collectionId, runId, changeId],
  };
}

/**
 * The rows the held run inserted while streaming (its change id, version 1, written in this very
 * transaction): removed again, so the held run leaves the collection as it was. Nothing else carries
 * that change id yet.
 */
export function removeInserted(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `DELETE FROM records WHERE tenant_id = $1 AND collection_id = $2 AND change_id = $3`,
    values: [tenantId, collectionId, changeId],
  };
}

export function deleteSnapshot(tenantId: string, snapshotId: string): Statement {
  return { text: `DELETE FROM snapshots WHERE tenant_id = $1 AND id = $2`, values: [tenantId, snapshotId] };
}

/** The collection's newest change: any later one means the collection changed since the plan. */
export function newestChange(tenantId: string, collectionId: string): Statement {
  return {
    text: `SELECT max(change_id)::text AS change_id FROM records WHERE tenant_id = $1 AND collection_id = $2`,
    values: [tenantId, collectionId],
  };
}

/** A few ids of what the held run would create (its new rows are not in sync_feed). */
export function sampleCreated(tenantId: string, runId: string, limit: number): Statement {
  return {
    text: `SELECT ARRAY(SELECT record_id FROM held_run_rows WHERE tenant_id = $1 AND sync_run_id = $2 AND kind = 'new'
      ORDER BY record_id LIMIT $3) AS ids`,
    values: [tenantId, runId, limit],
  };
}

export function markHeld(
  tenantId: string,
  runId: string,
  counts: unknown,
  reasons: unknown[],
  hold: unknown,
  days: number,
  plannedAt: string | null,
): Statement {
  return {
    text: `UPDATE sync_runs SET status = 'held', counts = $3::jsonb, errors = $4::jsonb, hold = $5::jsonb,
        held_until = now() + make_interval(days => $6::int), planned_at_change = $7, finished_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    values: [
      tenantId,
      runId,
      JSON.stringify(counts),
      JSON.stringify(reasons),
      JSON.stringify(hold),
      days,
      plannedAt,
    ],
  };
}

export function findHeld(tenantId: string, runId: string): Statement {
  return {
    text: `SELECT r.id, r.status, r.mode, r.collection_id::text AS collection_id, c.name AS collection, r.hold,
        r.planned_at_change::text AS planned_at_change, r.held_until < now() AS expired
      FROM sync_runs r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE OF r`,
    values: [tenantId, runId],
  };
}

/** The held rows back into this transaction's staging tables, and the new ones into records. */
export function restageFeed(tenantId: string, runId: string): Statement {
  return {
    text: `INSERT INTO sync_feed (record_id, row_no, hash, deleted, doc)
      SELECT record_id, row_no, hash, deleted, doc FROM held_run_rows
      WHERE tenant_id = $1 AND sync_run_id = $2 AND kind = 'feed'`,
    values: [tenantId, runId],
  };
}

export function restageGone(tenantId: string, runId: string): Statement {
  return {
    text: `INSERT INTO sync_gone (record_id) SELECT record_id FROM held_run_rows
      WHERE tenant_id = $1 AND sync_run_id = $2 AND kind = 'gone'`,
    values: [tenantId, runId],
  };
}

export function insertHeldNew(
  tenantId: string,
  collectionId: string,
  runId: string,
  changeId: string,
): Statement {
  return {
    text: `INSERT INTO records (tenant_id, collection_id, record_id, source, source_hash, data, version, change_id)
      SELECT $1, $2, record_id, doc::jsonb, hash, 'true'::jsonb, 1, $4 FROM held_run_rows
      WHERE tenant_id = $1 AND sync_run_id = $3 AND kind = 'new'
      RETURNING 1`,
    values: [tenantId, collectionId, runId, changeId],
  };
}

export function deleteHeldRows(tenantId: string, runId: string): Statement {
  return {
    text: `DELETE FROM held_run_rows WHERE tenant_id = $1 AND sync_run_id = $2`,
    values: [tenantId, runId],
  };
}

export function closeHeld(tenantId: string, runId: string, status: 'rejected' | 'expired'): Statement {
  return {
    text: `UPDATE sync_runs SET status = $3, held_until = NULL, finished_at = now() WHERE tenant_id = $1 AND id = $2`,
    values: [tenantId, runId, status],
  };
}

/**
 * Platform-level (the connection's user): every tenant's held runs past their time expire and their
 * staged rows go.
 */
export const expireHeldRuns: Statement = {
  text: `WITH expired AS (
      UPDATE sync_runs SET status = 'expired', held_until = NULL
      WHERE status = 'held' AND held_until < now()
      RETURNING tenant_id, id),
    staged AS (DELETE FROM held_run_rows h USING expired e WHERE h.tenant_id = e.tenant_id AND h.sync_run_id = e.id)
    SELECT id FROM expired`,
  values: [],
};
