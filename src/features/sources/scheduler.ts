import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { isAppError } from '../../errors.ts';
import type { FeedSync } from '../auto-import/feed-sync.ts';
import { FeedFetchError, fetchFeed } from './feed-fetch.ts';
import { nextRun } from './schedule.ts';
import type { RunRecord } from './sources.sql.ts';
import * as sql from './sources.sql.ts';
import { assertFeedUrlAllowed } from './url-safety.ts';

export interface SchedulerOptions {
  timeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
}

interface DueSource {
  tenant_id: string;
  collection_id: string;
  collection: string;
  /** The named source (docs/sources.md); `default` for a collection's one scheduled source. */
  name: string;
  url: string;
  schedule: string;
  mode: 'full' | 'partial';
  headers: Record<string, string>;
  etag: string | null;
  last_modified: string | null;
  next_run_at: Date;
}

/**
 * Runs scheduled sources. A tick claims one due source at a time: in one short transaction it locks
 * the row (FOR UPDATE SKIP LOCKED, so concurrent processes each take a different row) and moves its
 * next_run_at to the schedule's next time, so each tick runs on exactly one process. The fetch and
 * sync happen after that transaction: a failed run is recorded and simply retried at the next tick.
 */
export class SourceScheduler {
  constructor(
    private readonly db: Database,
    private readonly sync: FeedSync,
    private readonly options: SchedulerOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Runs every source that is due now, one after the other; returns how many ran. `serve` runs it
   * every `tickMs` (background.ts); an aborted `signal` stops it before the next source.
   */
  async tick(signal?: AbortSignal): Promise<number> {
    let ran = 0;
    while (!signal?.aborted) {
      const source = await this.claimDue();
      if (!source) break;
      await this.runSource(source);
      ran++;
    }
    return ran;
  }

  private claimDue(): Promise<DueSource | undefined> {
    return this.db.transaction(async (tx) => {
      const [due] = await tx.query<DueSource>(sql.claimDueSource());
      if (!due) return undefined;
      let next: Date;
      try {
        next = nextRun(due.schedule, new Date(Math.max(Date.now(), due.next_run_at.getTime())));
      } catch {
        next = new Date(Date.now() + 24 * 3600 * 1000); // unparseable (edited by hand): try tomorrow
      }
      await tx.query(sql.advanceSource(due.tenant_id, due.collection_id, due.name, next));
      return due;
    });
  }

  /** Fetches one source and syncs it; every outcome is one source_runs row. */
  async runSource(source: DueSource): Promise<RunRecord> {
    const log = this.log.child({
      tenantId: source.tenant_id,
      collection: source.collection,
      url: source.url,
    });
    const startedAt = new Date();
    const run: RunRecord = {
      url: source.url,
      status: 'failed',
      httpStatus: null,
      error: null,
      syncRunId: null,
      startedAt,
    };
    let validators: { etag: string | null; lastModified: string | null } | undefined;
    try {
      await assertFeedUrlAllowed(source.url, { allowPrivate: this.options.allowPrivate });
      const fetched = await fetchFeed(source.url, {
        headers: source.headers ?? {},
        etag: source.etag,
        lastModified: source.last_modified,
        timeoutMs: this.options.timeoutMs,
        maxBytes: this.options.maxBytes,
        allowPrivate: this.options.allowPrivate,
      });
      run.httpStatus = fetched.httpStatus;
      if (fetched.kind === 'not-modified') {
        run.status = 'unchanged';
      } else {
        let bodyError: Error | undefined;
        fetched.body.once('error', (error) => {
          bodyError = error;
        });
        try {
          const result = await this.sync({
            tenantId: source.tenant_id,
            collection: source.collection,
            source: source.name,
            body: fetched.body,
            format: formatOf(fetched.contentType),
            mode: source.mode,
            origin: { kind: 'schedule', url: source.url },
          });
          run.syncRunId = result.id;
          if (bodyError) run.error = bodyError.message;
          else if (result.status === 'succeeded') {
            run.status = 'synced';
            validators = { etag: fetched.etag, lastModified: fetched.lastModified };
          } else run.error = `the sync run ended ${result.status}: ${summarise(result.errors)}`;
        } finally {
          fetched.body.destroy();
        }
      }
    } catch (error) {
      if (error instanceof FeedFetchError) {
        run.error = error.message;
        run.httpStatus = error.httpStatus ?? run.httpStatus;
      } else if (isAppError(error)) {
        run.error = `${error.code}: ${error.message}`;
        if (typeof error.extensions.syncId === 'string') run.syncRunId = error.extensions.syncId;
      } else {
        log.error({ err: error }, 'schedule: unexpected error');
        run.error = `internal error: ${(error as Error).message}`;
      }
    }
    await withTenant(this.db, source.tenant_id, async (tx) => {
      await tx.query(sql.insertRun(source.tenant_id, source.collection_id, source.name, run));
      await tx.query(sql.recordOutcome(source.tenant_id, source.collection_id, source.name, run, validators));
    });
    log.info(
      { status: run.status, httpStatus: run.httpStatus, error: run.error, syncId: run.syncRunId },
      'schedule: ran',
    );
    return run;
  }
}

function formatOf(contentType: string | undefined): 'json' | 'ndjson' | undefined {
  if (!contentType) return undefined;
  if (/ndjson|jsonl|json-seq/i.test(contentType)) return 'ndjson';
  return undefined; // let the engine tell an array from an object from NDJSON by the first bytes
}

function summarise(errors: unknown[]): string {
  const text = JSON.stringify(errors.slice(0, 3));
  return errors.length > 3 ? `${text} (+${errors.length - 3} more)` : text;
}
