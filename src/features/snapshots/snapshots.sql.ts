import type { Statement } from '../../db/database.ts';

// Every statement filters by tenant explicitly; row-level security is the second wall.
//
// A snapshot is a change id S: it sees every change with a smaller id. The state of a record at S is
// the `records` row when its change_id < S, else the `record_versions` row with valid_from < S and
// S <= valid_to (a snapshot id never equals a change id, so for snapshots this is the documented
// valid_from < S < valid_to; the `<=` also makes S = "the first change after a timestamp" read the
// state just before that change). A record with neither did not exist at S.

const SNAPSHOT_COLUMNS = `s.id, s.change_id, s.label, s.auto, s.pinned, s.created_at,
  CASE WHEN s.pinned THEN NULL ELSE s.created_at + make_interval(days => $2::int) END AS expires_at`;

/** Taking a snapshot: one INSERT of the next change id, whatever the data size. */
export const insertSnapshot = (
  tenantId: string,
  retentionDays: number,
  s: { label: string | null; auto: boolean; pinned: boolean; createdAt: Date },
): Statement => ({
  text: `INSERT INTO snapshots AS s (tenant_id, change_id, label, auto, pinned, created_at, expires_at)
         VALUES ($1, nextval('change_seq'), $3, $4, $5, $6,
                 CASE WHEN $5 THEN NULL ELSE $6::timestamptz + make_interval(days => $2::int) END)
         RETURNING ${SNAPSHOT_COLUMNS}`,
  values: [tenantId, retentionDays, s.label, s.auto, s.pinned, s.createdAt],
});

export const findSnapshot = (tenantId: string, retentionDays: number, snapshotId: string): Statement => ({
  text: `SELECT ${SNAPSHOT_COLUMNS} FROM snapshots s WHERE s.tenant_id = $1 AND s.id = $3`,
  values: [tenantId, retentionDays, snapshotId],
});

/** Newest first, by change id (unique, and in the order snapshots were taken); the cursor is the last one. */
export const listSnapshots = (
  tenantId: string,
  retentionDays: number,
  afterChangeId: string | null,
  limit: number,
): Statement => ({
  text: `SELECT ${SNAPSHOT_COLUMNS} FROM snapshots s
          WHERE s.tenant_id = $1 AND ($3::bigint IS NULL OR s.change_id < $3::bigint)
          ORDER BY s.change_id DESC LIMIT $4`,
  values: [tenantId, retentionDays, afterChangeId, limit],
});

/** Relabel, pin or unpin. expires_at is kept in step: NULL while pinned. */
export const updateSnapshot = (
  tenantId: string,
  retentionDays: number,
  snapshotId: string,
  patch: { label?: string | null; pinned?: boolean },
): Statement => ({
  text: `UPDATE snapshots s SET
           label = CASE WHEN $4 THEN $5 ELSE s.label END,
           pinned = coalesce($6, s.pinned),
           expires_at = CASE WHEN coalesce($6, s.pinned) THEN NULL
                             ELSE s.created_at + make_interval(days => $2::int) END
          WHERE s.tenant_id = $1 AND s.id = $3
          RETURNING ${SNAPSHOT_COLUMNS}`,
  values: [
    tenantId,
    retentionDays,
    snapshotId,
    patch.label !== undefined,
    patch.label ?? null,
    patch.pinned ?? null,
  ],
});

export const deleteSnapshot = (tenantId: string, snapshotId: string): Statement => ({
  text: 'DELETE FROM snapshots WHERE tenant_id = $1 AND id = $2 RETURNING id',
  values: [tenantId, snapshotId],
});

/** asOf=<timestamp>: the first change of the tenant after it (its state is "just before"). */
export const firstChangeAfter = (tenantId: string, at: Date): Statement => ({
  text: 'SELECT min(id) AS id FROM changes WHERE tenant_id = $1 AND at > $2',
  values: [tenantId, at],
});

export const findCollectionByName = (tenantId: string, name: string): Statement => ({
  text: 'SELECT id, name FROM collections WHERE tenant_id = $1 AND name = $2',
  values: [tenantId, name],
});

export const listCollections = (tenantId: string): Statement => ({
  text: 'SELECT id, name FROM collections WHERE tenant_id = $1 ORDER BY id',
  values: [tenantId],
});

// --- reading the past ------------------------------------------------------------------------------

/** The state rows at S ($3) of collection $2, as a subquery over (record_id, data, …), `data` decoded. */
const STATE_AT = `(
    SELECT r.record_id, r.source, r.source_hash, r.upstream_gone, r.overrides, r.manual_delete,
           effective_value(r.data, r.source) AS data, r.version, r.updated_at
      FROM records r WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.change_id < $3
    UNION ALL
    SELECT v.record_id, v.source, v.source_hash, v.upstream_gone, v.overrides, v.manual_delete,
           effective_value(v.data, v.source) AS data, v.version, v.updated_at
      FROM record_versions v
     WHERE v.tenant_id = $1 AND v.collection_id = $2 AND v.valid_from < $3 AND v.valid_to >= $3
  )`;

/** Effective records at S, a page in record id order (deleted ones left out). */
export const listEffectiveAt = (
  tenantId: string,
  collectionId: string,
  at: string,
  after: string | null,
  limit: number,
): Statement => ({
  text: `SELECT st.record_id, st.data::text AS data_text FROM ${STATE_AT} st
          WHERE st.data IS NOT NULL AND ($4::text IS NULL OR st.record_id > $4)
          ORDER BY st.record_id LIMIT $5`,
  values: [tenantId, collectionId, at, after, limit],
});

/** One record's whole state at S (none if it did not exist yet). */
export const recordAt = (
  tenantId: string,
  collectionId: string,
  at: string,
  recordId: string,
): Statement => ({
  text: `SELECT st.record_id, st.source, st.source_hash, st.upstream_gone, st.overrides, st.manual_delete,
                st.data, st.data::text AS data_text, st.version, st.updated_at
           FROM ${STATE_AT} st WHERE st.record_id = $4`,
  values: [tenantId, collectionId, at, recordId],
});

/** Every record's whole state at S (tests and small collections; the API pages instead). */
export const allStatesAt = (tenantId: string, collectionId: string, at: string): Statement => ({
  text: `SELECT st.record_id, st.source, st.source_hash, st.upstream_gone, st.overrides, st.manual_delete, st.data
           FROM ${STATE_AT} st ORDER BY st.record_id`,
  values: [tenantId, collectionId, at],
});

/**
 * The rows written since S ($3), each with its state at S (`p_*`, all NULL when it did not exist
 * yet): records with change_id > S (index records_change), each with one probe of record_versions
 * by primary key. The cost follows the number of records changed, not the collection's size.
 *
 * The planner's estimate for "change_id > S" is about one row whenever S is newer than the last
 * ANALYZE (the usual case), so it picks nested loops. The probe must then be a primary-key lookup:
 * `valid_to + 0` keeps it off record_versions_valid_to, which with that estimate it would otherwise
 * pick and rescan per record (measured: 10k records changed in a 1M collection, 9.5 s instead of
 * 0.4 s). ORDER BY version walks the primary key backwards from the newest version.
 */
const CHANGED_SINCE = `
  SELECT r.record_id, r.source, r.data, r.change_id,
         p.record_id IS NOT NULL AS existed, p.source AS p_source, p.source_hash AS p_source_hash,
         coalesce(p.upstream_gone, false) AS p_upstream_gone, coalesce(p.overrides, '{}'::jsonb) AS p_overrides,
         p.manual_delete AS p_manual_delete, p.data AS p_data, p.source_parts AS p_source_parts
    FROM records r
    LEFT JOIN LATERAL (
      SELECT v.record_id, v.source, v.source_hash, v.upstream_gone, v.overrides, v.manual_delete, v.data,
             v.source_parts
        FROM record_versions v
       WHERE v.tenant_id = r.tenant_id AND v.collection_id = r.collection_id AND v.record_id = r.record_id
         AND v.valid_from < $3 AND v.valid_to + 0 >= $3
       ORDER BY v.version DESC
       LIMIT 1
    ) p ON true
   WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.change_id > $3`;

/**
 * Turns sorting off (or back on) for the rest of the transaction. Around the statements that probe
 * record_versions per changed record: with record_versions unanalysed or stale (a new collection, or
 * a history a minute old) the planner estimates one row for any scan of it and may probe through
 * record_versions_valid_to (every version of the collection, per record) plus a sort, instead of the
 * primary key, which needs no sort. Measured on 10k changed of 1M: 18.3 s, against 0.3 s.
 */
export const allowSort = (on: boolean): Statement => ({
  text: `SELECT set_config('enable_sort', $1, true)`,
  values: [on ? 'on' : 'off'],
});

// --- diff ------------------------------------------------------------------------------------------

/** Counts of effective-value changes since S, for one collection. */
export const diffCounts = (tenantId: string, collectionId: string, at: string): Statement => ({
  text: `SELECT count(*) FILTER (WHERE c.p_data IS NULL AND c.data IS NOT NULL)::int AS created,
                count(*) FILTER (WHERE c.p_data IS NOT NULL AND c.data IS NOT NULL
                  AND effective_value(c.p_data, c.p_source) <> effective_value(c.data, c.source))::int AS changed,
                count(*) FILTER (WHERE c.p_data IS NOT NULL AND c.data IS NULL)::int AS deleted
           FROM (${CHANGED_SINCE}) c`,
  values: [tenantId, collectionId, at],
});

/** The next batch of records written since S, in record id order, with their current value. */
export const changedSinceBatch = (
  tenantId: string,
  collectionId: string,
  at: string,
  after: string | null,
  limit: number,
): Statement => ({
  text: `SELECT r.record_id, effective_value(r.data, r.source) AS data FROM records r
          WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.change_id > $3
            AND ($4::text IS NULL OR r.record_id > $4)
          ORDER BY r.record_id LIMIT $5`,
  values: [tenantId, collectionId, at, after, limit],
});

/**
 * The values at S of the records named: one table, no join, so no plan can rescan record_versions
 * per record (see CHANGED_SINCE); at worst the planner reads the versions closed after S once.
 */
export const valuesAt = (
  tenantId: string,
  collectionId: string,
  at: string,
  recordIds: string[],
): Statement => ({
  text: `SELECT v.record_id, effective_value(v.data, v.source) AS data FROM record_versions v
          WHERE v.tenant_id = $1 AND v.collection_id = $2 AND v.record_id = ANY($4::text[])
            AND v.valid_from < $3 AND v.valid_to >= $3`,
  values: [tenantId, collectionId, at, recordIds],
});

// --- restore ---------------------------------------------------------------------------------------

/** Locks the rows written since S, so no one rewrites them between here and the restore. */
export const lockChangedSince = (tenantId: string, collectionId: string, at: string): Statement => ({
  text: `SELECT r.record_id FROM records r
          WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.change_id > $3
          FOR UPDATE`,
  values: [tenantId, collectionId, at],
});

export const insertRestoreChange = (
  tenantId: string,
  snapshotId: string,
  apiKeyId: string | null,
  at: Date,
): Statement => ({
  text: `INSERT INTO changes (tenant_id, id, at, kind, api_key_id, snapshot_id)
         VALUES ($1, nextval('change_seq'), $4, 'restore', $3, $2) RETURNING id`,
  values: [tenantId, snapshotId, apiKeyId, at],
});

/**
 * Writes back, as one new version each, every record whose stored state differs from its state at S
 * ($3); records made after S become "not existing": data, source and overrides cleared, the row kept
 * (rows are never hard-deleted; the history trigger keeps what they were). Rows written by a change
 * after this restore's ($4) are left alone. Returns how each record moved.
 */
export const restoreCollection = (
  tenantId: string,
  collectionId: string,
  at: string,
  changeId: string,
  updatedAt: Date,
): Statement => ({
  text: `UPDATE records r SET source = c.p_source, source_hash = c.p_source_hash, upstream_gone = c.p_upstream_gone,
                overrides = c.p_overrides, manual_delete = c.p_manual_delete, data = c.p_data,
                source_parts = c.p_source_parts, version = r.version + 1, change_id = $4, updated_at = $5
           FROM (${CHANGED_SINCE}) c
          WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = c.record_id AND r.change_id < $4
            AND (r.source IS DISTINCT FROM c.p_source OR r.source_hash IS DISTINCT FROM c.p_source_hash
              OR r.upstream_gone IS DISTINCT FROM c.p_upstream_gone OR r.overrides IS DISTINCT FROM c.p_overrides
              OR r.manual_delete IS DISTINCT FROM c.p_manual_delete
              OR r.source_parts IS DISTINCT FROM c.p_source_parts
              OR effective_value(r.data, r.source) IS DISTINCT FROM effective_value(c.p_data, c.p_source))
         RETURNING (c.data IS NULL) AS was_deleted, (c.p_data IS NULL) AS is_deleted`,
  values: [tenantId, collectionId, at, changeId, updatedAt],
});

/**
 * Records written since S ($3) that carry overrides, after the restore wrote them back: the only
 * records whose conflicts a restore can change (any other record is as it was at S).
 */
export const overriddenSince = (tenantId: string, collectionId: string, at: string): Statement => ({
  text: `SELECT r.record_id, r.source, r.overrides FROM records r
          WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.change_id > $3 AND r.overrides <> '{}'::jsonb`,
  values: [tenantId, collectionId, at],
});

/** The conflicts the restored state implies (JSON text in parameter $n), as rows x. */
const standingRows = (n: number) => `jsonb_to_recordset($${n}::jsonb) AS x(record_id text, path text,
  manual_value jsonb, source_value jsonb, previous_source_value jsonb)`;

/**
 * Open conflicts of records written since S ($3) whose premise the restore undid (the override is
 * gone, or the source at its path is back to what the override was based on): closed, status
 * resolved with no resolution, by the restoring key.
 */
export const closeMootConflicts = (
  tenantId: string,
  collectionId: string,
  at: string,
  standing: string,
  resolvedAt: Date,
  resolvedBy: string | null,
): Statement => ({
  text: `UPDATE conflicts f SET status = 'resolved', resolved_at = $5, resolved_by = $6
          WHERE f.tenant_id = $1 AND f.collection_id = $2 AND f.status = 'open'
            AND EXISTS (SELECT 1 FROM records r WHERE r.tenant_id = $1 AND r.collection_id = $2
                          AND r.record_id = f.record_id AND r.change_id > $3)
            AND NOT EXISTS (SELECT 1 FROM ${standingRows(4)} WHERE x.record_id = f.record_id AND x.path = f.path)
         RETURNING f.id`,
  values: [tenantId, collectionId, at, standing, resolvedAt, resolvedBy],
});

/**
 * Each standing conflict's row, per (record, path): the open one, else the latest resolved one, which
 * is reopened (resolved after S: its premise is back). Its values are set to what the restored state
 * shows, as a sync would. Rows already open with those values are not written.
 */
export const reopenStandingConflicts = (
  tenantId: string,
  collectionId: string,
  standing: string,
): Statement => ({
  text: `UPDATE conflicts f SET status = 'open', resolution = NULL, resolved_at = NULL, resolved_by = NULL,
                manual_value = t.manual_value, source_value = t.source_value,
                previous_source_value = t.previous_source_value
           FROM (SELECT DISTINCT ON (c.record_id, c.path) c.id, c.status AS was, x.manual_value, x.source_value,
                        x.previous_source_value
                   FROM ${standingRows(3)}
                   JOIN conflicts c ON c.tenant_id = $1 AND c.collection_id = $2
                                   AND c.record_id = x.record_id AND c.path = x.path
                  ORDER BY c.record_id, c.path, (c.status = 'open') DESC, c.created_at DESC, c.id DESC) t
          WHERE f.tenant_id = $1 AND f.id = t.id
            AND (f.status <> 'open' OR f.manual_value IS DISTINCT FROM t.manual_value
              OR f.source_value IS DISTINCT FROM t.source_value
              OR f.previous_source_value IS DISTINCT FROM t.previous_source_value)
         RETURNING (t.was <> 'open') AS reopened`,
  values: [tenantId, collectionId, standing],
});

/** Standing conflicts with no row at all (e.g. history older than conflicts): opened. */
export const openMissingConflicts = (
  tenantId: string,
  collectionId: string,
  standing: string,
  createdAt: Date,
): Statement => ({
  text: `INSERT INTO conflicts (tenant_id, collection_id, record_id, path, manual_value, source_value,
                                previous_source_value, status, created_at)
         SELECT $1, $2, x.record_id, x.path, x.manual_value, x.source_value, x.previous_source_value, 'open', $3
           FROM ${standingRows(4)}
          WHERE NOT EXISTS (SELECT 1 FROM conflicts c WHERE c.tenant_id = $1 AND c.collection_id = $2
                              AND c.record_id = x.record_id AND c.path = x.path)
         RETURNING id`,
  values: [tenantId, collectionId, createdAt, standing],
});

// --- retention -------------------------------------------------------------------------------------

export const listTenantIds = (): Statement => ({ text: 'SELECT id FROM tenants ORDER BY id', values: [] });

/** Every snapshot of the tenant, oldest first, with whether it expired at $2 (retention $3 days). */
export const snapshotsForRetention = (tenantId: string, now: Date, retentionDays: number): Statement => ({
  text: `SELECT s.id, s.change_id, s.label, s.auto, s.pinned, s.created_at,
                CASE WHEN s.pinned THEN NULL ELSE s.created_at + make_interval(days => $3::int) END AS expires_at,
                (NOT s.pinned AND s.created_at + make_interval(days => $3::int) <= $2) AS expired
           FROM snapshots s WHERE s.tenant_id = $1 ORDER BY s.created_at, s.id`,
  values: [tenantId, now, retentionDays],
});

export const deleteSnapshots = (tenantId: string, ids: string[]): Statement => ({
  text: 'DELETE FROM snapshots WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
  values: [tenantId, ids],
});

/**
 * The versions no longer needed: closed before the retention window's first change ($3; NULL when
 * no change happened inside the window, so every closed version is outside it), and holding no
 * retained snapshot in (valid_from, valid_to]. Retained = the tenant's snapshots except the expired
 * ones ($4; already deleted when not a dry run). One probe of snapshots_change per version.
 */
const PRUNABLE = `FROM record_versions v
   WHERE v.tenant_id = $1 AND v.collection_id = $2
     AND ($3::bigint IS NULL OR v.valid_to < $3::bigint)
     AND NOT EXISTS (SELECT 1 FROM snapshots s
                      WHERE s.tenant_id = $1 AND s.change_id > v.valid_from AND s.change_id <= v.valid_to
                        AND NOT (s.id = ANY($4::uuid[])))`;

export const countPrunableVersions = (
  tenantId: string,
  collectionId: string,
  windowStart: string | null,
  expired: string[],
): Statement => ({
  text: `SELECT count(*)::int AS count ${PRUNABLE}`,
  values: [tenantId, collectionId, windowStart, expired],
});

export const deletePrunableVersions = (
  tenantId: string,
  collectionId: string,
  windowStart: string | null,
  expired: string[],
): Statement => ({
  text: `WITH gone AS (DELETE ${PRUNABLE} RETURNING 1) SELECT count(*)::int AS count FROM gone`,
  values: [tenantId, collectionId, windowStart, expired],
});

export const countVersions = (tenantId: string, collectionId: string): Statement => ({
  text: 'SELECT count(*)::int AS count FROM record_versions WHERE tenant_id = $1 AND collection_id = $2',
  values: [tenantId, collectionId],
});
