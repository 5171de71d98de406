import type { Queryable } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import * as sql from './idempotency.sql.ts';
import type { SyncRequest, SyncRunView } from './syncs.service.ts';

/** The answer a request with this key got the first time. */
export type StoredAnswer = { statusCode: 200 | 409; run: SyncRunView };

/**
 * Claims the request's Idempotency-Key, once its body has been read (the hash covers the body). A key
 * answered before gives its stored answer, to replay; the caller rolls the run back. The key used with
 * another request, or still running, is refused.
 */
export async function claimIdempotencyKey(
  tx: Queryable,
  request: SyncRequest,
  collectionId: string,
): Promise<StoredAnswer | null> {
  if (!request.idempotency) return null;
  const { tenantId } = request;
  const scope = scopeOf(collectionId);
  const hash = requestHash(request, request.idempotency.requestHash());
  const claimed = await tx.query(sql.claimIdempotencyKey(tenantId, scope, request.idempotency.key, hash));
  if (claimed.length > 0) return null;
  const [stored] = await tx.query<{
    request_hash: string;
    status_code: number | null;
    response: SyncRunView;
  }>(sql.findIdempotencyKey(tenantId, scope, request.idempotency.key));
  if (stored && stored.request_hash !== hash) {
    throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used with another request body');
  }
  if (stored?.status_code) return { statusCode: stored.status_code as 200 | 409, run: stored.response };
  throw new AppError('sync_in_progress', 'A request with this Idempotency-Key is still running');
}

/** Keeps the answer for the key, in the run's transaction (a rolled-back run keeps none). */
export async function storeIdempotentAnswer(
  tx: Queryable,
  request: SyncRequest,
  collectionId: string,
  answer: StoredAnswer,
): Promise<void> {
  if (!request.idempotency) return;
  await tx.query(
    sql.storeIdempotentResponse(
      request.tenantId,
      scopeOf(collectionId),
      request.idempotency.key,
      answer.statusCode,
      answer.run,
    ),
  );
}

function scopeOf(collectionId: string): string {
  return `sync:${collectionId}`;
}

/** What makes two requests the same: the options that change the result, and the body's digest. */
function requestHash(request: SyncRequest, bodyDigest: string): string {
  const skip = request.invalidRecords === 'skip' ? ':skip' : '';
  // The same body sent for another source is another request.
  const named = request.source === undefined ? '' : `:source=${request.source}`;
  return `${request.mode}:${request.dryRun}:${request.force}${skip}${named}:${bodyDigest}`;
}
