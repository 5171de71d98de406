import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../db/database.ts';
import { asOwner, withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import { getAt, type JsonObject, type JsonValue, jsonEqual, parsePointer } from '../../json/index.ts';
import { lockCollection } from '../collections/collections.sql.ts';
import { settleConflicts } from '../snapshots/restore.ts';
import { effectiveOf, revertRecord, type StoredState } from './record-revert.ts';
import * as sql from './revert.sql.ts';

/** What kept a field the run had changed: the last change after the run that rewrote it. */
export type KeptBy = {
  kind: 'sync' | 'manual' | 'restore' | 'revert' | 'unknown';
  changeId: string;
  at: string | null;
  syncRunId?: string;
  apiKeyId?: string;
  snapshotId?: string;
};

export type KeptField = { recordId: string; path: string; keptBy: KeptBy };

export type RevertResult = {
  /** The revert's own run (mode `revert`); null for a dry run. */
  id: string | null;
  syncId: string;
  collection: string;
  dryRun: boolean;
  changeId: string | null;
  snapshotId: string | null;
  counts: {
    /** Records the run wrote. */
    records: number;
    /** Records whose effective value the revert changes. */
    reverted: number;
    /** Records the revert writes (a new version each): also those whose source alone goes back. */
    written: number;
    /** Deleted by the run, back now. */
    revived: number;
    /** Made (or revived) by the run, deleted now. */
    deleted: number;
    /** Fields kept because a later change rewrote them, and the records they belong to. */
    keptFields: number;
    keptRecords: number;
  };
  kept: KeptField[];
  /** More kept fields than `kept` lists (it holds the first KEPT_LISTED). */
  keptTruncated: boolean;
};

const PAGE = 1000;
const KEPT_LISTED = 1000;

type RunRow = {
  id: string;
  collection_id: string;
  collection: string;
  mode: string;
  status: string;
  dry_run: boolean;
  change_id: string | null;
  changed_at: Date | null;
  expired: boolean;
};

type RewrittenRow = { record_id: string; a_version: number; has_before: boolean } & Record<string, unknown>;

/**
 * Reverts one run (a sync, or a revert, which re-applies what that one undid): one transaction under
 * the collection's lock, so it is all-or-nothing and never interleaves with a sync or a restore. Reads
 * and writes only the records the run wrote (docs/run-safety.md).
 */
export class RevertService {
  constructor(
    private readonly db: Database,
    private readonly options: { snapshotRetentionDays: number },
  ) {}

  async revert(
    tenantId: string,
    runId: string,
    request: { dryRun: boolean; apiKeyId: string | null },
  ): Promise<RevertResult> {
    return withTenant(this.db, tenantId, async (tx) => {
      const run = await this.requireRevertable(tx, tenantId, runId);
      const cid = run.collection_id;
      const result: RevertResult = {
        id: null,
        syncId: run.id,
        collection: run.collection,
        dryRun: request.dryRun,
        changeId: null,
        snapshotId: null,
        counts: {
          records: 0,
          reverted: 0,
          written: 0,
          revived: 0,
          deleted: 0,
          keptFields: 0,
          keptRecords: 0,
        },
        kept: [],
        keptTruncated: false,
      };
      if (run.change_id === null) return result;
      const runChange = run.change_id;
      await tx.query(lockCollection(tenantId, cid));
      await refreshStaleStatistics(tx);
      if (!request.dryRun) await tx.query(sql.lockTouched(tenantId, cid, runChange));

      const [plan] = await tx.query<{
        records: number;
        reverted: number;
        revived: number;
        deleted: number;
        missing: number;
      }>(sql.planUntouched(tenantId, cid, runChange));
      if (plan!.missing > 0) throw historyPruned(runId);
      const revertRunId = randomUUID();
      let revertChange: string | null = null;
      if (!request.dryRun) {
        const [snapshot] = await tx.query<{ id: string }>(
          sql.snapshotBeforeRevert(tenantId, this.options.snapshotRetentionDays),
        );
        result.snapshotId = snapshot!.id;
        const [change] = await tx.query<{ id: string }>(
          sql.insertRevertChange(tenantId, revertRunId, request.apiKeyId),
        );
        revertChange = change!.id;
        result.changeId = revertChange;
      }
      // Rewritten records first: reverting the untouched ones closes their run versions, which would
      // then read as rewritten.
      await this.revertRewritten(tx, tenantId, cid, runChange, revertChange, result);
      if (revertChange !== null) await tx.query(sql.revertUntouched(tenantId, cid, runChange, revertChange));
      result.counts.records += plan!.records;
      result.counts.reverted += plan!.reverted;
      result.counts.written += plan!.records;
      result.counts.revived += plan!.revived;
      result.counts.deleted += plan!.deleted;

      if (revertChange !== null) {
        await settleConflicts(tx, tenantId, cid, (BigInt(revertChange) - 1n).toString(), {
          now: new Date(),
          apiKeyId: request.apiKeyId,
        });
        result.id = revertRunId;
        const report = { kept: result.kept, keptTruncated: result.keptTruncated };
        await tx.query(
          sql.insertRevertRun(
            tenantId,
            revertRunId,
            cid,
            run.id,
            { kind: 'revert', ...(request.apiKeyId ? { apiKeyId: request.apiKeyId } : {}) },
            result.counts,
            report,
            result.snapshotId,
            revertChange,
          ),
        );
      }
      return result;
    });
  }

  private async requireRevertable(tx: Queryable, tenantId: string, runId: string): Promise<RunRow> {
    const [run] = await tx.query<RunRow>(sql.findRun(tenantId, runId, this.options.snapshotRetentionDays));
    if (!run) throw new AppError('sync_not_found', `No sync run ${runId}`);
    if (run.status !== 'succeeded' || run.dry_run) {
      throw new AppError(
        'run_not_revertable',
        `Sync run ${runId} is ${run.dry_run ? 'a dry run' : run.status}: it applied nothing to revert`,
      );
    }
    if (run.expired) throw historyPruned(runId, this.options.snapshotRetentionDays);
    return run;
  }

  /**
   * The records written again after the run, page by page: each decided field by field in JS
   * (record-revert.ts), written back as one statement a page, and what stays is reported with the
   * change that kept it.
   */
  private async revertRewritten(
    tx: Queryable,
    tenantId: string,
    cid: string,
    runChange: string,
    revertChange: string | null,
    result: RevertResult,
  ): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const rows: RewrittenRow[] = await tx.query<RewrittenRow>(
        sql.selectRewritten(tenantId, cid, runChange, after, PAGE),
      );
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.record_id;
      const writes: (StoredState & { record_id: string })[] = [];
      const keptHere: { recordId: string; paths: string[] }[] = [];
      for (const row of rows) {
        if (!row.has_before && row.a_version > 1) throw historyPruned(result.syncId);
        const before = row.has_before ? stateOf(row, 'b') : null;
        const now = stateOf(row, 'n');
        const outcome = revertRecord(before, stateOf(row, 'a'), now);
        result.counts.records++;
        if (outcome.write) {
          writes.push({ record_id: row.record_id, ...outcome.write });
          result.counts.written++;
          if (!jsonEqual(effectiveOf(now), effectiveOf(outcome.write))) result.counts.reverted++;
          const wasDeleted = now.data === null;
          const isDeleted = outcome.write.data === null;
          if (wasDeleted && !isDeleted) result.counts.revived++;
          if (!wasDeleted && isDeleted) result.counts.deleted++;
        }
        if (outcome.kept.length > 0) {
          keptHere.push({ recordId: row.record_id, paths: outcome.kept });
          result.counts.keptRecords++;
          result.counts.keptFields += outcome.kept.length;
        }
      }
      if (writes.length > 0 && revertChange !== null) {
        await tx.query(sql.writeStates(tenantId, cid, revertChange, JSON.stringify(writes)));
      }
      await this.explainKept(tx, tenantId, cid, runChange, keptHere, result);
    }
  }

  /** Names, for each kept field (up to KEPT_LISTED), the last change after the run that rewrote it. */
  private async explainKept(
    tx: Queryable,
    tenantId: string,
    cid: string,
    runChange: string,
    keptHere: { recordId: string; paths: string[] }[],
    result: RevertResult,
  ): Promise<void> {
    const room = KEPT_LISTED - result.kept.length;
    if (keptHere.length === 0) return;
    if (room <= 0) {
      result.keptTruncated = true;
      return;
    }
    const listed = keptHere.slice(0, room);
    const versions = await tx.query<LaterVersion>(
      sql.laterVersions(
        tenantId,
        cid,
        runChange,
        listed.map((k) => k.recordId),
      ),
    );
    const byRecord = new Map<string, LaterVersion[]>();
    for (const version of versions) {
      const list = byRecord.get(version.record_id) ?? [];
      list.push(version);
      byRecord.set(version.record_id, list);
    }
    for (const { recordId, paths } of listed) {
      const history = byRecord.get(recordId) ?? [];
      for (const path of paths) {
        if (result.kept.length >= KEPT_LISTED) {
          result.keptTruncated = true;
          return;
        }
        result.kept.push({ recordId, path, keptBy: keptByOf(lastWriterOf(history, path)) });
      }
    }
    if (keptHere.length > listed.length) result.keptTruncated = true;
  }
}

type LaterVersion = {
  record_id: string;
  change_id: string;
  effective: JsonObject | null;
  kind: string | null;
  api_key_id: string | null;
  sync_run_id: string | null;
  snapshot_id: string | null;
  at: Date | null;
};

/** The latest version whose value at `path` differs from the one before it (else the latest one). */
function lastWriterOf(history: LaterVersion[], path: string): LaterVersion | undefined {
  const tokens = path === '' ? [] : parsePointer(path);
  const at = (value: JsonObject | null): JsonValue | undefined => {
    if (value === null) return undefined;
    const found = getAt(value, tokens);
    return found.found ? found.value : undefined;
  };
  for (let i = history.length - 1; i > 0; i--) {
    const now = at(history[i]!.effective);
    const before = at(history[i - 1]!.effective);
    if (now === undefined || before === undefined ? now !== before : !jsonEqual(now, before))
      return history[i];
  }
  return history[0];
}

function keptByOf(version: LaterVersion | undefined): KeptBy {
  if (!version) return { kind: 'unknown', changeId: '', at: null };
  const kind = version.kind === 'api' ? 'manual' : ((version.kind ?? 'unknown') as KeptBy['kind']);
  const keptBy: KeptBy = {
    kind,
    changeId: version.change_id,
    at: version.at ? version.at.toISOString() : null,
  };
  if (version.sync_run_id) keptBy.syncRunId = version.sync_run_id;
  if (version.api_key_id) keptBy.apiKeyId = version.api_key_id;
  if (version.snapshot_id) keptBy.snapshotId = version.snapshot_id;
  return keptBy;
}

function stateOf(row: RewrittenRow, prefix: 'a' | 'b' | 'n'): StoredState {
  return {
    source: row[`${prefix}_source`] as JsonObject | null,
    source_hash: row[`${prefix}_source_hash`] as string | null,
    upstream_gone: row[`${prefix}_upstream_gone`] as boolean,
    overrides: (row[`${prefix}_overrides`] ?? {}) as StoredState['overrides'],
    manual_delete: row[`${prefix}_manual_delete`] ?? null,
    data: row[`${prefix}_data`] as StoredState['data'],
    source_parts: (row[`${prefix}_source_parts`] ?? null) as StoredState['source_parts'],
  };
}

/** ANALYZE (lightly) the tables the revert's plans read when much was written since their last one. */
async function refreshStaleStatistics(tx: Queryable): Promise<void> {
  await asOwner(tx, async () => {
    const stale = await tx.query<{ relname: string }>(sql.staleTables);
    if (stale.length === 0) return;
    await tx.query(sql.analyzeLightly);
    for (const { relname } of stale) await tx.query(sql.analyzeTable[relname]!);
  });
}

function historyPruned(runId: string, days?: number): AppError {
  return new AppError(
    'run_history_expired',
    days === undefined
      ? `The history of sync run ${runId} has been pruned: it can no longer be reverted (restore a snapshot instead)`
      : `Sync run ${runId} is older than the ${days}-day history retention (SNAPSHOT_RETENTION_DAYS): its versions may be pruned, so it can no longer be reverted`,
  );
}
