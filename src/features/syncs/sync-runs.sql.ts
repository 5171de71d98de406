import type { Statement } from '../../db/database.ts';

// The history of sync runs: a run's row from 'running' to its end, read back one by one or by page.

// started_key: the start time to the microsecond, as text, for exact cursors (a Date keeps milliseconds).
const RUN_COLUMNS = `r.id, c.name AS collection, r.mode, r.dry_run, r.forced, r.status, r.counts, r.errors,
  r.timings, r.snapshot_id, r.change_id, r.origin, r.started_at, r.finished_at, r.hold, r.held_until,
  r.reverts_run_id, r.source_name,
  to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_key`;

export function insertRun(
  tenantId: string,
  runId: string,
  collectionId: string,
  mode: string,
  dryRun: boolean,
  forced: boolean,
  origin: unknown,
  sourceName: string | null = null,
): Statement {
  return {
    text: `INSERT INTO sync_runs (tenant_id, id, collection_id, mode, dry_run, forced, status, origin, source_name)
      VALUES ($1, $2, $3, $4, $5, $6, 'running', $7::jsonb, $8)`,
    values: [tenantId, runId, collectionId, mode, dryRun, forced, JSON.stringify(origin), sourceName],
  };
}

export function finishRun(
  tenantId: string,
  runId: string,
  status: 'succeeded' | 'failed' | 'planned',
  counts: unknown,
  errors: unknown[],
  timings: unknown,
  snapshotId: string | null,
  changeId: string | null,
): Statement {
  return {
    text: `UPDATE sync_runs SET status = $3, counts = $4::jsonb, errors = $5::jsonb, timings = $6::jsonb,
        snapshot_id = $7, change_id = $8, finished_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    values: [
      tenantId,
      runId,
      status,
      JSON.stringify(counts),
      JSON.stringify(errors),
      JSON.stringify(timings),
      snapshotId,
      changeId,
    ],
  };
}

export function deleteRun(tenantId: string, runId: string): Statement {
  return { text: `DELETE FROM sync_runs WHERE tenant_id = $1 AND id = $2`, values: [tenantId, runId] };
}

export function findRun(tenantId: string, runId: string): Statement {
  return {
    text: `SELECT ${RUN_COLUMNS} FROM sync_runs r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      WHERE r.tenant_id = $1 AND r.id = $2`,
    values: [tenantId, runId],
  };
}

/** Newest first, of one status or all; the cursor is the (started_at, id) of the last run seen. */
export function listRuns(
  tenantId: string,
  collectionId: string,
  after: { startedAt: string; id: string } | null,
  limit: number,
  status: string | null = null,
): Statement {
  return {
    text: `SELECT ${RUN_COLUMNS} FROM sync_runs r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      WHERE r.tenant_id = $1 AND r.collection_id = $2
        AND ($3::text IS NULL OR (r.started_at, r.id) < ($3::text::timestamptz, $4::uuid))
        AND ($6::text IS NULL OR r.status = $6)
      ORDER BY r.started_at DESC, r.id DESC LIMIT $5`,
    values: [tenantId, collectionId, after?.startedAt ?? null, after?.id ?? null, limit, status],
  };
}

/**
 * Held by the apply transaction of a run for its whole life. A run whose lock is free while its row
 * says 'running' belongs to a process that is gone (its connection, and so the lock, died with it).
 */
export function lockRun(runId: string): Statement {
  return { text: `SELECT pg_advisory_xact_lock(hashtextextended('sync-run:' || $1, 0))`, values: [runId] };
}

/**
 * Platform-level (runs as the connection's user): every tenant's runs whose process is gone. A run
 * whose apply committed (it wrote a `changes` row) before the process died did apply: it is marked
 * succeeded, with a note that its counts were not recorded; the others failed and applied nothing.
 */
export function failInterruptedRuns(): Statement {
  return {
    text: `UPDATE sync_runs r SET finished_at = now(),
        status = CASE WHEN applied.yes THEN 'succeeded' ELSE 'failed' END,
        change_id = CASE WHEN applied.yes THEN applied.change_id ELSE r.change_id END,
        errors = r.errors || jsonb_build_array(jsonb_build_object('code', 'interrupted', 'message',
          CASE WHEN applied.yes
            THEN 'the process running this sync stopped after the sync was applied, before its counts were recorded'
            ELSE 'the process running this sync stopped before it finished; nothing was applied' END))
      FROM sync_runs s
      CROSS JOIN LATERAL (SELECT max(ch.id) IS NOT NULL AS yes, max(ch.id) AS change_id
        FROM changes ch WHERE ch.tenant_id = s.tenant_id AND ch.sync_run_id = s.id) applied
      WHERE s.tenant_id = r.tenant_id AND s.id = r.id AND r.status = 'running'
        AND pg_try_advisory_xact_lock(hashtextextended('sync-run:' || r.id::text, 0))
      RETURNING r.id`,
    values: [],
  };
}
