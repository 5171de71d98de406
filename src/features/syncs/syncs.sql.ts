import type { Statement } from '../../db/database.ts';
import { isUuid } from '../../lib/uuid.ts';
import { HASH_CHARS } from '../../sync/stored-index.ts';

// Sync runs: the history, and the set-based statements of one apply. The feed is staged in the temp
// table sync_feed (record_id, row_no, hash, deleted, doc text) for the length of the apply transaction.

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

/** Newest first; the cursor is the (started_at, id) of the last run seen. */
export function listRuns(
  tenantId: string,
  collectionId: string,
  after: { startedAt: string; id: string } | null,
  limit: number,
): Statement {
  return {
    text: `SELECT ${RUN_COLUMNS} FROM sync_runs r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      WHERE r.tenant_id = $1 AND r.collection_id = $2
        AND ($3::text IS NULL OR (r.started_at, r.id) < ($3::text::timestamptz, $4::uuid))
      ORDER BY r.started_at DESC, r.id DESC LIMIT $5`,
    values: [tenantId, collectionId, after?.startedAt ?? null, after?.id ?? null, limit],
  };
}

/**
 * Held by the apply transaction of a run for its whole life. A run whose lock is free while its row
 * says 'running' belongs to a process that is gone (its connection, and so the lock, died with it).
 */
/** The collection's sync lock (collections.sql.ts lockCollection) if free now: `locked` says whether. */
export function tryLockCollection(tenantId: string, collectionId: string): Statement {
  return {
    text: `SELECT pg_try_advisory_xact_lock(hashtextextended('sync-collection:' || $1 || ':' || $2, 0)) AS locked`,
    values: [tenantId, collectionId],
  };
}

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

// Staged ids compare byte-wise, as records.record_id does (migrations/0001_baseline.sql).
export const createStaging = `CREATE TEMP TABLE sync_feed (record_id text COLLATE "C" NOT NULL, row_no integer NOT NULL,
  hash text NOT NULL, deleted boolean NOT NULL, doc text NOT NULL) ON COMMIT DROP`;
export const copyStaging = 'COPY sync_feed (record_id, row_no, hash, deleted, doc)';
export const indexStaging = 'CREATE UNIQUE INDEX sync_feed_id ON sync_feed (record_id)';
export const analyzeStaging = 'ANALYZE sync_feed';

/** Full mode: the stored ids from upstream that the feed did not name, found by the client. */
export const createGoneStaging = `CREATE TEMP TABLE sync_gone (record_id text COLLATE "C" NOT NULL) ON COMMIT DROP`;
export const copyGoneStaging = 'COPY sync_gone (record_id)';
export const analyzeGone = 'ANALYZE sync_gone';

export const savepoint = 'SAVEPOINT sync_chunk';
export const releaseSavepoint = 'RELEASE SAVEPOINT sync_chunk';
export const rollbackToSavepoint = 'ROLLBACK TO SAVEPOINT sync_chunk';

/**
 * What the collection holds, for the client's index, as one streamed COPY in id order: a line per
 * record, `<flags>\t<hash>\t<id>`, flags 1 = live, 2 = from upstream and not gone, 4 = from upstream
 * and gone, the hash cut to the 15 characters the index keeps (`\N` when none). One COPY, not pages
 * of a text aggregate: 1M records took 1.4–1.9 s of the server against 2.4 s in 50k-record pages, and
 * the client reads while the server writes. COPY takes no parameters, so the two ids, which the
 * service has from the database, are checked for their form before they are inlined.
 */
export function copyStoredIndex(tenantId: string, collectionId: string): string {
  if (!isUuid(tenantId) || !/^\d+$/.test(collectionId)) throw new Error('copyStoredIndex: malformed ids');
  return `COPY (SELECT (CASE WHEN data IS NOT NULL THEN 1 ELSE 0 END)
        + (CASE WHEN source IS NULL THEN 0 WHEN upstream_gone THEN 4 ELSE 2 END),
      left(source_hash, ${HASH_CHARS}), record_id
    FROM records WHERE tenant_id = '${tenantId}' AND collection_id = ${collectionId}
    ORDER BY record_id)`;
}

/**
 * A chunk of new ids straight into records, as COPY binary rows in the order of its columns (sent
 * with format 'binary', src/db/copy/copy-binary.ts): COPY inserts in batches (one WAL record per page,
 * not per row), and the document is parsed as jsonb once, into `source`; `data` takes its default,
 * the marker for "the source value" (migrations/0001_baseline.sql), and `version` its default 1. Measured on
 * 1M records: 189k rows/s, against 103k for `INSERT … SELECT FROM jsonb_array_elements($1)` storing both values.
 * COPY is refused on a table with row-level security for a role it applies to, so it runs as the
 * connection's user (asOwner); every row names its tenant explicitly. Runs under a savepoint:
 * a record with one of these ids made by hand since the index was read fails the chunk (unique
 * violation), which is then written again by insertNewChunkOrStage.
 */
export const copyNewRecords =
  'COPY records (tenant_id, collection_id, record_id, source, source_hash, change_id)';

/**
 * The chunk again after such a conflict: inserts the ids still free, and stages the others (now in
 * records) as changed rows for the plan, so no feed row is dropped.
 */
export function insertNewChunkOrStage(
  tenantId: string,
  collectionId: string,
  changeId: string,
  rowsJson: string,
): Statement {
  return {
    text: `WITH chunk AS (SELECT e->>0 AS record_id, e->>1 AS hash, (e->>2)::int AS row_no, e->3 AS doc
        FROM jsonb_array_elements($4::jsonb) e),
      inserted AS (
        INSERT INTO records (tenant_id, collection_id, record_id, source, source_hash, data, version, change_id)
        SELECT $1, $2, c.record_id, c.doc, c.hash, 'true'::jsonb, 1, $3 FROM chunk c
        ON CONFLICT (collection_id, record_id) DO NOTHING
        RETURNING record_id)
      INSERT INTO sync_feed (record_id, row_no, hash, deleted, doc)
      SELECT c.record_id, c.row_no, c.hash, false, c.doc::text FROM chunk c
      WHERE NOT EXISTS (SELECT 1 FROM inserted i WHERE i.record_id = c.record_id)
      RETURNING record_id`,
    values: [tenantId, collectionId, changeId, rowsJson],
  };
}

/**
 * PGlite loads COPY from its virtual file '/dev/blob', which needs pg_read_server_files: the tenant
 * role must not have that. The staging tables are this transaction's own temp tables, holding only
 * this feed, so the load runs as the connection's user and the tenant role is restored right after.
 */

/**
 * PGlite has no autovacuum, and on PostgreSQL autoanalyze lags a bulk load: after a sync that grew
 * the table a lot, fresh statistics keep the next sync's joins on hash and index plans. Runs as the
 * connection's user (the table owner); ANALYZE is allowed inside a transaction.
 */
// Only the columns the sync and restore statements join and filter on (and the row count, which any
// ANALYZE refreshes): the jsonb columns' statistics made it several times slower.
export const analyzeRecords =
  'ANALYZE records (tenant_id, collection_id, record_id, change_id, upstream_gone)';

/**
 * For the rest of the transaction (so for analyzeRecords, the only ANALYZE after it), a sample of 3,000
 * rows instead of the default 30,000. What the next sync's plans need from it is the table's size and
 * that record ids are distinct, which a small sample gives as well, for a tenth of the time
 * (docs/performance.md).
 * Autoanalyze, where it runs, later samples at the server's own target.
 */
export const sampleStatisticsLightly = `SELECT set_config('default_statistics_target', '10', true)`;

export const createMergeStaging = `CREATE TEMP TABLE sync_merged (record_id text COLLATE "C" NOT NULL, source text NOT NULL,
  overrides text NOT NULL, data text) ON COMMIT DROP`;
export const copyMergeStaging = 'COPY sync_merged (record_id, source, overrides, data)';

export function snapshotBefore(tenantId: string, retentionDays: number): Statement {
  return {
    text: `INSERT INTO snapshots (tenant_id, change_id, label, auto, expires_at)
      VALUES ($1, nextval('change_seq'), 'before sync', true, now() + make_interval(days => $2::int)) RETURNING id`,
    values: [tenantId, retentionDays],
  };
}

export const nextChangeId = `SELECT nextval('change_seq')::text AS id`;

export function insertChange(tenantId: string, changeId: string, runId: string): Statement {
  return {
    text: `INSERT INTO changes (tenant_id, id, kind, sync_run_id) VALUES ($1, $2, 'sync', $3)`,
    values: [tenantId, changeId, runId],
  };
}

const JOIN_RECORDS = `LEFT JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id`;
// A stored record the feed row must rewrite: new content, back from gone, or made by hand until now.
const CHANGED = `(r.source_hash IS DISTINCT FROM f.hash OR r.upstream_gone OR r.source IS NULL)`;

/**
 * What the feed does to the stored records, in one pass over the staged feed: each staged row's stored
 * record is probed once (by primary key), counted and, with `lock`, locked. The lock is what keeps a
 * concurrent edit from being lost: the plan and the writes decide from what a record holds (whether it
 * has overrides; the merge of its overrides, done in JS), and without it an edit committed between
 * that read and the write was overwritten (its override kept, its effective value replaced by the
 * source). With it, an edit either committed before the lock and is counted (FOR UPDATE reads the
 * newest version of a row it waited for), or waits for the sync. A dry run writes nothing and locks
 * nothing. Unchanged and new rows are not in sync_feed, so this is the change's size, not the feed's.
 * The staged rows with no stored record (to create) are `upserts - matched`: an outer join cannot lock.
 */
export function planFeed(tenantId: string, collectionId: string, lock: boolean): Statement {
  return {
    text: `SELECT
        (SELECT count(*) FROM sync_feed WHERE NOT deleted)::int AS upserts,
        count(*) FILTER (WHERE NOT s.deleted)::int AS matched,
        count(*) FILTER (WHERE NOT s.deleted AND s.changed)::int AS changed,
        count(*) FILTER (WHERE NOT s.deleted AND s.changed AND s.revived)::int AS revived,
        count(*) FILTER (WHERE NOT s.deleted AND s.changed AND s.overridden)::int AS to_merge,
        count(*) FILTER (WHERE s.deleted AND s.live_from_source)::int AS tombstoned
      FROM (SELECT f.deleted, ${CHANGED} AS changed,
              r.data IS NULL AND r.manual_delete IS NULL AS revived,
              r.overrides <> '{}'::jsonb AS overridden,
              r.data IS NOT NULL AND r.source IS NOT NULL AS live_from_source
            FROM sync_feed f JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id
            ${lock ? 'FOR UPDATE OF r' : ''}) s`,
    values: [tenantId, collectionId],
  };
}

/**
 * Full mode, over the ids staged in sync_gone by the client: `gone`, the records newly gone upstream;
 * `live_gone`, the live ones among those and (policy `delete` only: the client stages them then) the
 * live ones an earlier sync had marked gone.
 */
export function planGone(tenantId: string, collectionId: string): Statement {
  return {
    text: `SELECT count(*) FILTER (WHERE NOT r.upstream_gone)::int AS gone,
        count(*) FILTER (WHERE r.data IS NOT NULL)::int AS live_gone
      FROM sync_gone g JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = g.record_id
      WHERE r.source IS NOT NULL`,
    values: [tenantId, collectionId],
  };
}

/** A few ids per kind of change, for the plan a dry run returns. */
export function samplePlan(
  tenantId: string,
  collectionId: string,
  fullMode: boolean,
  limit: number,
): Statement {
  return {
    text: `SELECT
      ARRAY(SELECT f.record_id FROM sync_feed f ${JOIN_RECORDS} WHERE NOT f.deleted AND r.record_id IS NULL
        ORDER BY f.row_no LIMIT $4) AS create,
      ARRAY(SELECT f.record_id FROM sync_feed f ${JOIN_RECORDS} WHERE NOT f.deleted AND r.record_id IS NOT NULL
        AND ${CHANGED} ORDER BY f.row_no LIMIT $4) AS update,
      ARRAY(SELECT x.record_id FROM (
        SELECT f.record_id FROM sync_feed f ${JOIN_RECORDS} WHERE f.deleted AND r.data IS NOT NULL AND r.source IS NOT NULL
        UNION ALL
        SELECT g.record_id FROM sync_gone g
          JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = g.record_id
          WHERE $3::boolean AND r.source IS NOT NULL AND r.data IS NOT NULL
        LIMIT $4) x) AS delete`,
    values: [tenantId, collectionId, fullMode, limit],
  };
}

/** New ids: the source is the feed's document, cast once; the effective value is the source (marker). */
export function insertNew(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `INSERT INTO records (tenant_id, collection_id, record_id, source, source_hash, data, version, change_id)
      SELECT $1, $2, n.record_id, n.doc, n.hash, 'true'::jsonb, 1, $3
      FROM (SELECT f.record_id, f.hash, f.doc::jsonb AS doc FROM sync_feed f
            WHERE NOT f.deleted
              AND NOT EXISTS (SELECT 1 FROM records r WHERE r.tenant_id = $1 AND r.collection_id = $2
                AND r.record_id = f.record_id)
            OFFSET 0) n`,
    values: [tenantId, collectionId, changeId],
  };
}

/**
 * Changed records without overrides: the new source is the effective value (unless deleted by hand).
 * The changed rows are a materialized CTE (each document cast once), so that a plan made on poor
 * statistics — records of a collection never analyzed estimated at 1 row — rescans a stored list
 * instead of running the whole join again for every record of the collection (O(n²)).
 */
export function updatePlain(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `WITH n AS MATERIALIZED (
        SELECT f.record_id, f.hash, f.doc::jsonb AS doc FROM sync_feed f
          JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id
          WHERE NOT f.deleted AND ${CHANGED} AND r.overrides = '{}'::jsonb)
      UPDATE records r SET source = n.doc, source_hash = n.hash,
        data = CASE WHEN r.manual_delete IS NULL THEN 'true'::jsonb END, source_parts = NULL,
        upstream_gone = false, version = r.version + 1, change_id = $3, updated_at = now()
      FROM n
      WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = n.record_id`,
    values: [tenantId, collectionId, changeId],
  };
}

/** One page of the changed records that carry overrides: merged in JS (src/sync/merge.ts). */
export function selectToMerge(
  tenantId: string,
  collectionId: string,
  afterId: string | null,
  limit: number,
): Statement {
  return {
    text: `SELECT r.record_id, r.source, r.overrides, r.manual_delete, f.doc
      FROM sync_feed f JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id
      WHERE NOT f.deleted AND ${CHANGED} AND r.overrides <> '{}'::jsonb
        AND ($3::text IS NULL OR f.record_id > $3)
      ORDER BY f.record_id LIMIT $4`,
    values: [tenantId, collectionId, afterId, limit],
  };
}

export function updateMerged(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `UPDATE records r SET source = m.source::jsonb, source_hash = f.hash, overrides = m.overrides::jsonb,
        data = m.data::jsonb, source_parts = NULL, upstream_gone = false, version = r.version + 1, change_id = $3, updated_at = now()
      FROM sync_merged m JOIN sync_feed f ON f.record_id = m.record_id
      WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = m.record_id`,
    values: [tenantId, collectionId, changeId],
  };
}

/** A soft delete by a sync ($3: the run's change id): the effective value goes, the source stays. */
const SOFT_DELETE = `data = NULL, upstream_gone = true, version = r.version + 1, change_id = $3, updated_at = now()`;

/** `_deleted` tombstones: an explicit soft delete, whatever the delete policy. The source stays. */
export function deleteTombstoned(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `UPDATE records r SET ${SOFT_DELETE}
      FROM sync_feed f
      WHERE f.deleted AND r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id
        AND r.data IS NOT NULL AND r.source IS NOT NULL`,
    values: [tenantId, collectionId, changeId],
  };
}

/** Full mode, policy delete: soft-delete live records gone upstream (a new version each). */
export function deleteGone(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `UPDATE records r SET ${SOFT_DELETE}
      FROM sync_gone g
      WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = g.record_id
        AND r.source IS NOT NULL AND r.data IS NOT NULL`,
    values: [tenantId, collectionId, changeId],
  };
}

/**
 * Full mode, the rest of the records gone upstream (policy keep, or already deleted by hand): only the
 * upstream_gone flag moves. The effective value does not change, but the flag is part of what a
 * snapshot restores, so it is a version (with no field changes) like any other write.
 */
export function markGone(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `UPDATE records r SET upstream_gone = true, version = r.version + 1, change_id = $3, updated_at = now()
      FROM sync_gone g
      WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = g.record_id
        AND r.source IS NOT NULL AND NOT r.upstream_gone
      RETURNING 1`,
    values: [tenantId, collectionId, changeId],
  };
}

/** Conflicts found by the merge, as JSON rows: opened, refreshed when one is open on the path, or recorded resolved. */
export function upsertConflicts(
  tenantId: string,
  collectionId: string,
  runId: string,
  conflicts: unknown[],
): Statement {
  return {
    text: `WITH input AS (
        SELECT x.record_id, x.path, x.manual_value, x.source_value, x.previous_source_value, x.status,
          coalesce(x.kind, 'override') AS kind, x.source_name, x.other_source
        FROM jsonb_to_recordset($4::jsonb) AS x(record_id text, path text, manual_value jsonb,
          source_value jsonb, previous_source_value jsonb, status text, kind text, source_name text, other_source text)
      ), refreshed AS (
        UPDATE conflicts c SET source_value = i.source_value, manual_value = CASE WHEN i.kind = 'source'
            THEN i.manual_value ELSE c.manual_value END, source_name = i.source_name, other_source = i.other_source,
          sync_run_id = $3
        FROM input i
        WHERE i.status = 'open' AND c.tenant_id = $1 AND c.collection_id = $2 AND c.record_id = i.record_id
          AND c.path = i.path AND c.status = 'open' AND c.kind = i.kind
        RETURNING c.record_id, c.path, c.kind
      )
      INSERT INTO conflicts (tenant_id, collection_id, record_id, path, manual_value, source_value,
        previous_source_value, status, resolution, sync_run_id, resolved_at, kind, source_name, other_source)
      SELECT $1, $2, i.record_id, i.path, i.manual_value, i.source_value, i.previous_source_value, i.status,
        CASE WHEN i.status = 'resolved' THEN 'take-source' END, $3, CASE WHEN i.status = 'resolved' THEN now() END,
        i.kind, i.source_name, i.other_source
      FROM input i
      WHERE NOT EXISTS (SELECT 1 FROM refreshed x WHERE x.record_id = i.record_id AND x.path = i.path
        AND x.kind = i.kind)`,
    values: [tenantId, collectionId, runId, JSON.stringify(conflicts)],
  };
}

/** Open conflicts whose override retired itself (upstream caught up) or was dropped by take-source. */
export function closeConflicts(tenantId: string, collectionId: string, settled: unknown[]): Statement {
  return {
    text: `UPDATE conflicts c SET status = 'resolved', resolved_at = now()
      FROM jsonb_to_recordset($3::jsonb) AS x(record_id text, path text)
      WHERE c.tenant_id = $1 AND c.collection_id = $2 AND c.status = 'open' AND c.kind = 'override'
        AND c.record_id = x.record_id AND c.path = x.path`,
    values: [tenantId, collectionId, JSON.stringify(settled)],
  };
}

export function findIdempotencyKey(tenantId: string, scope: string, key: string): Statement {
  return {
    text: `SELECT request_hash, status_code, response FROM idempotency_keys
      WHERE tenant_id = $1 AND scope = $2 AND key = $3`,
    values: [tenantId, scope, key],
  };
}

/** Claims the key; waits for a concurrent claim of the same key to commit or roll back first. */
export function claimIdempotencyKey(
  tenantId: string,
  scope: string,
  key: string,
  requestHash: string,
): Statement {
  return {
    text: `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING RETURNING key`,
    values: [tenantId, scope, key, requestHash],
  };
}

export function storeIdempotentResponse(
  tenantId: string,
  scope: string,
  key: string,
  statusCode: number,
  response: unknown,
): Statement {
  return {
    text: `UPDATE idempotency_keys SET status_code = $4, response = $5::jsonb
      WHERE tenant_id = $1 AND scope = $2 AND key = $3`,
    values: [tenantId, scope, key, statusCode, JSON.stringify(response)],
  };
}
