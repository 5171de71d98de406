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
 * The record changes after `after`, in (xid, change id, collection id, record id) order, among the
 * changes whose transaction ended before this snapshot's xmin (so none can commit behind them later).
 * Reads the rows each writer already wrote: the change's current versions in records, its closed ones
 * in record_versions, each with the version before it (to diff) when there is one; of the tenant's
 * collections, or of the one named `collection`. At most
 * `changeLimit` changes and `limit` rows. Always one row at least: `xmin` (up to where this read
 * could see), `changes_read`, the last change read, and `pending` (committed changes wait behind a
 * transaction still open: the caller polls for them); the change columns are NULL when none follows.
 */
export function readFeed(
  tenantId: string,
  collection: string | null,
  after: FeedPosition,
  changeLimit: number,
  limit: number,
  seen: string | null = null,
): Statement {
  return {
    text: `WITH snap AS MATERIALIZED (SELECT ${XMIN} AS xmin),
      cols AS MATERIALIZED (SELECT coalesce(array_agg(id), '{}') AS ids FROM collections
        WHERE tenant_id = $1 AND ($2::text IS NULL OR name = $2)),
      ch AS MATERIALIZED (
        SELECT c.id, c.xid, c.at, c.kind, c.api_key_id, c.sync_run_id, c.snapshot_id FROM changes c
        WHERE c.tenant_id = $1 AND c.xid < (SELECT xmin FROM snap) AND (c.xid, c.id) >= ($3::xid8, $4::bigint)
          AND ($10::text IS NULL OR NOT pg_visible_in_snapshot(c.xid, $10::pg_snapshot))
        ORDER BY c.xid, c.id LIMIT $7),
      last AS (SELECT xid, id FROM ch ORDER BY xid DESC, id DESC LIMIT 1),
      pend AS MATERIALIZED (SELECT EXISTS (SELECT 1 FROM changes c WHERE c.tenant_id = $1
        AND c.xid >= (SELECT xmin FROM snap)) AS pending),
      feed AS (
        SELECT ch.xid, ch.id AS change_id, ch.at, ch.kind, ch.api_key_id, ch.sync_run_id, ch.snapshot_id,
          x.collection_id, x.record_id, x.version, x.data_text
        FROM ch CROSS JOIN LATERAL unnest((SELECT ids FROM cols)::bigint[]) AS col(id)
        CROSS JOIN LATERAL (
          -- Per collection, each part walked in record id order with its own limit: a change of a
          -- million rows is read page by page along an index, not sorted again for every page.
          SELECT u.collection_id, u.record_id, u.version, u.data_text FROM (
            -- A change read from its start: its rows through records_change, sorted (small changes;
            -- the first page of a big one). A page that continues a change the last one cut ($9):
            -- the primary key walked from the cursor (change_id + 0 keeps the planner off
            -- records_change), so a change of a million rows is not sorted again for every page.
            (SELECT r.collection_id, r.record_id, r.version, effective_value(r.data, r.source)::text AS data_text
              FROM records r WHERE NOT (ch.id = $4::bigint AND $9::boolean)
                AND r.tenant_id = $1 AND r.collection_id = col.id AND r.change_id = ch.id
                AND (ch.id <> $4::bigint OR col.id > $5::bigint OR (col.id = $5::bigint AND r.record_id > $6::text))
              ORDER BY r.record_id || '' LIMIT $8)
            UNION ALL
            (SELECT r.collection_id, r.record_id, r.version, effective_value(r.data, r.source)::text AS data_text
              FROM records r WHERE ch.id = $4::bigint AND $9::boolean
                AND r.tenant_id = $1 AND r.collection_id = col.id AND r.change_id + 0 = ch.id
                AND (col.id > $5::bigint OR (col.id = $5::bigint AND r.record_id > $6::text))
              ORDER BY r.record_id LIMIT $8)
            UNION ALL
            (SELECT v.collection_id, v.record_id, v.version, effective_value(v.data, v.source)::text
              FROM record_versions v
              WHERE v.tenant_id = $1 AND v.collection_id = col.id AND v.valid_from = ch.id
                AND (ch.id <> $4::bigint OR col.id > $5::bigint OR (col.id = $5::bigint AND v.record_id > $6::text))
              ORDER BY v.record_id LIMIT $8)) u
          ORDER BY u.record_id LIMIT $8) x
        ORDER BY ch.xid, ch.id, x.collection_id, x.record_id LIMIT $8)
      SELECT s.xmin::text AS xmin, (SELECT count(*) FROM ch)::int AS changes_read,
        (SELECT xid::text FROM last) AS last_xid, (SELECT id FROM last) AS last_change_id,
        (SELECT pending FROM pend) AS pending,
        f.xid::text AS xid, f.change_id, f.at, f.kind, f.api_key_id, f.sync_run_id, f.snapshot_id,
        f.collection_id, f.record_id, f.version, f.data_text,
        (SELECT effective_value(p.data, p.source)::text FROM record_versions p
          WHERE f.version > 1 AND p.tenant_id = $1 AND p.collection_id = f.collection_id
            AND p.record_id = f.record_id AND p.version = f.version - 1) AS before_text
      FROM snap s LEFT JOIN feed f ON true
      ORDER BY f.xid, f.change_id, f.collection_id, f.record_id`,
    values: [
      tenantId,
      collection,
      after.xid,
      after.changeId,
      after.collectionId,
      after.recordId,
      changeLimit,
      limit,
      after.recordId !== '' && after.collectionId !== LAST_COLLECTION,
      seen,
    ],
  };
}
