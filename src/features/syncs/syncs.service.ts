import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { FeedFormat } from '../../sync/feed/index.ts';
import type { Collection, CollectionService } from '../collections/collections.service.ts';
import { holdRun } from '../held-runs/held-runs.service.ts';
import { recordSyncRun } from '../metrics/metrics.ts';
import { emitRecoveredFailures } from '../webhooks/webhooks.sql.ts';
import { type ApplyResult, applyPlan, type SyncCounts, type SyncMode, type SyncPlan } from './apply.ts';
import { checkGuards } from './check-guards.ts';
import { heldError } from './guards.ts';
import { claimIdempotencyKey, type StoredAnswer, storeIdempotentAnswer } from './idempotency.ts';
import { CollectionTurns, type Settled, takeSnapshot, underCollectionLock } from './lock-and-snapshot.ts';
import { planStaged } from './plan.ts';
import { announceApplied, FailureRecorder, recordFinished, startRun, withRunId } from './record-run.ts';
import { finishedView, type RunRow, toView } from './run-view.ts';
import { applySourceFeed } from './source-sync.ts';
import { type FeedValidator, feedValidator, type Staged, streamAndStage } from './stream-and-stage.ts';
import type { SyncOutcome } from './sync-outcome.ts';
import * as sql from './sync-runs.sql.ts';

export type SyncOrigin = {
  kind: 'api' | 'cli' | 'auto-import' | 'schedule';
  apiKeyId?: string | null;
  file?: string;
  url?: string;
};

export type SyncRequest = {
  tenantId: string;
  collection: string;
  /** The collection's named source the feed is for (docs/sources.md); `default` when absent. */
  source?: string;
  mode: SyncMode;
  dryRun: boolean;
  force: boolean;
  format: FeedFormat | 'auto';
  feed: AsyncIterable<Uint8Array>;
  origin: SyncOrigin;
  /** With a key: the same key and body replay the first result; another body is refused. */
  idempotency?: { key: string; requestHash: () => string };
  onProgress?: (rows: number) => void;
  /** The feed's size when known before it is read (a spooled body): small feeds may skip the index. */
  feedBytes?: number;
  /** 'skip': rows the collection's schema refuses are left out and listed in the run; default 'refuse'. */
  invalidRecords?: 'refuse' | 'skip';
};

export type SyncRunView = {
  id: string;
  collection: string;
  /** The named source the run wrote for; null when the collection's one source owns everything. */
  source: string | null;
  mode: SyncMode;
  dryRun: boolean;
  forced: boolean;
  status: 'running' | 'succeeded' | 'failed' | 'planned' | 'held' | 'rejected' | 'expired';
  counts: Partial<SyncCounts>;
  snapshotId: string | null;
  changeId: string | null;
  errors: unknown[];
  timings: Record<string, number>;
  origin: SyncOrigin;
  startedAt: string;
  finishedAt: string | null;
  plan?: SyncPlan;
  /** A held run: when it expires unless approved or rejected. */
  heldUntil?: string;
  /** A revert (mode `revert`): the run it undid. */
  revertOf?: string;
};

/** A run once its row exists: what every stage is given. */
type RunContext = {
  runId: string;
  request: SyncRequest;
  collection: Collection;
  validate: FeedValidator | undefined;
  /** performance.now() once the run row was written: every timing of the run counts from it. */
  started: number;
};

/** What the transaction decided, recorded once it has committed or rolled back. */
type Decided =
  | { kind: 'replayed'; stored: StoredAnswer }
  | { kind: 'applied' | 'planned' | 'held'; applied: ApplyResult; staged: Staged };

export class SyncService {
  private readonly turns = new CollectionTurns();
  private readonly failures: FailureRecorder;

  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    private readonly options: { snapshotRetentionDays: number; heldRunDays?: number },
  ) {
    this.failures = new FailureRecorder(db);
  }

  /**
   * One sync run. The run row is committed as 'running' first (so a crash leaves evidence); then one
   * transaction, under the collection's lock, runs the stages (snapshot, stream and stage, plan, guard,
   * apply) and is committed unless it was a dry run or a replay; the run is then recorded. A failure at
   * any point rolls the whole transaction back and is recorded on the run.
   */
  async run(request: SyncRequest): Promise<SyncOutcome> {
    const { runId, collection } = await startRun(this.db, this.collections, request);
    const started = performance.now();
    const run: RunContext = { runId, request, collection, validate: feedValidator(collection), started };
    const progress = { rows: 0 }; // the rows staged so far, for a failed run's counts
    let decided: Decided;
    try {
      decided = await underCollectionLock(
        this.db,
        this.turns,
        { tenantId: request.tenantId, collectionId: collection.id, runId },
        started,
        (tx, lockWaitMs) => this.stages(tx, run, { lockWaitMs }, progress),
      );
    } catch (error) {
      const totalMs = Math.round(performance.now() - started);
      await this.failures.record({
        tenantId: request.tenantId,
        runId,
        collection: collection.name,
        error,
        rows: progress.rows,
        totalMs,
      });
      throw withRunId(error, runId);
    }
    return this.record(run, decided);
  }

  /** The stages under the collection's lock, in its transaction: committed unless a dry run or a replay. */
  private async stages(
    tx: Queryable,
    run: RunContext,
    lock: { lockWaitMs: number },
    progress: { rows: number },
  ): Promise<Settled<Decided>> {
    const { runId, request, collection } = run;
    const { tenantId, dryRun } = request;
    const snapshot = await takeSnapshot(tx, tenantId, dryRun, this.options.snapshotRetentionDays);
    const staged = await streamAndStage(tx, { ...run, changeId: snapshot.changeId });
    progress.rows = staged.feed.rows;
    const stored = await claimIdempotencyKey(tx, request, collection.id);
    if (stored) return { value: { kind: 'replayed', stored }, commit: false };

    const input = {
      tenantId,
      runId,
      collection,
      mode: request.mode,
      dryRun,
      force: request.force,
      staged: staged.feed,
      ...snapshot,
    };
    let applied: ApplyResult;
    if (staged.named) {
      // One named source of several: source-sync.ts plans, guards and applies it in one call.
      const { source, sources, ignoredFields } = staged.named;
      applied = await applySourceFeed(tx, { ...input, source, sources, ignoredFields: ignoredFields() });
    } else {
      const plan = await planStaged(tx, input);
      const guards = await checkGuards(tx, input, plan);
      applied = await applyPlan(tx, input, plan, guards);
    }
    applied.timings = { ...lock, ...staged.timings, ...applied.timings };
    const kind = applied.held.length > 0 && !dryRun ? 'held' : dryRun ? 'planned' : 'applied';
    await this.keepInTransaction(tx, run, kind, applied, staged);
    return { value: { kind, applied, staged }, commit: kind !== 'planned' };
  }

  /**
   * What the run's transaction keeps of its outcome: a held run's plan and staged rows, the answer for
   * its Idempotency-Key, and the outbox events of an applied run (a rolled-back sync announces nothing).
   */
  private async keepInTransaction(
    tx: Queryable,
    run: RunContext,
    kind: 'applied' | 'planned' | 'held',
    applied: ApplyResult,
    staged: Staged,
  ): Promise<void> {
    const { runId, request, collection } = run;
    const { tenantId } = request;
    if (kind === 'held') {
      // A guard tripped: nothing applied, the plan and its staged rows kept (docs/run-safety.md).
      await holdRun(tx, {
        tenantId,
        runId,
        collection,
        mode: request.mode,
        applied,
        staged: staged.feed,
        heldRunDays: this.options.heldRunDays ?? 7,
      });
    }
    const status = kind === 'applied' ? 'succeeded' : kind;
    await storeIdempotentAnswer(tx, request, collection.id, {
      statusCode: kind === 'held' ? 409 : 200,
      run: finishedView({ runId, collection: collection.name, request, status, applied }, run.started),
    });
    if (kind === 'applied') {
      await announceApplied(tx, {
        tenantId,
        runId,
        collection: collection.name,
        mode: request.mode,
        applied,
      });
    }
  }

  /** The run's end, once its transaction committed or rolled back: its row, its metrics, its outcome. */
  private async record(run: RunContext, decided: Decided): Promise<SyncOutcome> {
    const { runId, request } = run;
    const { tenantId } = request;
    if (decided.kind === 'replayed') return this.replay(run, decided.stored);
    const { applied, staged } = decided;
    const totalMs = Math.round(performance.now() - run.started);
    if (decided.kind === 'held') {
      // holdRun marked the run held in the transaction.
      recordSyncRun('held', staged.feed.rows, totalMs / 1000);
      return { kind: 'held', run: await this.get(tenantId, runId), refusal: heldError(runId, applied) };
    }
    const status = decided.kind === 'planned' ? 'planned' : 'succeeded';
    await recordFinished(this.db, {
      tenantId,
      runId,
      status,
      applied,
      skipped: staged.skipped,
      rows: staged.feed.rows,
      totalMs,
    });
    const view = await this.get(tenantId, runId);
    if (applied.plan) view.plan = applied.plan;
    return { kind: decided.kind, run: view };
  }

  /** The same request again: this run is dropped, and the first one answered as it was. */
  private async replay(run: RunContext, stored: StoredAnswer): Promise<SyncOutcome> {
    const { tenantId } = run.request;
    await withTenant(this.db, tenantId, (tx) => tx.query(sql.deleteRun(tenantId, run.runId)));
    // The run row holds the first answer as it was sent (the stored copy predates its last update).
    const first = await this.get(tenantId, stored.run.id).catch(() => stored.run);
    return { kind: 'replayed', run: first, statusCode: stored.statusCode };
  }

  async get(tenantId: string, runId: string): Promise<SyncRunView> {
    const [row] = await withTenant(this.db, tenantId, (tx) => tx.query<RunRow>(sql.findRun(tenantId, runId)));
    if (!row) throw new AppError('sync_not_found', `No sync run ${runId}`);
    return toView(row);
  }

  async list(
    tenantId: string,
    collectionName: string,
    after: { startedAt: string; id: string } | null,
    limit: number,
    status: string | null = null,
  ): Promise<{ runs: SyncRunView[]; cursorKeys: string[] }> {
    return withTenant(this.db, tenantId, async (tx) => {
      const collection = await this.collections.require(tx, tenantId, collectionName);
      const rows = await tx.query<RunRow>(sql.listRuns(tenantId, collection.id, after, limit, status));
      return { runs: rows.map(toView), cursorKeys: rows.map((row) => `${row.started_key}|${row.id}`) };
    });
  }

  /** Marks runs left 'running' by a process that is gone as failed (see docs/sync.md). */
  async recoverInterruptedRuns(): Promise<number> {
    const rows = await this.db.transaction(async (tx) => {
      const recovered = await tx.query<{ id: string }>(sql.failInterruptedRuns());
      // The process that died could not announce its failure: recovery does, in its transaction.
      if (recovered.length > 0) await tx.query(emitRecoveredFailures(recovered.map((row) => row.id)));
      return recovered;
    });
    return rows.length;
  }

  /** Stops retrying to record failures (the app is closing; the next start's recovery takes over). */
  close(): void {
    this.failures.close();
  }
}
