import type { Statement } from '../../db/database.ts';

// A collection's named sources (docs/sources.md): what each owns, its priority, and optionally the
// schedule of §5 (url, schedule, mode, headers; all NULL for a source fed by pushed syncs only).

export interface NamedSourceRow {
  name: string;
  fields: string[];
  priority: number;
  ignore_empty: boolean;
  url: string | null;
  schedule: string | null;
  mode: 'full' | 'partial' | null;
  headers: Record<string, string>;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_status: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  inserted?: boolean;
}

const COLUMNS = `s.name, s.fields, s.priority, s.ignore_empty, s.url, s.schedule, s.mode, s.headers, s.next_run_at,
  s.last_run_at, s.last_status, s.last_error, s.created_at, s.updated_at`;

export function listNamedSources(tenantId: string, collectionId: string): Statement {
  return {
    text: `SELECT ${COLUMNS} FROM collection_sources s WHERE s.tenant_id = $1 AND s.collection_id = $2 ORDER BY s.name`,
    values: [tenantId, collectionId],
  };
}

export function findNamedSource(tenantId: string, collectionId: string, name: string): Statement {
  return {
    text: `SELECT ${COLUMNS} FROM collection_sources s WHERE s.tenant_id = $1 AND s.collection_id = $2 AND s.name = $3`,
    values: [tenantId, collectionId, name],
  };
}

export type NamedSourceSettings = {
  fields: string[];
  priority: number;
  ignoreEmpty: boolean;
  schedule: {
    url: string;
    schedule: string;
    mode: 'full' | 'partial';
    headers: Record<string, string>;
  } | null;
};

/** Creates or replaces; a fetch's validators are forgotten when the URL or headers change. */
export function upsertNamedSource(
  tenantId: string,
  collectionId: string,
  name: string,
  s: NamedSourceSettings,
  nextRunAt: Date | null,
): Statement {
  const f = s.schedule;
  return {
    text: `INSERT INTO collection_sources AS s (tenant_id, collection_id, name, fields, priority, ignore_empty, url,
             schedule, mode, headers, next_run_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10::jsonb, $11)
           ON CONFLICT (tenant_id, collection_id, name) DO UPDATE SET fields = $4::jsonb, priority = $5,
             ignore_empty = $6, url = $7, schedule = $8, mode = $9, headers = $10::jsonb, next_run_at = $11,
             updated_at = now(),
             etag = CASE WHEN s.url = $7 AND s.headers = $10::jsonb THEN s.etag END,
             last_modified = CASE WHEN s.url = $7 AND s.headers = $10::jsonb THEN s.last_modified END
           RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
    values: [
      tenantId,
      collectionId,
      name,
      JSON.stringify(s.fields),
      s.priority,
      s.ignoreEmpty,
      f?.url ?? null,
      f?.schedule ?? null,
      f?.mode ?? null,
      JSON.stringify(f?.headers ?? {}),
      nextRunAt,
    ],
  };
}

export function deleteNamedSource(tenantId: string, collectionId: string, name: string): Statement {
  return {
    text: `DELETE FROM collection_sources WHERE tenant_id = $1 AND collection_id = $2 AND name = $3 RETURNING name`,
    values: [tenantId, collectionId, name],
  };
}
