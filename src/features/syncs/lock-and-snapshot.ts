import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import * as sql from './lock-and-snapshot.sql.ts';
import { lockRun } from './sync-runs.sql.ts';

/** How long a sync waits for another sync of the same collection before it is refused with 409. */
const LOCK_WAIT_MS = 120_000;
/** Pause between tries of a collection lock held by another process (doubling up to the last). */
const LOCK_RETRY_MS = [25, 50, 100, 200, 400, 800, 1000];

/** What the work under the lock answers: its value, and whether its transaction commits. */
export type Settled<T> = { value: T; commit: boolean };

/**
 * Runs `work` in a tenant transaction holding the run's lock and the collection's, once this process's
 * earlier syncs of the collection are done (their turns), and commits or rolls back as `work` says.
 * `lockWaitMs` is how long the turn and the lock took from `started`.
 */
export async function underCollectionLock<T>(
  db: Database,
  turns: CollectionTurns,
  run: { tenantId: string; collectionId: string; runId: string },
  started: number,
  work: (tx: Queryable, lockWaitMs: number) => Promise<Settled<T>>,
): Promise<T> {
  const deadline = started + LOCK_WAIT_MS;
  const release = await turns.take(`${run.tenantId}:${run.collectionId}`, deadline);
  try {
    return await withCollectionLock(db, run, deadline, async (tx) => {
      const settled = await work(tx, Math.round(performance.now() - started));
      if (!settled.commit) throw new RollBack(settled.value);
      return settled.value;
    });
  } catch (error) {
    if (error instanceof RollBack) return error.value as T;
    throw error;
  } finally {
    release();
  }
}

/**
 * The automatic snapshot and the run's change id, taken under the lock before any row is written (new
 * rows are written while streaming). A dry run writes nothing and takes neither.
 */
export async function takeSnapshot(
  tx: Queryable,
  tenantId: string,
  dryRun: boolean,
  retentionDays: number,
): Promise<{ snapshotId: string | null; changeId: string | null }> {
  if (dryRun) return { snapshotId: null, changeId: null };
  const [snapshot] = await tx.query<{ id: string }>(sql.snapshotBefore(tenantId, retentionDays));
  const [change] = await tx.query<{ id: string }>(sql.nextChangeId);
  return { snapshotId: snapshot!.id, changeId: change!.id };
}

/**
 * The collection lock is only tried (pg_try_advisory_xact_lock): when another process's sync, a restore
 * or a delete holds it, the transaction is rolled back and tried again after a pause, so the wait holds
 * no pooled connection. Past the deadline: 409 sync_in_progress.
 */
async function withCollectionLock<T>(
  db: Database,
  run: { tenantId: string; collectionId: string; runId: string },
  deadline: number,
  work: (tx: Queryable) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await withTenant(db, run.tenantId, async (tx) => {
        await tx.query(lockRun(run.runId));
        const [row] = await tx.query<{ locked: boolean }>(
          sql.tryLockCollection(run.tenantId, run.collectionId),
        );
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

/** The database port commits what resolves: a transaction is rolled back by throwing, here only. */
class RollBack extends Error {
  constructor(readonly value: unknown) {
    super('rolled back');
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
export class CollectionTurns {
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
