import type { Statement } from '../../db/database.ts';
import { isUuid } from '../../lib/uuid.ts';
import { HASH_CHARS } from '../../sync/stored-index.ts';

// The feed as it is streamed: staged in the temp table sync_feed (record_id, row_no, hash, deleted, doc
// text) for the length of the run's transaction, gone ids in sync_gone, new ids straight into records.

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
