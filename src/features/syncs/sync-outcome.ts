import type { AppError } from '../../errors.ts';
import { heldReplayError } from './guards.ts';
import type { SyncRunView } from './syncs.service.ts';

/**
 * How a sync run ended, short of a failure (a failure is thrown as a catalog error naming the run):
 * - applied: the feed was written (200);
 * - planned: a dry run, rolled back, with its plan (200);
 * - held: a guard refused it; nothing written, the plan waits for approval (409, `refusal`);
 * - replayed: the same Idempotency-Key and body again, answered as the first time (`statusCode`).
 */
export type SyncOutcome =
  | { kind: 'applied'; run: SyncRunView }
  | { kind: 'planned'; run: SyncRunView }
  | { kind: 'held'; run: SyncRunView; refusal: AppError }
  | { kind: 'replayed'; run: SyncRunView; statusCode: 200 | 409 };

/**
 * The run of an outcome that went through (applied, planned, or their replay); a held run's refusal,
 * first or replayed, is thrown as its 409.
 */
export function acceptedRun(outcome: SyncOutcome): SyncRunView {
  if (outcome.kind === 'held') throw outcome.refusal;
  if (outcome.kind === 'replayed' && outcome.statusCode === 409) throw heldReplayError(outcome.run);
  return outcome.run;
}
