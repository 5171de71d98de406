import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { Collection, CollectionService } from '../collections/collections.service.ts';
import { recordSyncRun } from '../metrics/metrics.ts';
import {
  isSingleSource,
  loadSourceDefinitions,
  namedSourceNotFound,
} from '../sources/named-sources.service.ts';
import { emitEvent } from '../webhooks/webhooks.sql.ts';
import type { ApplyResult } from './apply.ts';
import { guardErrors } from './run-view.ts';
import { FeedInvalid } from './staging.ts';
import * as sql from './sync-runs.sql.ts';
import type { SyncRequest } from './syncs.service.ts';

/**
 * The run's row, committed as 'running' before anything else (so a crash leaves evidence), for a
 * collection and source that exist.
 */
export async function startRun(
  db: Database,
  collections: CollectionService,
  request: SyncRequest,
): Promise<{ runId: string; collection: Collection }> {
  const { tenantId } = request;
  const runId = randomUUID();
  const sourceName = request.source ?? 'default';
  const collection = await withTenant(db, tenantId, async (tx) => {
    const found = await collections.require(tx, tenantId, request.collection);
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
  return { runId, collection };
}

/**
 * The outbox, in the apply's transaction: a rolled-back sync announces nothing. `sync.succeeded`, and
 * `conflict.opened` when the merge opened any.
 */
export async function announceApplied(
  tx: Queryable,
  input: { tenantId: string; runId: string; collection: string; mode: string; applied: ApplyResult },
): Promise<void> {
  const { tenantId, collection, applied } = input;
  const event = { syncRunId: input.runId, collection, mode: input.mode, counts: applied.counts };
  await tx.query(emitEvent(tenantId, 'sync.succeeded', collection, { ...event, changeId: applied.changeId }));
  if (applied.counts.conflicts > 0) {
    await tx.query(
      emitEvent(tenantId, 'conflict.opened', collection, { ...event, count: applied.counts.conflicts }),
    );
  }
}

/**
 * The end of a run that went through: its counts, errors (the guards a dry run would trip, the rows
 * left out for the schema) and timings, as 'succeeded' or, for a dry run, 'planned'.
 */
export async function recordFinished(
  db: Database,
  input: {
    tenantId: string;
    runId: string;
    status: 'succeeded' | 'planned';
    applied: ApplyResult;
    skipped: { count: number; errors: unknown[] } | null;
    /** The feed's rows. */
    rows: number;
    totalMs: number;
  },
): Promise<void> {
  const { tenantId, runId, applied, skipped } = input;
  const errors: unknown[] = guardErrors(applied);
  // Rows left out for the schema (invalidRecords=skip): counted and listed in the run.
  const counts = skipped ? { ...applied.counts, skipped: skipped.count } : applied.counts;
  if (skipped) errors.push(...skipped.errors);
  const timings = { ...applied.timings, totalMs: input.totalMs };
  await withTenant(db, tenantId, (tx) =>
    tx.query(
      sql.finishRun(
        tenantId,
        runId,
        input.status,
        counts,
        errors,
        timings,
        applied.snapshotId,
        applied.changeId,
      ),
    ),
  );
  recordSyncRun(input.status, input.rows, input.totalMs / 1000);
}

/**
 * Failed runs, recorded with their errors and announced (`sync.failed`). When the database cannot be
 * reached, the record is retried until it can, or until close() (the next start's recovery takes over).
 */
export class FailureRecorder {
  private readonly retries = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly db: Database) {}

  async record(input: {
    tenantId: string;
    runId: string;
    collection: string;
    error: unknown;
    /** The rows staged before the failure. */
    rows: number;
    totalMs: number;
  }): Promise<void> {
    const { tenantId, runId, collection, error } = input;
    const errors = failureErrors(error);
    const counts = { rows: input.rows };
    const timings = { totalMs: input.totalMs };
    recordSyncRun('failed', input.rows, timings.totalMs / 1000);
    const record = () =>
      withTenant(this.db, tenantId, async (tx) => {
        await tx.query(sql.finishRun(tenantId, runId, 'failed', counts, errors, timings, null, null));
        await tx.query(
          emitEvent(tenantId, 'sync.failed', collection, {
            syncRunId: runId,
            collection,
            errors: errors.slice(0, 10),
          }),
        );
      });
    try {
      await record();
    } catch {
      // The database is unreachable (stopped, restarting): record the failure as soon as it is back.
      this.retryUntilRecorded(record);
    }
  }

  /** Stops retrying (the app is closing; the next start's recovery takes over). */
  close(): void {
    this.closed = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
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
}

function failureErrors(error: unknown): unknown[] {
  if (error instanceof FeedInvalid) return error.errors;
  if (error instanceof AppError) return [{ code: error.code, message: error.message }];
  return [{ code: 'internal_error', message: error instanceof Error ? error.message : String(error) }];
}

/** Every failure of a run names the run, so a client can look it up. */
export function withRunId(error: unknown, runId: string): unknown {
  if (error instanceof FeedInvalid) {
    return new AppError('feed_invalid', error.message, {
      syncId: runId,
      errors: error.errors,
      errorCount: error.errorCount,
      rows: error.rows,
    });
  }
  if (error instanceof AppError)
    return new AppError(error.code, error.message, { ...error.extensions, syncId: runId });
  return error;
}
