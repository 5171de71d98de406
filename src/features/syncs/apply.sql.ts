import type { Statement } from '../../db/database.ts';
import { CHANGED } from './plan.sql.ts';

// The set-based writes of one apply, over what staging left in sync_feed and sync_gone, and the
// statistics refreshed after a sync that grew the collection.

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

export function insertChange(tenantId: string, changeId: string, runId: string): Statement {
  return {
    text: `INSERT INTO changes (tenant_id, id, kind, sync_run_id) VALUES ($1, $2, 'sync', $3)`,
    values: [tenantId, changeId, runId],
  };
}

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
