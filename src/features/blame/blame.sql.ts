import type { Statement } from '../../db/database.ts';

/**
 * A record's present row and its last versions, newest first, each with the change that made it
 * (kind, API key, sync run and the run's source, snapshot of a restore, time): one statement, by the
 * records and record_versions primary keys.
 */
export function recordHistory(
  tenantId: string,
  collectionId: string,
  recordId: string,
  limit: number,
): Statement {
  return {
    text: `SELECT h.version, h.change_id::text AS change_id, effective_value(h.data, h.source) AS data,
        h.source_parts, h.overrides, ch.kind, ch.api_key_id, ch.sync_run_id, ch.snapshot_id, ch.at,
        sr.source_name
      FROM (
        SELECT r.version, r.change_id, r.data, r.source, r.source_parts, r.overrides FROM records r
         WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = $3
        UNION ALL
        (SELECT v.version, v.valid_from, v.data, v.source, v.source_parts, v.overrides FROM record_versions v
          WHERE v.tenant_id = $1 AND v.collection_id = $2 AND v.record_id = $3
          ORDER BY v.version DESC LIMIT $4)
      ) h
      LEFT JOIN changes ch ON ch.tenant_id = $1 AND ch.id = h.change_id
      LEFT JOIN sync_runs sr ON sr.tenant_id = $1 AND sr.id = ch.sync_run_id
      ORDER BY h.version DESC`,
    values: [tenantId, collectionId, recordId, limit],
  };
}
