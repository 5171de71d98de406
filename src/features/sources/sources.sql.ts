export interface SourceSettings {
  url: string;
  schedule: string;
  mode: 'full' | 'partial';
  headers: Record<string, string>;
}

// The routes of one scheduled source per collection (…/source) act on the source named `default`; the
// tenant-wide list and the scheduler see every named source with a schedule (docs/sources.md).
const COLUMNS = `c.name AS collection, s.name, s.url, s.schedule, s.mode, s.headers, s.next_run_at, s.last_run_at,
  s.last_status, s.last_error, s.created_at, s.updated_at`;

/** Creates or replaces; new validators (etag) are forgotten when the URL or headers change. */
export const upsertSource = (tenantId: string, collectionId: string, s: SourceSettings, nextRunAt: Date) => ({
  text: `WITH saved AS (
           INSERT INTO collection_sources AS s (tenant_id, collection_id, url, schedule, mode, headers, next_run_at)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
           ON CONFLICT (tenant_id, collection_id, name) DO UPDATE SET url = $3, schedule = $4, mode = $5, headers = $6::jsonb,
             next_run_at = $7, updated_at = now(),
             etag = CASE WHEN s.url = $3 AND s.headers = $6::jsonb THEN s.etag END,
             last_modified = CASE WHEN s.url = $3 AND s.headers = $6::jsonb THEN s.last_modified END
           RETURNING s.*, (xmax = 0) AS inserted)
         SELECT ${COLUMNS}, s.inserted FROM saved s JOIN collections c ON c.tenant_id = s.tenant_id AND c.id = s.collection_id`,
  values: [tenantId, collectionId, s.url, s.schedule, s.mode, JSON.stringify(s.headers), nextRunAt],
});

export const findSource = (tenantId: string, collectionName: string) => ({
  text: `SELECT ${COLUMNS}, s.collection_id FROM collection_sources s
           JOIN collections c ON c.tenant_id = s.tenant_id AND c.id = s.collection_id
          WHERE s.tenant_id = $1 AND c.name = $2 AND s.name = 'default' AND s.url IS NOT NULL`,
  values: [tenantId, collectionName],
});

/** Scheduled sources, by collection then source name; the cursor is the last (collection, name). */
export const listSources = (tenantId: string, after: [string, string] | null, limit: number) => ({
  text: `SELECT ${COLUMNS} FROM collection_sources s
           JOIN collections c ON c.tenant_id = s.tenant_id AND c.id = s.collection_id
          WHERE s.tenant_id = $1 AND s.url IS NOT NULL
            AND ($2::text IS NULL OR (c.name, s.name) > ($2, $3::text)) ORDER BY c.name, s.name LIMIT $4`,
  values: [tenantId, after?.[0] ?? null, after?.[1] ?? null, limit],
});

/**
 * The schedule of the source `default` goes; so does its row when it holds nothing else (it owns
 * everything at priority 0, as a source with no row does).
 */
export const deleteSource = (tenantId: string, collectionName: string) => ({
  text: `UPDATE collection_sources s SET url = NULL, schedule = NULL, next_run_at = NULL, mode = NULL,
           headers = '{}', etag = NULL, last_modified = NULL, updated_at = now()
           FROM collections c
          WHERE s.tenant_id = $1 AND c.tenant_id = s.tenant_id AND c.id = s.collection_id AND c.name = $2
            AND s.name = 'default' AND s.url IS NOT NULL
          RETURNING s.collection_id`,
  values: [tenantId, collectionName],
});

export const deletePlainDefault = (tenantId: string, collectionId: string) => ({
  text: `DELETE FROM collection_sources WHERE tenant_id = $1 AND collection_id = $2 AND name = 'default'
           AND url IS NULL AND fields = '["/"]'::jsonb AND priority = 0 AND NOT ignore_empty`,
  values: [tenantId, collectionId],
});

/** "Run now": the next scheduler tick picks it up. */
export const makeDue = (tenantId: string, collectionName: string) => ({
  text: `UPDATE collection_sources s SET next_run_at = now() FROM collections c
          WHERE s.tenant_id = $1 AND c.tenant_id = s.tenant_id AND c.id = s.collection_id AND c.name = $2
            AND s.name = 'default' AND s.url IS NOT NULL
          RETURNING s.collection_id`,
  values: [tenantId, collectionName],
});

export const listRuns = (tenantId: string, collectionName: string, before: string | null, limit: number) => ({
  text: `SELECT r.id, r.url, r.status, r.http_status, r.error, r.sync_run_id, r.started_at, r.finished_at
           FROM source_runs r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
          WHERE r.tenant_id = $1 AND c.name = $2 AND r.source_name = 'default'
            AND ($3::text IS NULL OR (r.started_at, r.id::text) < (SELECT started_at, id::text FROM source_runs
                 WHERE tenant_id = $1 AND id::text = $3))
          ORDER BY r.started_at DESC, r.id::text DESC LIMIT $4`,
  values: [tenantId, collectionName, before, limit],
});

// The scheduler: platform-level (every tenant's due sources), as the connection's own user.

/** One due source, locked; a row another process is claiming is skipped, not waited for. */
export const claimDueSource = () => ({
  text: `SELECT s.tenant_id, s.collection_id, c.name AS collection, s.name, s.url, s.schedule, s.mode, s.headers, s.etag,
                s.last_modified, s.next_run_at
           FROM collection_sources s JOIN collections c ON c.tenant_id = s.tenant_id AND c.id = s.collection_id
          WHERE s.next_run_at <= now()
          ORDER BY s.next_run_at
          LIMIT 1
          FOR UPDATE OF s SKIP LOCKED`,
  values: [],
});

export const advanceSource = (tenantId: string, collectionId: string, name: string, nextRunAt: Date) => ({
  text: 'UPDATE collection_sources SET next_run_at = $4 WHERE tenant_id = $1 AND collection_id = $2 AND name = $3',
  values: [tenantId, collectionId, name, nextRunAt],
});

export interface RunRecord {
  url: string;
  status: 'synced' | 'unchanged' | 'failed';
  httpStatus: number | null;
  error: string | null;
  syncRunId: string | null;
  startedAt: Date;
}

export const insertRun = (tenantId: string, collectionId: string, name: string, run: RunRecord) => ({
  text: `INSERT INTO source_runs (tenant_id, collection_id, url, status, http_status, error, sync_run_id, started_at,
           source_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
  values: [
    tenantId,
    collectionId,
    run.url,
    run.status,
    run.httpStatus,
    run.error,
    run.syncRunId,
    run.startedAt,
    name,
  ],
});

/** Records the outcome; validators are kept only from a body that synced, so a failed body is fetched again. */
export const recordOutcome = (
  tenantId: string,
  collectionId: string,
  name: string,
  run: RunRecord,
  validators: { etag: string | null; lastModified: string | null } | undefined,
) => ({
  text: `UPDATE collection_sources SET last_run_at = $3, last_status = $4, last_error = $5,
           etag = CASE WHEN $6 THEN $7 ELSE etag END, last_modified = CASE WHEN $6 THEN $8 ELSE last_modified END
          WHERE tenant_id = $1 AND collection_id = $2 AND name = $9`,
  values: [
    tenantId,
    collectionId,
    run.startedAt,
    run.status,
    run.error,
    validators !== undefined,
    validators?.etag ?? null,
    validators?.lastModified ?? null,
    name,
  ],
});
