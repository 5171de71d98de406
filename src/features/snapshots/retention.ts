import type { Queryable } from '../../db/database.ts';
import { HORIZON_MARGIN_MS } from '../changes/changes.service.ts';
import { raiseHorizon } from '../changes/changes.sql.ts';
import * as sql from './snapshots.sql.ts';
import type { SnapshotRow } from './snapshots.types.ts';

export const DAY_MS = 24 * 60 * 60 * 1000;

interface Brief {
  id: string;
  label: string | null;
  auto: boolean;
  createdAt: string;
}

export interface PruneReport {
  dryRun: boolean;
  now: string;
  retentionDays: number;
  /** now − retention days: every moment from here on stays readable. */
  windowStart: string;
  expired: Array<Brief & { reason: string }>;
  kept: Array<Brief & { reason: 'pinned' | 'inside the window' }>;
  versions: Array<{ collection: string; pruned: number; kept: number }>;
}

type RetentionRow = Omit<SnapshotRow, 'expires_at'> & { expired: boolean };

/**
 * Retention for one tenant, inside the caller's transaction. A snapshot expires when it is not pinned
 * and older than the retention window (its age against the retention configured now). Then every
 * closed version goes that neither
 * - a retained snapshot needs (its change id in the version's (valid_from, valid_to]), nor
 * - a moment inside the window needs (the version closed at or after the window's first change).
 * Nothing else is touched: current records, changes, sync runs and conflicts stay.
 * With `dryRun` the same figures are computed and nothing is deleted.
 */
export async function pruneTenant(
  tx: Queryable,
  tenantId: string,
  options: { now: Date; retentionDays: number; dryRun: boolean },
): Promise<PruneReport> {
  const windowStart = new Date(options.now.getTime() - options.retentionDays * DAY_MS);
  const snapshots = await tx.query<RetentionRow>(
    sql.snapshotsForRetention(tenantId, options.now, options.retentionDays),
  );
  const expired = snapshots.filter((s) => s.expired);
  const kept = snapshots.filter((s) => !s.expired);
  const [first] = await tx.query<{ id: string | null }>(sql.firstChangeAfter(tenantId, windowStart));
  const windowChange = first?.id ?? null;
  const expiredIds = expired.map((s) => s.id);

  if (!options.dryRun && expired.length > 0) {
    await tx.query(sql.deleteSnapshots(tenantId, expiredIds));
  }
  const versions: PruneReport['versions'] = [];
  for (const collection of await tx.query<{ id: string; name: string }>(sql.listCollections(tenantId))) {
    const statement = options.dryRun ? sql.countPrunableVersions : sql.deletePrunableVersions;
    const [pruned] = await tx.query<{ count: number }>(
      statement(tenantId, collection.id, windowChange, expiredIds),
    );
    const [total] = await tx.query<{ count: number }>(sql.countVersions(tenantId, collection.id));
    const prunedCount = pruned!.count;
    versions.push({
      collection: collection.name,
      pruned: prunedCount,
      kept: options.dryRun ? total!.count - prunedCount : total!.count,
    });
  }
  // Change feed cursors read before the window (or before now) may have missed a change whose
  // versions just went (docs/changes.md).
  if (!options.dryRun && versions.some((v) => v.pruned > 0)) {
    const horizon = Math.min(windowStart.getTime() + HORIZON_MARGIN_MS, options.now.getTime());
    await tx.query(raiseHorizon(tenantId, new Date(horizon)));
  }
  return {
    dryRun: options.dryRun,
    now: options.now.toISOString(),
    retentionDays: options.retentionDays,
    windowStart: windowStart.toISOString(),
    expired: expired.map((s) => ({
      ...brief(s),
      reason: `not pinned, older than ${options.retentionDays} days`,
    })),
    kept: kept.map((s) => ({ ...brief(s), reason: s.pinned ? 'pinned' : 'inside the window' })),
    versions,
  };
}

function brief(row: RetentionRow): Brief {
  return { id: row.id, label: row.label, auto: row.auto, createdAt: row.created_at.toISOString() };
}

/** How often `serve` prunes: expiry is by the day, so hourly is plenty. */
export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

interface PruneLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Calls `tick` every `intervalMs` until the returned function cancels it. `serve` uses an unref'd
 * setInterval (`intervalTimer`); tests pass one that keeps `tick` and call it themselves, so the
 * schedule is tested without waiting on the wall clock.
 */
export type PruneTimer = (tick: () => Promise<void>, intervalMs: number) => () => void;

/** The real timer: unref'd, so it never keeps the process alive. */
export const intervalTimer: PruneTimer = (tick, intervalMs) => {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};

export interface PruneSchedule {
  /**
   * What the timer calls: one prune, logged; never rejects. A tick while a run is in progress waits
   * for that run instead of starting another (runs never overlap); a tick after `stop` does nothing.
   */
  tick(): Promise<void>;
  /** Cancels the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Runs `prune` on `timer` every `intervalMs` (first run after one interval). */
export function schedulePruning(
  prune: () => Promise<Map<string, PruneReport>>,
  log: PruneLog,
  options: { intervalMs?: number; timer?: PruneTimer } = {},
): PruneSchedule {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= prune()
      .then((reports) => {
        let snapshots = 0;
        let versions = 0;
        for (const report of reports.values()) {
          snapshots += report.expired.length;
          for (const v of report.versions) versions += v.pruned;
        }
        log.info({ tenants: reports.size, snapshots, versions }, 'snapshot retention: pruned');
      })
      .catch((error: unknown) => log.error({ err: error }, 'snapshot retention failed'))
      .finally(() => {
        running = null;
      });
    return running;
  };
  const cancel = (options.timer ?? intervalTimer)(tick, options.intervalMs ?? PRUNE_INTERVAL_MS);
  return {
    tick,
    async stop() {
      stopped = true;
      cancel();
      await running;
    },
  };
}
