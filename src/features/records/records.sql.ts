import type { Statement } from '../../db/database.ts';

// Every statement filters by tenant explicitly; row-level security is the second wall.

export const findCollection = (tenantId: string, name: string): Statement => ({
  text: `SELECT id, id_field, delete_policy FROM collections WHERE tenant_id = $1 AND name = $2`,
  values: [tenantId, name],
});

/**
 * Effective values as text (never parsed on the way to the client) with their versions, of one
 * tenant's records named by the caller, in one statement that is its own tenant transaction
 * (src/db/functions.sql). `reads` is their JSON array, as src/features/records/batched-reads.ts builds it;
 * `i` says whose row is whose. Run it on the pool, never inside a transaction.
 */
export const readEffectivesAsTenant = (tenantId: string, reads: string): Statement => ({
  text: `SELECT i, version, data_text FROM read_effectives_as_tenant($1, $2::jsonb)`,
  values: [tenantId, reads],
});

/** A record row's columns, the data as the effective value (`r`: records). */
export const RECORD_COLUMNS = `r.record_id, r.source, r.upstream_gone, r.overrides, r.manual_delete,
  effective_value(r.data, r.source) AS data, r.version,
  r.change_id, r.updated_at`;

/** The whole row (for ?meta=true and the overrides listing). */
export const readRecord = (tenantId: string, collection: string, recordId: string): Statement => ({
  text: `SELECT c.id AS collection_id, ${RECORD_COLUMNS}
           FROM collections c
           LEFT JOIN records r ON r.tenant_id = c.tenant_id AND r.collection_id = c.id AND r.record_id = $3
          WHERE c.tenant_id = $1 AND c.name = $2`,
  values: [tenantId, collection, recordId],
});

/** A page of effective values as text, in record id order (keyset: stable while others write). */
export const listEffective = (
  tenantId: string,
  collectionId: string,
  after: string | null,
  limit: number,
) => ({
  text: `SELECT record_id, effective_value(data, source)::text AS data_text FROM records
          WHERE tenant_id = $1 AND collection_id = $2 AND data IS NOT NULL
            AND ($3::text IS NULL OR record_id > $3)
          ORDER BY record_id LIMIT $4`,
  values: [tenantId, collectionId, after, limit],
});

/**
 * Pages of effective values of one tenant's collections, named by the caller, in one statement that
 * is its own tenant transaction (src/db/functions.sql). `pages` is their JSON array, as
 * src/features/records/batched-reads.ts builds it; `i` says whose row is whose.
 */
export const pagesEffectiveAsTenant = (tenantId: string, pages: string): Statement => ({
  text: `SELECT i, items, last_id, more FROM pages_effective_as_tenant($1, $2::jsonb)`,
  values: [tenantId, pages],
});

/**
 * Versions newest first, the current row included, each with the change that made it. `before`
 * (a version number) pages backwards.
 */
export const listVersions = (
  tenantId: string,
  collectionId: string,
  recordId: string,
  before: number | null,
  limit: number,
): Statement => ({
  text: `SELECT v.version, v.data, v.change_id, v.updated_at, ch.kind, ch.api_key_id, ch.sync_run_id,
                ch.snapshot_id, ch.at
           FROM (SELECT version, effective_value(data, source) AS data, change_id, updated_at FROM records
                  WHERE tenant_id = $1 AND collection_id = $2 AND record_id = $3
                 UNION ALL
                 SELECT version, effective_value(data, source), valid_from, updated_at FROM record_versions
                  WHERE tenant_id = $1 AND collection_id = $2 AND record_id = $3) v
           LEFT JOIN changes ch ON ch.tenant_id = $1 AND ch.id = v.change_id
          WHERE ($4::int IS NULL OR v.version < $4)
          ORDER BY v.version DESC LIMIT $5`,
  values: [tenantId, collectionId, recordId, before, limit],
});
