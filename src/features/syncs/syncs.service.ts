import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { FeedFormat } from '../../sync/feed/index.ts';
import type { CollectionService } from '../collections/collections.service.ts';
import { compileRecordSchema } from '../collections/record-schema.ts';
import { holdRun } from '../held-runs/held-runs.service.ts';
import { recordSyncRun } from '../metrics/metrics.ts';
import {
  isSingleSource,
  loadSourceDefinitions,
  namedSourceNotFound,
} from '../sources/named-sources.service.ts';
import { emitEvent, emitRecoveredFailures } from '../webhooks/webhooks.sql.ts';
import {
  type ApplyResult,
  applyStaged,
  DeleteGuardTripped,
  type SyncCounts,
  type SyncMode,
  type SyncPlan,
} from './apply.ts';
import { heldError, heldReplayError, requiredFieldsCheck } from './guards.ts';
import { skipsStoredIndex } from './index-strategy.ts';
import { applySourceFeed, sourceProjector } from './source-sync.ts';
import { FeedInvalid, stageFeed } from './staging.ts';
import * as sql from './syncs.sql.ts';

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

export type SyncOutcome = { status: number; run: SyncRunView; replayed: boolean };

type RunRow = {
  id: string;
  collection: string;
  source_name: string | null;
  mode: SyncMode;
  dry_run: boolean;
  forced: boolean;
  status: SyncRunView['status'];
  counts: Partial<SyncCounts>;
  errors: unknown[];
  timings: Record<string, number>;
  snapshot_id: string | null;
  change_id: string | null;
  origin: SyncOrigin;
  started_at: Date;
  finished_at: Date | null;
  started_key: string;
  hold: { plan?: SyncPlan } | null;
  held_until: Date | null;
  reverts_run_id: string | null;
};

/** Thrown inside the apply transaction to roll it back and answer with the stored response. */
class Replay extends Error {
  constructor(readonly stored: { status_code: number; response: SyncRunView }) {
    super('idempotent replay');
  }
}

/** How long a sync waits for another sync of the same collection before it is refused with 409. */
const LOCK_WAIT_MS = 120_000;
/** Pause between tries of a collection lock held by another process (doubling up to the last). */
const LOCK_RETRY_MS = [25, 50, 100, 200, 400, 800, 1000];

export class SyncService {
  private readonly turns = new CollectionTurns();
  /** Pending retries of failures that could not be recorded; stopped by close(). */
  private readonly retries = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    private readonly options: { snapshotRetentionDays: number; heldRunDays?: number },
  ) {}

  /**
   * One sync run. The run row is committed as 'running' first (so a crash leaves evidence), then one
   * transaction stages the feed, takes the collection's lock, plans and applies; the run row is then
   * marked succeeded, planned (dry run) or failed. Failure at any point rolls the whole apply back.
   */
  async run(request: SyncRequest): Promise<SyncOutcome> {
    const { tenantId } = request;
    const runId = randomUUID();
    const sourceName = request.source ?? 'default';
    const collection = await withTenant(this.db, tenantId, async (tx) => {
      const found = await this.collections.require(tx, tenantId, request.collection);
      const sources = await loadSourceDefinitions(tx, tenantId, found.id);
      if (!sources.some((source) => source.name === sourceName)) {
        throw namedSourceNotFound(request.collection, sourceName);
      }
      const named = isSingleSource(sources) ? null : sourceName;
      await tx.query(
        sql.insertRun(
          tenantId,
          runId,
          found.id,
          request.mode,
          request.dryRun,
          request.force,
          request.origin,
          named,
        ),
      );
      return found;
    });
    const scope = `sync:${collection.id}`;
    // Compiled once per run (cached by the schema's text across runs).
    const validate = requiredFieldsCheck(
      collection.guards.requiredFields,
      collection.schema === null ? undefined : compileRecordSchema(collection.schema),
    );
    let skipped: { count: number; errors: unknown[] } = { count: 0, errors: [] };
    const started = performance.now();
    let staged = 0;
    let result: ApplyResult;
    const lockKey = `${tenantId}:${collection.id}`;
    const deadline = started + LOCK_WAIT_MS;
    let releaseTurn: (() => void) | null = null;
    try {
      releaseTurn = await this.turns.take(lockKey, deadline);
      result = await this.underCollectionLock(
        tenantId,
        collection.id,
        deadline,
        async (tx) => {
          const lockMs = Math.round(performance.now() - started);
          // Allocated under the lock and before any row is written (new rows are written while streaming).
          let snapshotId: string | null = null;
          let changeId: string | null = null;
          if (!request.dryRun) {
            const [snapshot] = await tx.query<{ id: string }>(
              sql.snapshotBefore(tenantId, this.options.snapshotRetentionDays),
            );
            snapshotId = snapshot!.id;
            changeId = (await tx.query<{ id: string }>(sql.nextChangeId))[0]!.id;
          }
          const t0 = performance.now();
          // Read again under the lock: the sources decide which path this sync takes.
          const sources = await loadSourceDefinitions(tx, tenantId, collection.id);
          const source = sources.find((candidate) => candidate.name === sourceName);
          if (!source) throw namedSourceNotFound(request.collection, sourceName);
          const single = isSingleSource(sources);
          const projector = single ? null : sourceProjector(source, collection.idField);
          const skipIndex = await skipsStoredIndex(tx, {
            tenantId,
            collectionId: collection.id,
            partial: request.mode === 'partial',
            feedBytes: request.feedBytes,
          });
          const feed = await stageFeed(tx, request.feed, {
            skipIndex,
            ...(projector ? { source: { name: source.name, project: projector.project } } : {}),
            tenantId,
            collectionId: collection.id,
            full: request.mode === 'full',
            deleteGone: collection.deletePolicy === 'delete',
            changeId,
            format: request.format,
            idField: collection.idField,
            onProgress: request.onProgress,
            ...(validate ? { validate, skipInvalid: request.invalidRecords === 'skip' } : {}),
          });
          staged = feed.rows;
          skipped = { count: feed.summary.skippedCount ?? 0, errors: feed.summary.skipped ?? [] };
          const stageMs = Math.round(performance.now() - t0);
          if (request.idempotency) {
            const skip = request.invalidRecords === 'skip' ? ':skip' : '';
            // The same body sent for another source is another request.
            const named = request.source === undefined ? '' : `:source=${request.source}`;
            const hash = `${request.mode}:${request.dryRun}:${request.force}${skip}${named}:${request.idempotency.requestHash()}`;
            const claimed = await tx.query(
              sql.claimIdempotencyKey(tenantId, scope, request.idempotency.key, hash),
            );
            if (claimed.length === 0) {
              const [stored] = await tx.query<{
                request_hash: string;
                status_code: number | null;
                response: SyncRunView;
              }>(sql.findIdempotencyKey(tenantId, scope, request.idempotency.key));
              if (stored && stored.request_hash !== hash) {
                throw new AppError(
                  'idempotency_key_reused',
                  'This Idempotency-Key was used with another request body',
                );
              }
              if (stored?.status_code)
                throw new Replay({ status_code: stored.status_code, response: stored.response });
              throw new AppError('sync_in_progress', 'A request with this Idempotency-Key is still running');
            }
          }
          const applyInput = {
            tenantId,
            runId,
            collection,
            mode: request.mode,
            dryRun: request.dryRun,
            force: request.force,
            staged: feed,
            snapshotId,
            changeId,
          };
          const applied = projector
            ? await applySourceFeed(tx, {
                ...applyInput,
                source,
                sources,
                ignoredFields: projector.ignoredFields,
              })
            : await applyStaged(tx, applyInput);
          applied.timings = {
            lockWaitMs: lockMs,
            indexMs: feed.indexMs,
            ...(skipIndex ? { indexSkipped: 1 } : {}),
            stageMs,
            stageDbWaitMs: feed.dbWaitMs,
            ...applied.timings,
          };
          if (applied.held.length > 0 && !request.dryRun) {
            // A guard tripped: nothing applied, the plan and its staged rows kept (docs/run-safety.md).
            await holdRun(tx, {
              tenantId,
              runId,
              collection,
              mode: request.mode,
              applied,
              staged: feed,
              heldRunDays: this.options.heldRunDays ?? 7,
            });
          }
          const heldNow = applied.held.length > 0 && !request.dryRun;
          if (request.idempotency) {
            const view = this.viewOf(runId, collection.name, request, applied, started);
            if (heldNow) view.status = 'held';
            await tx.query(
              sql.storeIdempotentResponse(
                tenantId,
                scope,
                request.idempotency.key,
                heldNow ? 409 : 200,
                view,
              ),
            );
          }
          if (heldNow) return applied;
          if (request.dryRun) throw new DryRunDone(applied);
          // The outbox, in the apply's transaction: a rolled-back sync announces nothing.
          const event = {
            syncRunId: runId,
            collection: collection.name,
            mode: request.mode,
            counts: applied.counts,
          };
          await tx.query(
            emitEvent(tenantId, 'sync.succeeded', collection.name, { ...event, changeId: applied.changeId }),
          );
          if (applied.counts.conflicts > 0) {
            await tx.query(
              emitEvent(tenantId, 'conflict.opened', collection.name, {
                ...event,
                count: applied.counts.conflicts,
              }),
            );
          }
          return applied;
        },
        runId,
      );
    } catch (error) {
      if (error instanceof DryRunDone) {
        result = error.result;
      } else if (error instanceof Replay) {
        await withTenant(this.db, tenantId, (tx) => tx.query(sql.deleteRun(tenantId, runId)));
        // The run row holds the first answer as it was sent (the stored copy predates its last update).
        const first = await this.get(tenantId, error.stored.response.id).catch(() => error.stored.response);
        if (error.stored.status_code === 409) throw heldReplayError(first);
        return { status: error.stored.status_code, run: first, replayed: true };
      } else {
        await this.recordFailure(tenantId, runId, error, staged, started, collection.name);
        throw withRunId(error, runId);
      }
    } finally {
      releaseTurn?.();
    }
    if (result.held.length > 0 && !request.dryRun) {
      recordSyncRun('held', staged, (performance.now() - started) / 1000);
      throw heldError(runId, result);
    }
    const totalMs = Math.round(performance.now() - started);
    const timings = { ...result.timings, totalMs };
    const errors: unknown[] = guardErrors(result);
    // Rows left out for the schema (invalidRecords=skip): counted and listed in the run.
    if (validate && request.invalidRecords === 'skip') {
      result.counts = { ...result.counts, skipped: skipped.count };
      errors.push(...skipped.errors);
    }
    await withTenant(this.db, tenantId, (tx) =>
      tx.query(
        sql.finishRun(
          tenantId,
          runId,
          request.dryRun ? 'planned' : 'succeeded',
          result.counts,
          errors,
          timings,
          result.snapshotId,
          result.changeId,
        ),
      ),
    );
    recordSyncRun(request.dryRun ? 'planned' : 'succeeded', staged, totalMs / 1000);
    const run = await this.get(tenantId, runId);
    if (result.plan) run.plan = result.plan;
    return { status: 200, run, replayed: false };
  }

  /**
   * Runs `work` in a tenant transaction that holds the run's lock and the collection's. The collection
   * lock is only tried (pg_try_advisory_xact_lock): when another process's sync, a restore or a delete
   * holds it, the transaction is rolled back and tried again after a pause, so the wait holds no pooled
   * connection. Past the deadline: 409 sync_in_progress.
   */
  private async underCollectionLock<T>(
    tenantId: string,
    collectionId: string,
    deadline: number,
    work: (tx: Queryable) => Promise<T>,
    runId?: string,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTenant(this.db, tenantId, async (tx) => {
          if (runId) await tx.query(sql.lockRun(runId));
          const [row] = await tx.query<{ locked: boolean }>(sql.tryLockCollection(tenantId, collectionId));
          if (!row?.locked) throw new CollectionBusy();
          return work(tx);
        });
      } catch (error) {
        if (!(error instanceof CollectionBusy)) throw error;
        const pause = LOCK_RETRY_MS[Math.min(attempt, LOCK_RETRY_MS.length - 1)]!;
        if (performance.now() + pause > deadline) throw syncInProgress();
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
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
  ): Promise<{ runs: SyncRunView[]; cursorKeys: string[] }> {
    return withTenant(this.db, tenantId, async (tx) => {
      const collection = await this.collections.require(tx, tenantId, collectionName);
      const rows = await tx.query<RunRow>(sql.listRuns(tenantId, collection.id, after, limit));
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

  private async recordFailure(
    tenantId: string,
    runId: string,
    error: unknown,
    rows: number,
    started: number,
    collectionName?: string,
  ) {
    const errors = failureErrors(error);
    const counts = error instanceof DeleteGuardTripped ? error.counts : { rows };
    const timings = { totalMs: Math.round(performance.now() - started) };
    recordSyncRun('failed', rows, timings.totalMs / 1000);
    const record = () =>
      withTenant(this.db, tenantId, async (tx) => {
        await tx.query(sql.finishRun(tenantId, runId, 'failed', counts, errors, timings, null, null));
        if (collectionName !== undefined) {
          const reasons = errors.slice(0, 10);
          await tx.query(
            emitEvent(tenantId, 'sync.failed', collectionName, {
              syncRunId: runId,
              collection: collectionName,
              errors: reasons,
            }),
          );
        }
      });
    try {
      await record();
    } catch {
      // The database is unreachable (stopped, restarting): record the failure as soon as it is back.
      this.retryUntilRecorded(record);
    }
  }

  private retryUntilRecorded(record: () => Promise<unknown>, attempt = 0): void {
    const pause = Math.min(100 * 2 ** attempt, 5_000);
    const timer = setTimeout(async () => {
      this.retries.delete(timer);
      try {
        await record();
      } catch {
        if (!this.closed) this.retryUntilRecorded(record, attempt + 1);
      }
    }, pause);
    // A process that is otherwise done does not stay up for this: recovery at the next start covers it.
    timer.unref();
    this.retries.add(timer);
  }

  /** Stops retrying to record failures (the app is closing; the next start's recovery takes over). */
  close(): void {
    this.closed = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
  }

  private viewOf(
    runId: string,
    collection: string,
    request: SyncRequest,
    applied: ApplyResult,
    started: number,
  ): SyncRunView {
    const now = new Date();
    const view: SyncRunView = {
      id: runId,
      collection,
      source: request.source ?? null,
      mode: request.mode,
      dryRun: request.dryRun,
      forced: request.force,
      status: request.dryRun ? 'planned' : 'succeeded',
      counts: applied.counts,
      snapshotId: applied.snapshotId,
      changeId: applied.changeId,
      errors: guardErrors(applied),
      timings: { ...applied.timings, totalMs: Math.round(performance.now() - started) },
      origin: request.origin,
      startedAt: new Date(now.getTime() - (performance.now() - started)).toISOString(),
      finishedAt: now.toISOString(),
    };
    if (applied.plan) view.plan = applied.plan;
    return view;
  }
}

/** The collection's lock is held by a sync, restore or delete elsewhere: roll back, try again. */
class CollectionBusy extends Error {
  constructor() {
    super('collection lock busy');
  }
}

function syncInProgress(): AppError {
  return new AppError(
    'sync_in_progress',
    'Another sync of this collection is still running; try again later',
  );
}

/**
 * Syncs of one collection in this process take turns in memory, first come first served, so a waiting
 * sync holds no database connection. A turn not started by the deadline is refused (409).
 */
class CollectionTurns {
  private readonly tails = new Map<string, Promise<void>>();

  async take(key: string, deadline: number): Promise<() => void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let finished!: () => void;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const tail = before.then(() => done);
    this.tails.set(key, tail);
    const release = () => {
      finished();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      before.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), Math.max(0, deadline - performance.now()));
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // The syncs queued behind this one wait for the one before it, not for this one.
      release();
      throw syncInProgress();
    }
    return release;
  }
}

class DryRunDone extends Error {
  constructor(readonly result: ApplyResult) {
    super('dry run: rolled back');
  }
}

function failureErrors(error: unknown): unknown[] {
  if (error instanceof FeedInvalid) return error.errors;
  if (error instanceof AppError) return [{ code: error.code, message: error.message }];
  return [{ code: 'internal_error', message: error instanceof Error ? error.message : String(error) }];
}

/** Every failure of a run names the run, so a client can look it up. */
function withRunId(error: unknown, runId: string): unknown {
  if (error instanceof FeedInvalid) {
    return new AppError('feed_invalid', error.message, {
      syncId: runId,
      errors: error.errors,
      errorCount: error.errorCount,
      rows: error.rows,
    });
  }
  if (error instanceof DeleteGuardTripped) {
    return new AppError('delete_guard', error.message, { syncId: runId, counts: error.counts });
  }
  if (error instanceof AppError)
    return new AppError(error.code, error.message, { ...error.extensions, syncId: runId });
  return error;
}

function toView(row: RunRow): SyncRunView {
  return {
    id: row.id,
    collection: row.collection,
    source: row.source_name,
    mode: row.mode,
    dryRun: row.dry_run,
    forced: row.forced,
    status: row.status,
    counts: row.counts,
    snapshotId: row.snapshot_id,
    changeId: row.change_id,
    errors: row.errors,
    timings: row.timings,
    origin: row.origin,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    ...(row.hold?.plan ? { plan: row.hold.plan } : {}),
    ...(row.held_until ? { heldUntil: row.held_until.toISOString() } : {}),
    ...(row.reverts_run_id ? { revertOf: row.reverts_run_id } : {}),
  };
}

/** What a dry run reports of the guards the run would trip. */
function guardErrors(result: ApplyResult): unknown[] {
  if (result.held.length > 0) return result.held;
  return result.guard ? [{ code: 'delete_guard', message: result.guard }] : [];
}
