import type { Statement } from '../../db/database.ts';

// A run's first statements under its transaction: the collection's lock, the automatic snapshot and the
// change id every row the run writes carries.

/** The collection's sync lock (collections.sql.ts lockCollection) if free now: `locked` says whether. */
export function tryLockCollection(tenantId: string, collectionId: string): Statement {
  return {
    text: `SELECT pg_try_advisory_xact_lock(hashtextextended('sync-collection:' || $1 || ':' || $2, 0)) AS locked`,
    values: [tenantId, collectionId],
  };
}

export function snapshotBefore(tenantId: string, retentionDays: number): Statement {
  return {
    text: `INSERT INTO snapshots (tenant_id, change_id, label, auto, expires_at)
      VALUES ($1, nextval('change_seq'), 'before sync', true, now() + make_interval(days => $2::int)) RETURNING id`,
    values: [tenantId, retentionDays],
  };
}

export const nextChangeId = `SELECT nextval('change_seq')::text AS id`;
