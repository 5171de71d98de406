import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/database.ts';
import { IntervalWorker } from '../../lib/interval-worker.ts';
import { expireHeldRuns } from './held-runs.service.ts';

/**
 * serve's timer for held runs past their time (SYNC_MANAGER_HELD_RUN_DAYS): every `intervalMs` they
 * expire and their staged rows go, so a server that stays up does not keep them until its next start.
 * One indexed statement (sync_runs_held) per tick.
 */
export function startHeldRunExpiry(db: Database, intervalMs: number, log: FastifyBaseLogger): IntervalWorker {
  const worker = new IntervalWorker(
    async () => {
      const expired = await expireHeldRuns(db);
      if (expired > 0) log.info({ expired }, 'held runs expired');
    },
    { intervalMs, failureMessage: 'held runs: expiry failed', log },
  );
  worker.start();
  return worker;
}
