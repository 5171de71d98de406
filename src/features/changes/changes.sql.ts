import type { Statement } from '../../db/database.ts';

/** The snapshot's xmin: every transaction with a smaller id has ended (docs/changes.md). */
const XMIN = 'pg_snapshot_xmin(pg_current_snapshot())';

/** The tenant's collections (id → name); the feed of one collection names just that one. */
export function listCollections(tenantId: string, name: string | null): Statement {
  return {
    text: `SELECT id, name FROM collections WHERE tenant_id = $1 AND ($2::text IS NULL OR name = $2) ORDER BY id`,
    values: [tenantId, name],
  };
}

export function horizon(tenantId: string): Statement {
  return {
    text: `SELECT pruned_before FROM change_feed_horizons WHERE tenant_id = $1`,
    values: [tenantId],
  };
}

/** Called by retention when it deletes versions: cursors read before `prunedBefore` expire. */
export function raiseHorizon(tenantId: string, prunedBefore: Date): Statement {
  return {
    text: `INSERT INTO change_feed_horizons (tenant_id, pruned_before) VALUES ($1, $2)
      ON CONFLICT (tenant_id) DO UPDATE SET pruned_before = GREATEST(change_feed_horizons.pruned_before, EXCLUDED.pruned_before)`,
    values: [tenantId, prunedBefore],
  };
}

/**
 * Where a consumer stands when it has seen everything committed so far: the snapshot's xmin, and the
 * snapshot itself, whose visible changes (committed, though with ids above xmin) it has seen too.
 */
export const currentSnapshot = `SELECT ${XMIN}::text AS xmin, pg_current_snapshot()::text AS snapshot`;

export interface FeedPosition {
  xid: string;
  changeId: string;
  collectionId: string;
  recordId: string;
}

/** A collection id above every real one: (xid, id, LAST_COLLECTION, '') is "after all of change id". */
export const LAST_COLLECTION = '9223372036854775807';

/**
 * Settings for the rest of a transaction that reads the feed: no JIT (compiling the feed statement
 * cost more than running a page of it), and the room to sort a page in memory.
 */
export const readSettings = `SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true)`;

/**
 * The changes to serve after `after`, in (xid, change id) order: of this tenant, whose transaction
 * ended before the snapshot's xmin `snap.xmin` (so none can commit behind them later), not already
 * visible in the cursor's `seen` snapshot ($10). At most $7. An ordered subquery, so that the rows of
 * the changes come out in this order too and a page stops reading once it is full.
 */
const CHANGES_AFTER = `SELECT c.id, c.xid, c.at, c.kind, c.api_key_id, c.sync_run_id, c.snapshot_id FROM changes c
        WHERE c.tenant_id = $1 AND c.xid < (SELECT xmin FROM snap) AND (c.xid, c.id) >= ($3::xid8, $4::bigint)
          AND ($10::text IS NULL OR NOT pg_visible_in_snapshot(c.xid, $10::pg_snapshot))
        ORDER BY c.xid, c.id LIMIT $7`;

/**
 * One part of a change's rows in one collection (`part`: records, its current versions, or
 * record_versions, its closed ones, whose change id column is `changeColumn`), in record id order
 * along an index on (change id, collection_id, record_id): all of them, or, for the change and
 * collection the cursor stopped in, those after its record id. Each page is one range of the index,
 * however big the change.
 */
function changeRows(part: 'records' | 'record_versions', changeColumn: string): string {
  // records_change indexes the record id as this expression (migration 0011); same order as record_id.
  const key = part === 'records' ? `(r.record_id || '')` : 'r.record_id';
  // The value's text only where it is read: with include=data, or to diff an update (version > 1);
  // otherwise '' for a live record and NULL for a deleted one, which is all that tells the op.
  const data = `CASE WHEN $11::boolean OR r.version > 1 THEN effective_value(r.data, r.source)::text
    WHEN r.data IS NULL THEN NULL ELSE '' END`;
  const columns = `r.collection_id, r.record_id, r.version, ${data} AS data_text`;
  const change = `r.tenant_id = $1 AND r.collection_id = col.id AND r.${changeColumn} = ch.id`;
  return `(SELECT ${columns} FROM ${part} r
              WHERE NOT (ch.id = $4::bigint AND col.id <= $5::bigint) AND ${change}
              ORDER BY ${key} LIMIT $8)
            UNION ALL
            (SELECT ${columns} FROM ${part} r
              WHERE ch.id = $4::bigint AND col.id = $5::bigint AND ${change} AND ${key} > $6::text
              ORDER BY ${key} LIMIT $8)`;
}

/**
 * The record changes after `after`, in (xid, change id, collection id, record id) order, among the
 * changes whose transaction ended before the snapshot's xmin (so none can commit behind them later),
 * or before `upTo`, an xmin an earlier read of the same stream took. Reads the rows each writer
 * already wrote: the change's current versions in records, its closed ones in record_versions, each
 * with the version before it (to diff) when there is one; of the tenant's collections, or of the one
 * named `collection`. At most `changeLimit` changes and `limit` rows; the new values' text only with
 * `withData` (and for updates, to diff them). Always one row at least: `xmin`
 * (up to where this read could see), `changes_read`, the last change read, and `pending` (committed
 * changes wait behind a transaction still open: the caller polls for them); the change columns are
 * NULL when none follows.
 */
export function readFeed(
  tenantId: string,
  collection: string | null,
  after: FeedPosition,
  changeLimit: number,
  limit: number,
  seen: string | null = null,
  upTo: string | null = null,
  withData = true,
): Statement {
  return {
    text: `WITH snap AS MATERIALIZED (SELECT coalesce($9::xid8, ${XMIN}) AS xmin),
      cols AS MATERIALIZED (SELECT coalesce(array_agg(id ORDER BY id), '{}') AS ids FROM collections
        WHERE tenant_id = $1 AND ($2::text IS NULL OR name = $2)),
      ch AS MATERIALIZED (${CHANGES_AFTER}),
      last AS (SELECT xid, id FROM ch ORDER BY xid DESC, id DESC LIMIT 1),
      pend AS MATERIALIZED (SELECT EXISTS (SELECT 1 FROM changes c WHERE c.tenant_id = $1
        AND c.xid >= (SELECT xmin FROM snap)) AS pending)
      -- The head row first, then the feed rows as the ordered subquery yields them (no sort of the page).
      SELECT 0 AS part, s.xmin::text AS xmin, (SELECT count(*) FROM ch)::int AS changes_read,
        (SELECT xid::text FROM last) AS last_xid, (SELECT id FROM last) AS last_change_id,
        (SELECT pending FROM pend) AS pending,
        -- What a change's rows share, once: [[id, at, kind, API key, sync run, snapshot], …], the time
        -- as toISOString() writes it.
        (SELECT json_agg(json_build_array(ch.id::text, to_char(ch.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          ch.kind, ch.api_key_id, ch.sync_run_id, ch.snapshot_id))::text FROM ch) AS changes_text,
        NULL::xid8 AS xid, NULL::bigint AS change_id, NULL::bigint AS collection_id, NULL::text COLLATE "C" AS record_id,
        NULL::int AS version, NULL::text AS data_text, NULL::text AS before_text
      FROM snap s
      UNION ALL
      SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, f.xid, f.change_id, f.collection_id, f.record_id, f.version,
        f.data_text,
        (SELECT effective_value(p.data, p.source)::text FROM record_versions p
          WHERE f.version > 1 AND p.tenant_id = $1 AND p.collection_id = f.collection_id
            AND p.record_id = f.record_id AND p.version = f.version - 1)
      FROM (
        SELECT ch.xid, ch.id AS change_id, x.collection_id, x.record_id, x.version, x.data_text
        FROM (${CHANGES_AFTER}) ch CROSS JOIN LATERAL unnest((SELECT ids FROM cols)::bigint[]) AS col(id)
        CROSS JOIN LATERAL (
          SELECT u.collection_id, u.record_id, u.version, u.data_text FROM (
            ${changeRows('records', 'change_id')}
            UNION ALL
            ${changeRows('record_versions', 'valid_from')}) u
          ORDER BY u.record_id LIMIT $8) x
        ORDER BY ch.xid, ch.id, x.collection_id, x.record_id LIMIT $8) f
      ORDER BY part, xid, change_id, collection_id, record_id`,
    values: [
      tenantId,
      collection,
      after.xid,
      after.changeId,
      after.collectionId,
      after.recordId,
      changeLimit,
      limit,
      upTo,
      seen,
      withData,
    ],
  };
}
