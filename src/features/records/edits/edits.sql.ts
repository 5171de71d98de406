import type { Statement } from '../../../db/database.ts';
import { RECORD_COLUMNS } from '../records.sql.ts';
import type { NewState } from './plan-series.ts';

// The statements of a record edit. Every one filters by tenant explicitly; row-level security is the
// second wall.

/**
 * The collection's settings and the record, for each of several reads of one tenant, in one statement
 * that is its own tenant transaction (src/db/functions.sql); `reads` is their JSON array, as
 * recordReads (../batched-reads.ts) builds it, and `i` says whose row is whose. Run it on the pool.
 */
export const readRecordsAsTenant = (tenantId: string, reads: string): Statement => ({
  text: `SELECT i, collection_id, id_field, delete_policy, record_id, source, upstream_gone, overrides, manual_delete,
                data, version, change_id, updated_at
           FROM read_records_as_tenant($1, $2::jsonb)`,
  values: [tenantId, reads],
});

/** One record's series as write_series_as_tenant takes it (src/db/functions.sql). */
export interface SeriesElement {
  collection_id: string;
  record_id: string;
  /** The version the series was planned from: written only if the record is still at it... */
  version: number;
  /** ...and its collection still has this delete policy (a revert depends on it). */
  delete_policy: 'delete' | 'keep';
  /** JSON texts stay text: the function casts them. */
  states: Array<{
    api_key_id: string | null;
    overrides: string;
    manual_delete: string | null;
    data: string | null;
  }>;
}

export function seriesElement(
  collectionId: string,
  recordId: string,
  version: number,
  deletePolicy: 'delete' | 'keep',
  states: readonly NewState[],
): SeriesElement {
  return {
    collection_id: collectionId,
    record_id: recordId,
    version,
    delete_policy: deletePolicy,
    states: states.map((state) => ({
      api_key_id: state.apiKeyId,
      overrides: state.overrides,
      manual_delete: state.manualDelete,
      data: state.data,
    })),
  };
}

/**
 * Series of one tenant's records, in one statement that is its own tenant transaction; `series` is the
 * JSON array of their SeriesElements, each with its index `i`. Rows say which were written. Run it on
 * the pool.
 */
export const writeSeriesAsTenant = (tenantId: string, series: string): Statement => ({
  text: `SELECT i, version, updated_at FROM write_series_as_tenant($1, $2::jsonb)`,
  values: [tenantId, series],
});

/**
 * The collection's settings and its record `recordId`, locked for a write: concurrent writers of one
 * record queue here and each sees the last. No row: no such collection; a NULL version: no record yet.
 */
export const lockRecord = (tenantId: string, collection: string, recordId: string): Statement => ({
  text: `SELECT c.id AS collection_id, c.id_field, c.delete_policy, r.*
           FROM collections c
           LEFT JOIN LATERAL (
             SELECT ${RECORD_COLUMNS} FROM records r
              WHERE r.tenant_id = c.tenant_id AND r.collection_id = c.id AND r.record_id = $3
              FOR UPDATE) r ON true
          WHERE c.tenant_id = $1 AND c.name = $2`,
  values: [tenantId, collection, recordId],
});

/** A record's identity in a write under the lock. */
export interface LockedKey {
  tenantId: string;
  collectionId: string;
  recordId: string;
}

// The change row and the record write go in one statement: one round trip, and the change id is
// drawn after the row lock was taken (so a record's versions get increasing change ids).
const NEW_CHANGE = `WITH ch AS (
    INSERT INTO changes (tenant_id, id, kind, api_key_id) VALUES ($1, nextval('change_seq'), 'api', $4)
    RETURNING id, at)`;

const stateValues = (key: LockedKey, state: NewState) => [
  key.tenantId,
  key.collectionId,
  key.recordId,
  state.apiKeyId,
  state.overrides,
  state.manualDelete,
  state.data,
];

/** The next state of a record the transaction holds locked. */
export const updateRecord = (key: LockedKey, state: NewState): Statement => ({
  text: `${NEW_CHANGE}
         UPDATE records r SET overrides = $5::jsonb, manual_delete = $6::jsonb, data = $7::jsonb,
                version = r.version + 1, change_id = ch.id, updated_at = ch.at
           FROM ch
          WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = $3
         RETURNING r.version, r.updated_at`,
  values: stateValues(key, state),
});

/** A record made by hand; nothing is inserted when a concurrent writer made it first. */
export const insertRecord = (key: LockedKey, state: NewState): Statement => ({
  text: `${NEW_CHANGE}
         INSERT INTO records AS r (tenant_id, collection_id, record_id, source, overrides, manual_delete, data,
                version, change_id, updated_at)
         SELECT $1, $2, $3, NULL, $5::jsonb, $6::jsonb, $7::jsonb, 1, ch.id, ch.at FROM ch
         ON CONFLICT (collection_id, record_id) DO NOTHING
         RETURNING r.version, r.updated_at`,
  values: stateValues(key, state),
});
