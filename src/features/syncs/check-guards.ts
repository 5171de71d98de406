import type { Queryable } from '../../db/database.ts';
import type { Collection } from '../collections/collections.service.ts';
import type { SyncMode } from './apply.ts';
import { type GuardReason, guardReasons } from './guards.ts';
import type { StagedPlan } from './plan.ts';
import type { StagedFeed } from './staging.ts';

export type GuardCheck = {
  /** Set when applying would trip the delete guard (dry runs report it instead of refusing). */
  guard: string | null;
  /** The guards the run trips, none when forced: a run that trips one is held (docs/run-safety.md). */
  held: GuardReason[];
};

/** The guards of the collection against the plan, before anything is written. */
export async function checkGuards(
  tx: Queryable,
  input: { tenantId: string; collection: Collection; mode: SyncMode; force: boolean; staged: StagedFeed },
  plan: StagedPlan,
): Promise<GuardCheck> {
  const { collection, staged } = input;
  const guard = deleteGuard(
    input.mode === 'full',
    staged.rows,
    staged.live,
    plan.counts.deleted,
    collection.maxDeleteRatio,
  );
  const held = input.force
    ? []
    : await guardReasons(tx, {
        tenantId: input.tenantId,
        collectionId: collection.id,
        guards: collection.guards,
        deleteGuard: guard,
        updated: plan.counts.updated,
        live: staged.live,
      });
  return { guard, held };
}

export function deleteGuard(
  full: boolean,
  rows: number,
  live: number,
  deleting: number,
  maxRatio: number,
): string | null {
  if (!full || live === 0) return null;
  if (rows === 0) {
    return `the feed is empty and would delete all ${live} records of the collection (use force to allow)`;
  }
  if (deleting / live > maxRatio) {
    return `the sync would delete ${deleting} of ${live} records (${((100 * deleting) / live).toFixed(1)}%), more than maxDeleteRatio ${maxRatio} allows (use force to allow)`;
  }
  return null;
}
