import type { Statement } from '../../db/database.ts';

// What the staged feed does to the stored records: counts, and a few ids per kind of change.

const JOIN_RECORDS = `LEFT JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id`;
// A stored record the feed row must rewrite: new content, back from gone, or made by hand until now.
export const CHANGED = `(r.source_hash IS DISTINCT FROM f.hash OR r.upstream_gone OR r.source IS NULL)`;

/**
 * What the feed does to the stored records, in one pass over the staged feed: each staged row's stored
 * record is probed once (by primary key), counted and, with `lock`, locked. The lock is what keeps a
 * concurrent edit from being lost: the plan and the writes decide from what a record holds (whether it
 * has overrides; the merge of its overrides, done in JS), and without it an edit committed between
 * that read and the write was overwritten (its override kept, its effective value replaced by the
 * source). With it, an edit either committed before the lock and is counted (FOR UPDATE reads the
 * newest version of a row it waited for), or waits for the sync. A dry run writes nothing and locks
 * nothing. Unchanged and new rows are not in sync_feed, so this is the change's size, not the feed's.
 * The staged rows with no stored record (to create) are `upserts - matched`: an outer join cannot lock.
 */
export function planFeed(tenantId: string, collectionId: string, lock: boolean): Statement {
  return {
    text: `SELECT
        (SELECT count(*) FROM sync_feed WHERE NOT deleted)::int AS upserts,
        count(*) FILTER (WHERE NOT s.deleted)::int AS matched,
        count(*) FILTER (WHERE NOT s.deleted AND s.changed)::int AS changed,
        count(*) FILTER (WHERE NOT s.deleted AND s.changed AND s.revived)::int AS revived,
        count(*) FILTER (WHERE NOT s.deleted AND s.changed AND s.overridden)::int AS to_merge,
        count(*) FILTER (WHERE s.deleted AND s.live_from_source)::int AS tombstoned
      FROM (SELECT f.deleted, ${CHANGED} AS changed,
              r.data IS NULL AND r.manual_delete IS NULL AS revived,
              r.overrides <> '{}'::jsonb AS overridden,
              r.data IS NOT NULL AND r.source IS NOT NULL AS live_from_source
            FROM sync_feed f JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id
            ${lock ? 'FOR UPDATE OF r' : ''}) s`,
    values: [tenantId, collectionId],
  };
}

/**
 * Full mode, over the ids staged in sync_gone by the client: `gone`, the records newly gone upstream;
 * `live_gone`, the live ones among those and (policy `delete` only: the client stages them then) the
 * live ones an earlier sync had marked gone.
 */
export function planGone(tenantId: string, collectionId: string): Statement {
  return {
    text: `SELECT count(*) FILTER (WHERE NOT r.upstream_gone)::int AS gone,
        count(*) FILTER (WHERE r.data IS NOT NULL)::int AS live_gone
      FROM sync_gone g JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = g.record_id
      WHERE r.source IS NOT NULL`,
    values: [tenantId, collectionId],
  };
}

/** A few ids per kind of change, for the plan a dry run returns. */
export function samplePlan(
  tenantId: string,
  collectionId: string,
  fullMode: boolean,
  limit: number,
): Statement {
  return {
    text: `SELECT
      ARRAY(SELECT f.record_id FROM sync_feed f ${JOIN_RECORDS} WHERE NOT f.deleted AND r.record_id IS NULL
        ORDER BY f.row_no LIMIT $4) AS create,
      ARRAY(SELECT f.record_id FROM sync_feed f ${JOIN_RECORDS} WHERE NOT f.deleted AND r.record_id IS NOT NULL
        AND ${CHANGED} ORDER BY f.row_no LIMIT $4) AS update,
      ARRAY(SELECT x.record_id FROM (
        SELECT f.record_id FROM sync_feed f ${JOIN_RECORDS} WHERE f.deleted AND r.data IS NOT NULL AND r.source IS NOT NULL
        UNION ALL
        SELECT g.record_id FROM sync_gone g
          JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = g.record_id
          WHERE $3::boolean AND r.source IS NOT NULL AND r.data IS NOT NULL
        LIMIT $4) x) AS delete`,
    values: [tenantId, collectionId, fullMode, limit],
  };
}
