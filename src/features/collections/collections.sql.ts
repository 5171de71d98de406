import type { Statement } from '../../db/database.ts';
import type { ConflictPolicySetting } from '../../sync/merge.ts';
export interface CollectionSettings {
  idField: string;
  deletePolicy: 'delete' | 'keep';
  /** One policy, or a map from JSON Pointer to policy (the longest matching pointer wins). */
  conflictPolicy: ConflictPolicySetting;
  /** Two sources owning one field: the higher priority wins silently, or wins and opens a conflict. */
  overlap: 'priority' | 'conflict';
  maxDeleteRatio: number;
  /** A JSON Schema (2020-12) every record must fit; null: none. */
  schema: object | null;
  /** Fields declared for filtering and sorting, each with an index of its own. */
  indexes: string[];
  /** Run guards beyond maxDeleteRatio (docs/run-safety.md); each optional. */
  guards: RunGuards;
}

export interface RunGuards {
  maxChangeRatio?: number;
  maxFieldChangeRatio?: Record<string, number>;
  requiredFields?: string[];
}

const COLUMNS = `c.id, c.name, c.id_field, c.delete_policy, c.conflict_policy, c.conflict_policies, c.overlap,
  c.max_delete_ratio, c.record_schema, c.indexes, c.guards, c.created_at, c.updated_at`;

const COUNTS = `
  (SELECT COALESCE(json_agg(json_build_object('field', i.field, 'state', i.state, 'error', i.error)
                            ORDER BY i.field), '[]') FROM collection_indexes i
    WHERE i.tenant_id = c.tenant_id AND i.collection_id = c.id AND i.state <> 'dropping') AS index_states,
  (SELECT count(*)::int FROM records r WHERE r.tenant_id = c.tenant_id AND r.collection_id = c.id
     AND r.data IS NOT NULL) AS record_count,
  (SELECT count(*)::int FROM records r WHERE r.tenant_id = c.tenant_id AND r.collection_id = c.id
     AND (r.overrides <> '{}'::jsonb OR r.manual_delete IS NOT NULL)) AS overridden_count,
  (SELECT count(*)::int FROM conflicts f WHERE f.tenant_id = c.tenant_id AND f.collection_id = c.id
     AND f.status = 'open') AS open_conflict_count,
  (SELECT row_to_json(s) FROM (SELECT id, status, mode, started_at AS "startedAt", finished_at AS "finishedAt"
     FROM sync_runs s WHERE s.tenant_id = c.tenant_id AND s.collection_id = c.id AND NOT s.dry_run
     ORDER BY started_at DESC LIMIT 1) s) AS last_sync`;

/** Creates or updates; `inserted` tells which (xmax = 0 only on a fresh insert). */
export const upsertCollection = (tenantId: string, name: string, s: CollectionSettings) => ({
  text: `INSERT INTO collections AS c (tenant_id, name, id_field, delete_policy, conflict_policy, max_delete_ratio,
           record_schema, indexes, guards, conflict_policies, overlap)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10::jsonb, $11)
         ON CONFLICT (tenant_id, name) DO UPDATE SET id_field = $3, delete_policy = $4, conflict_policy = $5,
           max_delete_ratio = $6, record_schema = $7::jsonb, indexes = $8::jsonb, guards = $9::jsonb,
           conflict_policies = $10::jsonb, overlap = $11, updated_at = now()
         RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
  values: [
    tenantId,
    name,
    s.idField,
    s.deletePolicy,
    typeof s.conflictPolicy === 'string' ? s.conflictPolicy : (s.conflictPolicy['/'] ?? 'keep-manual'),
    s.maxDeleteRatio,
    s.schema === null ? null : JSON.stringify(s.schema),
    JSON.stringify(s.indexes),
    JSON.stringify(s.guards),
    typeof s.conflictPolicy === 'string' ? null : JSON.stringify(s.conflictPolicy),
    s.overlap,
  ],
});

export const findCollection = (tenantId: string, name: string) => ({
  text: `SELECT ${COLUMNS} FROM collections c WHERE c.tenant_id = $1 AND c.name = $2`,
  values: [tenantId, name],
});

/** Whether the collection holds any record row (deleted ones included). */
export const hasRecords = (tenantId: string, collectionId: string): Statement => ({
  text: `SELECT EXISTS (SELECT 1 FROM records WHERE tenant_id = $1 AND collection_id = $2) AS yes`,
  values: [tenantId, collectionId],
});

export const findCollectionWithCounts = (tenantId: string, name: string) => ({
  text: `SELECT ${COLUMNS}, ${COUNTS} FROM collections c WHERE c.tenant_id = $1 AND c.name = $2`,
  values: [tenantId, name],
});

export const listCollectionsWithCounts = (tenantId: string, afterName: string | null, limit: number) => ({
  text: `SELECT ${COLUMNS}, ${COUNTS} FROM collections c
          WHERE c.tenant_id = $1 AND ($2::text IS NULL OR c.name > $2) ORDER BY c.name LIMIT $3`,
  values: [tenantId, afterName, limit],
});

/**
 * Records and their history have no foreign key to collections (migrations/0001_baseline.sql: it cost a check per
 * written row), so deleting a collection removes them here. Syncs and restores of it are waited for
 * first (lockCollection); a manual edit racing the delete can at worst leave a row that no
 * query can reach (collection ids are never reused).
 */
export const deleteCollectionRecords = (tenantId: string, collectionId: string) => ({
  text: `WITH versions AS (DELETE FROM record_versions WHERE tenant_id = $1 AND collection_id = $2)
    DELETE FROM records WHERE tenant_id = $1 AND collection_id = $2`,
  values: [tenantId, collectionId],
});

/**
 * The one per-collection lock, held to the end of the transaction by whatever rewrites a collection's
 * records as a whole: a sync, a restore, a delete of the collection. They never interleave; work on
 * other collections takes other keys.
 */
export const lockCollection = (tenantId: string, collectionId: string): Statement => ({
  text: `SELECT pg_advisory_xact_lock(hashtextextended('sync-collection:' || $1 || ':' || $2, 0))`,
  values: [tenantId, collectionId],
});

export const deleteCollection = (tenantId: string, name: string) => ({
  text: 'DELETE FROM collections WHERE tenant_id = $1 AND name = $2 RETURNING id',
  values: [tenantId, name],
});

/**
 * Brings the collection's index rows in line with its declared fields: a new field gets a row to
 * build, a field no longer declared is marked for dropping (index-builder.ts does the DDL, outside
 * any transaction). A field declared again while being dropped is built again.
 */
export const syncIndexRows = (tenantId: string, collectionId: string, fields: string[]): Statement => ({
  text: `WITH declared AS (SELECT unnest($3::text[]) AS field),
         dropped AS (
           UPDATE collection_indexes SET state = 'dropping', updated_at = now()
            WHERE tenant_id = $1 AND collection_id = $2 AND state <> 'dropping'
              AND field NOT IN (SELECT field FROM declared))
         INSERT INTO collection_indexes (tenant_id, collection_id, field)
         SELECT $1, $2, field FROM declared
         ON CONFLICT (tenant_id, collection_id, field) DO UPDATE SET state = 'building', error = NULL,
           updated_at = now()
          WHERE collection_indexes.state IN ('dropping', 'failed')`,
  values: [tenantId, collectionId, fields],
});
