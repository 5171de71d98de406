import type { Statement } from '../../db/database.ts';
import { isUuid } from '../../lib/uuid.ts';
import { HASH_CHARS } from '../../sync/stored-index.ts';

// The statements of a sync in a collection with several sources (docs/sources.md). The feed is staged
// in sync_feed and sync_gone as for one source (staging.sql.ts); `doc` holds the fields the source owns.

const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The source's own hash of a record: its part's, or for a record stored with one source, `default`'s. */
function partHash(name: string): string {
  return `CASE WHEN source_parts IS NULL THEN (CASE WHEN '${name}' = 'default' THEN source_hash END)
    ELSE source_parts->'${name}'->>'h' END`;
}

/** Whether the source has a part in the record (a record stored with one source: `default` has it all). */
function hasPart(name: string): string {
  return `CASE WHEN source_parts IS NULL THEN '${name}' = 'default' AND source IS NOT NULL AND NOT upstream_gone
    ELSE source_parts ? '${name}' END`;
}

/**
 * The stored index (src/sync/stored-index.ts) as one source sees the collection: flag 2 (comparable)
 * where the source has a part, and that part's hash, so an unchanged row of this source is never
 * parsed nor sent, whatever the other sources did. Names and ids are checked for their form before
 * they are inlined (COPY takes no parameters).
 */
export function copySourceIndex(tenantId: string, collectionId: string, name: string): string {
  if (!isUuid(tenantId) || !/^\d+$/.test(collectionId) || !SOURCE_NAME.test(name)) {
    throw new Error('copySourceIndex: malformed ids');
  }
  return `COPY (SELECT (CASE WHEN data IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN ${hasPart(name)} THEN 2 ELSE 0 END),
      left(${partHash(name)}, ${HASH_CHARS}), record_id
    FROM records WHERE tenant_id = '${tenantId}' AND collection_id = ${collectionId}
    ORDER BY record_id)`;
}

/**
 * Locks the stored records the staged rows and gone ids name, before they are read and merged: an
 * edit committed before is read and merged, a later one waits for the sync (as planFeed does).
 */
export function lockNamedRecords(tenantId: string, collectionId: string): Statement {
  return {
    text: `SELECT count(*)::int AS locked FROM (
        SELECT 1 FROM records r
         WHERE r.tenant_id = $1 AND r.collection_id = $2
           AND (r.record_id IN (SELECT record_id FROM sync_feed) OR r.record_id IN (SELECT record_id FROM sync_gone))
        FOR UPDATE OF r) s`,
    values: [tenantId, collectionId],
  };
}

// The merged source value is read only where it is needed (overrides to rebase, or no parts yet): with
// parts it is their merge, and reading it too doubled what each page carried.
const STORED_COLUMNS = `r.record_id IS NOT NULL AS stored, r.source IS NOT NULL AS from_upstream,
  CASE WHEN r.source_parts IS NULL OR r.overrides <> '{}'::jsonb THEN r.source END AS source,
  r.source_hash, r.source_parts,
  coalesce(r.upstream_gone, false) AS upstream_gone, coalesce(r.overrides, '{}'::jsonb) AS overrides,
  r.manual_delete, r.data IS NOT NULL AS live`;

/** A page of staged rows with what is stored for each, in id order after `afterId`. */
export function selectFeedPage(
  tenantId: string,
  collectionId: string,
  afterId: string | null,
  limit: number,
): Statement {
  return {
    text: `SELECT f.record_id, f.hash, f.deleted, f.doc, ${STORED_COLUMNS}
      FROM sync_feed f LEFT JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id
      WHERE ($3::text IS NULL OR f.record_id > $3)
      ORDER BY f.record_id LIMIT $4`,
    values: [tenantId, collectionId, afterId, limit],
  };
}

/** Full mode: a page of the stored records the source had and its feed no longer names. */
export function selectGonePage(
  tenantId: string,
  collectionId: string,
  afterId: string | null,
  limit: number,
): Statement {
  return {
    text: `SELECT g.record_id, NULL AS hash, true AS deleted, NULL AS doc, ${STORED_COLUMNS}
      FROM sync_gone g JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = g.record_id
      WHERE ($3::text IS NULL OR g.record_id > $3)
      ORDER BY g.record_id LIMIT $4`,
    values: [tenantId, collectionId, afterId, limit],
  };
}

/**
 * What the merge decided, a row per record: `insert` (new), `write` (new source value and parts),
 * `gone-keep` / `gone-delete` (no source has it any more: flagged, or deleted).
 */
export const createSourceRows = `CREATE TEMP TABLE sync_source_rows (record_id text COLLATE "C" NOT NULL,
  action text NOT NULL, source text, parts text NOT NULL, overrides text, data text) ON COMMIT DROP`;
export const copySourceRows = 'COPY sync_source_rows (record_id, action, source, parts, overrides, data)';

export function insertSourceRows(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `INSERT INTO records (tenant_id, collection_id, record_id, source, source_parts, data, version, change_id)
      SELECT $1, $2, m.record_id, m.source::jsonb, m.parts::jsonb, 'true'::jsonb, 1, $3
      FROM sync_source_rows m WHERE m.action = 'insert'`,
    values: [tenantId, collectionId, changeId],
  };
}

export function updateSourceRows(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `UPDATE records r SET
        source = CASE WHEN m.action = 'write' THEN m.source::jsonb ELSE r.source END,
        source_hash = NULL, source_parts = m.parts::jsonb,
        overrides = CASE WHEN m.action = 'write' THEN m.overrides::jsonb ELSE r.overrides END,
        data = CASE m.action WHEN 'write' THEN m.data::jsonb WHEN 'gone-delete' THEN NULL ELSE r.data END,
        upstream_gone = m.action <> 'write', version = r.version + 1, change_id = $3, updated_at = now()
      FROM sync_source_rows m
      WHERE m.action <> 'insert' AND r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = m.record_id`,
    values: [tenantId, collectionId, changeId],
  };
}

export const analyzeSourceRows = 'ANALYZE sync_source_rows';
