import type { Queryable, Statement } from '../../db/database.ts';

/**
 * Whether a sync reads the collection's stored index first (src/sync/stored-index.ts) or stages
 * every row of its feed for the database to compare. The index costs about a microsecond and a half
 * per stored record and saves every unchanged row a trip to the database (some ten microseconds); so
 * a small partial feed into a large collection skips it and costs its own size, not the
 * collection's. Full mode always reads it: it finds the records the feed no longer has.
 *
 * The feed's row count is guessed high from its bytes (a record of 64 bytes is a small one), and the
 * collection is counted only up to the size where the index stops paying: a bounded index-only count.
 */
const BYTES_PER_ROW_GUESS = 64;
const STORED_PER_FEED_ROW = 10;
/** Past this, a feed is large enough that reading the index never costs much in proportion. */
const MAX_SMALL_FEED_BYTES = 64 * 1024 * 1024;

export async function skipsStoredIndex(
  tx: Queryable,
  input: { tenantId: string; collectionId: string; partial: boolean; feedBytes: number | undefined },
): Promise<boolean> {
  if (!input.partial || input.feedBytes === undefined || input.feedBytes > MAX_SMALL_FEED_BYTES) return false;
  const enough = Math.ceil((input.feedBytes / BYTES_PER_ROW_GUESS) * STORED_PER_FEED_ROW) + 1;
  const [row] = await tx.query<{ n: number }>(countUpTo(input.tenantId, input.collectionId, enough));
  return row!.n >= enough;
}

function countUpTo(tenantId: string, collectionId: string, limit: number): Statement {
  return {
    text: `SELECT count(*)::int AS n FROM (SELECT 1 FROM records
      WHERE tenant_id = $1 AND collection_id = $2 LIMIT $3) s`,
    values: [tenantId, collectionId, limit],
  };
}
