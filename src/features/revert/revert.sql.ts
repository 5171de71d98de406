import type { Statement } from '../../db/database.ts';

// Reverting one run (change id C): the records it wrote are those whose current row carries C
// (index records_change) and those whose version C was closed since (index record_versions_change).
// The version before C is the one C closed: the version number before (every write moves it by one and
// closes the one before, docs/internals.md) and valid_to = C, so one primary-key probe per record.
// The probe walks the primary key backwards from the record's version (ORDER BY version DESC LIMIT 1,
// which no other index serves): as a plain join, or with version equality, a plan made on stale
// statistics rescanned the collection's versions through record_versions_valid_to once per record
// (O(n²)). A gap in the versions reads as a missing version before, which refuses the revert rather
// than take the record for one the run made.

/** The version `version - 1` of `alias`'s record, if C closed it: one primary-key probe. */
const versionBefore = (alias: string) => `LEFT JOIN LATERAL (
    SELECT v.record_id, v.version, v.source, v.source_hash, v.upstream_gone, v.overrides, v.manual_delete,
           v.data, v.valid_to, v.source_parts
      FROM record_versions v
     WHERE v.tenant_id = $1 AND v.collection_id = $2 AND v.record_id = ${alias}.record_id
       AND v.version < ${alias}.version
     ORDER BY v.version DESC LIMIT 1) b ON b.version = ${alias}.version - 1 AND b.valid_to = $3`;

/**
 * records and record_versions when written much since their last ANALYZE (at least 1,000 rows and a
 * fifth of what they held). With no statistics, record_versions looks empty to the planner, and the
 * probe for the version before (versionBefore) went through record_versions_valid_to, filtering every
 * version of the collection once per record (O(n²): 168 s for a 1% run of 1M, auto_explain).
 */
export const staleTables = `SELECT c.relname::text AS relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
  WHERE s.relid IN ('records'::regclass, 'record_versions'::regclass)
    AND s.n_mod_since_analyze >= 1000 AND s.n_mod_since_analyze > greatest(c.reltuples, 0) / 5`;

/** The columns the revert's plans join and filter on; a small sample (the sync's, apply.sql.ts). */
export const analyzeLightly = `SELECT set_config('default_statistics_target', '10', true)`;
export const analyzeTable: Record<string, string> = {
  records: 'ANALYZE records (tenant_id, collection_id, record_id, change_id)',
  record_versions:
    'ANALYZE record_versions (tenant_id, collection_id, record_id, version, valid_from, valid_to)',
};

/** The run, its collection, and whether its change is older than the retention window (days). */
export function findRun(tenantId: string, runId: string, retentionDays: number): Statement {
  return {
    text: `SELECT r.id, r.collection_id::text AS collection_id, c.name AS collection, r.mode, r.status, r.dry_run,
        r.change_id::text AS change_id, coalesce(ch.at, r.finished_at) AS changed_at,
        coalesce(ch.at, r.finished_at) < now() - make_interval(days => $3::int) AS expired
      FROM sync_runs r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      LEFT JOIN changes ch ON ch.tenant_id = r.tenant_id AND ch.id = r.change_id
      WHERE r.tenant_id = $1 AND r.id = $2`,
    values: [tenantId, runId, retentionDays],
  };
}

const TOUCHED = `SELECT record_id FROM records WHERE tenant_id = $1 AND collection_id = $2 AND change_id = $3
  UNION SELECT record_id FROM record_versions WHERE tenant_id = $1 AND collection_id = $2 AND valid_from = $3`;

/** Locks every record the run wrote, before the revert's change id is drawn (docs/internals.md). */
export function lockTouched(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `SELECT r.record_id FROM records r
      WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id IN (${TOUCHED})
      FOR UPDATE OF r`,
    values: [tenantId, collectionId, changeId],
  };
}

// The records still at the run's version, each with the version before it (none: the run made it).
const UNTOUCHED = `SELECT r.record_id, r.version, r.data IS NULL AS was_deleted, b.record_id IS NOT NULL AS has_before,
    effective_value(r.data, r.source) IS DISTINCT FROM effective_value(b.data, b.source) AS visible,
    b.source, b.source_hash, coalesce(b.upstream_gone, false) AS upstream_gone,
    coalesce(b.overrides, '{}'::jsonb) AS overrides, b.manual_delete, b.data, b.source_parts
  FROM records r
  ${versionBefore('r')}
  WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.change_id = $3`;

/**
 * What reverting the untouched records does: how many, how many of them the site sees change
 * (`reverted`; a version that only marked a record gone upstream is not seen), how many come back
 * (deleted by the run) and go (made or revived by the run), and `missing`: versions the run replaced
 * that retention pruned.
 */
export function planUntouched(tenantId: string, collectionId: string, changeId: string): Statement {
  return {
    text: `SELECT count(*)::int AS records, count(*) FILTER (WHERE u.visible)::int AS reverted,
        count(*) FILTER (WHERE u.was_deleted AND u.data IS NOT NULL)::int AS revived,
        count(*) FILTER (WHERE NOT u.was_deleted AND u.data IS NULL)::int AS deleted,
        count(*) FILTER (WHERE NOT u.has_before AND u.version > 1)::int AS missing,
        ARRAY(SELECT x.record_id FROM (${UNTOUCHED} ORDER BY r.record_id LIMIT $4) x) AS sample
      FROM (${UNTOUCHED}) u`,
    values: [tenantId, collectionId, changeId, 20],
  };
}

/** Puts every untouched record back as it was before the run, one new version each ($4). */
export function revertUntouched(
  tenantId: string,
  collectionId: string,
  changeId: string,
  revertChangeId: string,
): Statement {
  return {
    text: `WITH u AS MATERIALIZED (${UNTOUCHED})
      UPDATE records r SET source = u.source, source_hash = u.source_hash, upstream_gone = u.upstream_gone,
        overrides = u.overrides, manual_delete = u.manual_delete, data = u.data,
        source_parts = u.source_parts, version = r.version + 1, change_id = $4, updated_at = now()
      FROM u WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = u.record_id AND r.change_id + 0 = $3`,
    values: [tenantId, collectionId, changeId, revertChangeId],
  };
}

/**
 * A page of the records written again after the run: the run's version (a_), the one before it
 * (b_, absent when the run made the record) and the current row (n_).
 */
export function selectRewritten(
  tenantId: string,
  collectionId: string,
  changeId: string,
  after: string | null,
  limit: number,
): Statement {
  const state = (t: string) =>
    `${t}.source AS ${t}_source, ${t}.source_hash AS ${t}_source_hash, ${t}.upstream_gone AS ${t}_upstream_gone,
     ${t}.overrides AS ${t}_overrides, ${t}.manual_delete AS ${t}_manual_delete, ${t}.data AS ${t}_data,
     ${t}.source_parts AS ${t}_source_parts`;
  return {
    text: `SELECT a.record_id, a.version AS a_version, b.record_id IS NOT NULL AS has_before,
        ${state('a')}, ${state('b')}, ${state('n')}
      FROM record_versions a
      JOIN records n ON n.tenant_id = $1 AND n.collection_id = $2 AND n.record_id = a.record_id
      ${versionBefore('a')}
      WHERE a.tenant_id = $1 AND a.collection_id = $2 AND a.valid_from = $3
        AND ($4::text IS NULL OR a.record_id > $4::text)
      ORDER BY a.record_id LIMIT $5`,
    values: [tenantId, collectionId, changeId, after, limit],
  };
}

/** The versions written after the run of the records named, oldest first, with the change of each. */
export function laterVersions(
  tenantId: string,
  collectionId: string,
  changeId: string,
  recordIds: string[],
): Statement {
  return {
    text: `SELECT x.record_id, x.change_id::text AS change_id, x.effective, ch.kind, ch.api_key_id,
        ch.sync_run_id, ch.snapshot_id, ch.at
      FROM (SELECT v.record_id, v.valid_from AS change_id, effective_value(v.data, v.source) AS effective
              FROM record_versions v
              WHERE v.tenant_id = $1 AND v.collection_id = $2 AND v.record_id = ANY($4::text[]) AND v.valid_from + 0 > $3
            UNION ALL
            SELECT r.record_id, r.change_id, effective_value(r.data, r.source)
              FROM records r
              WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = ANY($4::text[]) AND r.change_id > $3) x
      LEFT JOIN changes ch ON ch.tenant_id = $1 AND ch.id = x.change_id
      ORDER BY x.record_id, x.change_id`,
    values: [tenantId, collectionId, changeId, recordIds],
  };
}

/** The states computed in JS for rewritten records (JSON text), written as one new version each. */
export function writeStates(
  tenantId: string,
  collectionId: string,
  revertChangeId: string,
  states: string,
): Statement {
  return {
    text: `UPDATE records r SET source = x.source, source_hash = x.source_hash, upstream_gone = x.upstream_gone,
        overrides = x.overrides, manual_delete = x.manual_delete, data = x.data,
        source_parts = x.source_parts, version = r.version + 1, change_id = $3, updated_at = now()
      FROM jsonb_to_recordset($4::jsonb) AS x(record_id text, source jsonb, source_hash text,
        upstream_gone boolean, overrides jsonb, manual_delete jsonb, data jsonb, source_parts jsonb)
      WHERE r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = x.record_id`,
    values: [tenantId, collectionId, revertChangeId, states],
  };
}

export function snapshotBeforeRevert(tenantId: string, retentionDays: number): Statement {
  return {
    text: `INSERT INTO snapshots (tenant_id, change_id, label, auto, expires_at)
      VALUES ($1, nextval('change_seq'), 'before revert', true, now() + make_interval(days => $2::int)) RETURNING id`,
    values: [tenantId, retentionDays],
  };
}

export function insertRevertChange(
  tenantId: string,
  revertRunId: string,
  apiKeyId: string | null,
): Statement {
  return {
    text: `INSERT INTO changes (tenant_id, id, kind, sync_run_id, api_key_id)
      VALUES ($1, nextval('change_seq'), 'revert', $2, $3) RETURNING id::text AS id`,
    values: [tenantId, revertRunId, apiKeyId],
  };
}

/** The revert as a run in the collection's sync history (mode `revert`), written in its transaction. */
export function insertRevertRun(
  tenantId: string,
  runId: string,
  collectionId: string,
  revertsRunId: string,
  origin: unknown,
  counts: unknown,
  report: unknown,
  snapshotId: string | null,
  changeId: string | null,
): Statement {
  return {
    text: `INSERT INTO sync_runs (tenant_id, id, collection_id, mode, dry_run, forced, status, origin, counts,
        report, snapshot_id, change_id, reverts_run_id, finished_at)
      VALUES ($1, $2, $3, 'revert', false, false, 'succeeded', $4::jsonb, $5::jsonb, $6::jsonb, $7, $8, $9, now())`,
    values: [
      tenantId,
      runId,
      collectionId,
      JSON.stringify(origin),
      JSON.stringify(counts),
      JSON.stringify(report),
      snapshotId,
      changeId,
      revertsRunId,
    ],
  };
}
