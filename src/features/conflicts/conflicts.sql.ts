import type { Statement } from '../../db/database.ts';

const COLUMNS = `id, record_id, path, manual_value, source_value, previous_source_value, status, resolution,
  sync_run_id, created_at, resolved_at, kind, source_name, other_source`;

/**
 * Oldest first, keyset on (created_at, id). `created_key` is created_at in UTC to the microsecond, as
 * text: a Date keeps only milliseconds, and every conflict of one sync shares the run's timestamp, so a
 * millisecond cursor would repeat or skip rows at a page boundary. The cursor goes in as text and is cast
 * in SQL: a parameter typed timestamptz is serialised by postgres.js through a Date, to milliseconds.
 */
export function listConflicts(
  tenantId: string,
  collectionId: string,
  status: 'open' | 'resolved' | null,
  after: { createdAt: string; id: string } | null,
  limit: number,
): Statement {
  return {
    text: `SELECT ${COLUMNS},
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key
      FROM conflicts
      WHERE tenant_id = $1 AND collection_id = $2 AND ($3::text IS NULL OR status = $3)
        AND ($4::text IS NULL OR (created_at, id) > ($4::text::timestamptz, $5::uuid))
      ORDER BY created_at, id LIMIT $6`,
    values: [tenantId, collectionId, status, after?.createdAt ?? null, after?.id ?? null, limit],
  };
}

export function lockConflict(tenantId: string, collectionId: string, conflictId: string): Statement {
  return {
    text: `SELECT ${COLUMNS} FROM conflicts WHERE tenant_id = $1 AND collection_id = $2 AND id = $3 FOR UPDATE`,
    values: [tenantId, collectionId, conflictId],
  };
}

export function lockRecord(tenantId: string, collectionId: string, recordId: string): Statement {
  return {
    text: `SELECT source, overrides, (data IS NULL) AS deleted FROM records
      WHERE tenant_id = $1 AND collection_id = $2 AND record_id = $3 FOR UPDATE`,
    values: [tenantId, collectionId, recordId],
  };
}

export const nextChangeId = `SELECT nextval('change_seq')::text AS id`;

export function insertApiChange(tenantId: string, changeId: string, apiKeyId: string | null): Statement {
  return {
    text: `INSERT INTO changes (tenant_id, id, kind, api_key_id) VALUES ($1, $2, 'api', $3)`,
    values: [tenantId, changeId, apiKeyId],
  };
}

export function writeRecord(
  tenantId: string,
  collectionId: string,
  recordId: string,
  overrides: unknown,
  data: unknown,
  changeId: string,
): Statement {
  return {
    text: `UPDATE records SET overrides = $4::jsonb, data = $5::jsonb, version = version + 1, change_id = $6,
        updated_at = now()
      WHERE tenant_id = $1 AND collection_id = $2 AND record_id = $3`,
    values: [
      tenantId,
      collectionId,
      recordId,
      JSON.stringify(overrides),
      data === null ? null : JSON.stringify(data),
      changeId,
    ],
  };
}

export function resolveConflict(
  tenantId: string,
  conflictId: string,
  resolution: string,
  resolvedBy: string | null,
): Statement {
  return {
    text: `UPDATE conflicts SET status = 'resolved', resolution = $3, resolved_at = now(), resolved_by = $4
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    values: [tenantId, conflictId, resolution, resolvedBy],
  };
}
