import type { Queryable, Statement } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import { getAt, type JsonValue, parsePointer } from '../../json/index.ts';
import type { ReadFeedOptions } from '../../sync/feed/index.ts';
import type { RunGuards } from '../collections/collections.sql.ts';
import type { ApplyResult } from './apply.ts';

// The guards that hold a run for approval instead of applying it (docs/run-safety.md). The delete
// guard's text comes from apply.ts; the others are checked here from the plan's counts and, for the
// field guard, the staged changed rows (never the whole collection).

export type GuardReason = {
  code: 'delete_guard' | 'change_guard' | 'field_change_guard';
  message: string;
  pointer?: string;
};

/**
 * The reasons to hold a run, in a fixed order; none when it may be applied. `live`: the records live
 * before the run (the share's denominator). The field guard counts the staged changed rows of the
 * single-source path (sync_feed against records.source).
 */
export async function guardReasons(
  tx: Queryable,
  input: {
    tenantId: string;
    collectionId: string;
    guards: RunGuards;
    deleteGuard: string | null;
    updated: number;
    live: number;
  },
): Promise<GuardReason[]> {
  const fields = Object.entries(input.guards.maxFieldChangeRatio ?? {});
  const changed = new Map<string, number>();
  if (fields.length > 0 && input.updated > 0 && input.live > 0) {
    const rows = await tx.query<{ pointer: string; changed: number }>(
      countFieldChanges(
        input.tenantId,
        input.collectionId,
        fields.map(([pointer]) => ({ pointer, path: parsePointer(pointer) })),
      ),
    );
    for (const row of rows) changed.set(row.pointer, row.changed);
  }
  return heldReasons({ ...input, fieldChanges: changed });
}

/**
 * The reasons from counts already known: `fieldChanges` is, per pointer of maxFieldChangeRatio, the
 * updated records whose source value changes there (the named-source path counts them as it merges).
 */
export function heldReasons(input: {
  guards: RunGuards;
  deleteGuard: string | null;
  updated: number;
  live: number;
  fieldChanges: ReadonlyMap<string, number>;
}): GuardReason[] {
  const reasons: GuardReason[] = [];
  if (input.deleteGuard) reasons.push({ code: 'delete_guard', message: input.deleteGuard });
  const { guards, live, updated } = input;
  if (live === 0) return reasons;
  const share = (n: number) => `${n} of ${live} records (${((100 * n) / live).toFixed(1)}%)`;
  if (guards.maxChangeRatio !== undefined && updated / live > guards.maxChangeRatio) {
    reasons.push({
      code: 'change_guard',
      message: `the sync would update ${share(updated)}, more than maxChangeRatio ${guards.maxChangeRatio} allows`,
    });
  }
  for (const [pointer, max] of Object.entries(guards.maxFieldChangeRatio ?? {})) {
    const changed = input.fieldChanges.get(pointer) ?? 0;
    if (changed / live > max) {
      reasons.push({
        code: 'field_change_guard',
        pointer,
        message: `the sync would change ${pointer} in ${share(changed)}, more than maxFieldChangeRatio ${max} allows`,
      });
    }
  }
  return reasons;
}

/**
 * Per pointer, the staged changed records (sync_feed) whose source value differs at it: a new record
 * is not a change of a field of the collection, so only updates count.
 */
function countFieldChanges(
  tenantId: string,
  collectionId: string,
  fields: { pointer: string; path: string[] }[],
): Statement {
  return {
    text: `WITH n AS MATERIALIZED (
        SELECT f.doc::jsonb AS doc, r.source FROM sync_feed f
        JOIN records r ON r.tenant_id = $1 AND r.collection_id = $2 AND r.record_id = f.record_id
        WHERE NOT f.deleted AND r.source IS NOT NULL AND r.source_hash IS DISTINCT FROM f.hash)
      SELECT p.pointer, count(n.doc) FILTER (WHERE (n.doc #> p.path) IS DISTINCT FROM (n.source #> p.path))::int AS changed
      FROM jsonb_to_recordset($3::jsonb) AS p(pointer text, path text[]) CROSS JOIN n
      GROUP BY p.pointer`,
    values: [tenantId, collectionId, JSON.stringify(fields)],
  };
}

/**
 * requiredFields as a row check of the feed reader: a record without one of the pointers is a feed
 * error (code `required_field`), like a missing id, reported with its row. Composed with the
 * collection's schema check when there is one.
 */
export function requiredFieldsCheck(
  required: string[] | undefined,
  schema: ReadFeedOptions['validate'] | undefined,
): ReadFeedOptions['validate'] | undefined {
  if (!required || required.length === 0) return schema;
  const paths = required.map((pointer) => ({ pointer, tokens: parsePointer(pointer) }));
  return (value: unknown) => {
    const failures = schema ? (schema(value) ?? []) : [];
    for (const { pointer, tokens } of paths) {
      if (!getAt(value as JsonValue, tokens).found) {
        failures.push({ pointer, message: `required field ${pointer} is missing (requiredFields)` });
      }
    }
    return failures.length > 0 ? failures : null;
  };
}

/**
 * The answer to a held run: 409 with the run's id, its reasons and plan. A tripped delete guard keeps
 * its old code (`delete_guard`), so clients written before held runs still see the refusal they knew.
 */
/**
 * The answer again for a replayed request (same Idempotency-Key) whose run was held: the same 409 the
 * first request got, never a 200 a retrying client would take for an applied sync.
 */
export function heldReplayError(run: {
  id: string;
  status: string;
  counts: unknown;
  errors: unknown;
  plan?: unknown;
}): AppError {
  const held = (Array.isArray(run.errors) ? run.errors : []) as GuardReason[];
  const first = heldError(run.id, { held, counts: run.counts, plan: run.plan ?? null } as ApplyResult);
  return new AppError(first.code, first.message, {
    ...first.extensions,
    syncStatus: run.status,
    idempotentReplayed: true,
  });
}

export function heldError(runId: string, result: ApplyResult): AppError {
  const deleteGuard = result.held.some((reason) => reason.code === 'delete_guard');
  const message = `${result.held.map((reason) => reason.message).join('; ')}. The run is held: approve it with POST /v1/syncs/${runId}/approve, reject it, or sync with force=true`;
  return new AppError(deleteGuard ? 'delete_guard' : 'sync_held', message, {
    syncId: runId,
    syncStatus: 'held',
    reasons: result.held,
    counts: result.counts,
    plan: result.plan,
  });
}
