import { DEFAULT_POOL_SIZE } from '../../db/adapters/postgres.ts';
import type { Database } from '../../db/database.ts';
import type { PoolStats } from './metrics.ts';

/**
 * The database with its calls counted: neither postgres.js nor PGlite tells how many connections are
 * busy, so the figures are what this process asked for. A statement, COPY or whole transaction in
 * flight holds a connection; beyond the pool's size, callers wait for one.
 */
export function countedDatabase(db: Database): { db: Database; stats: () => PoolStats } {
  const max = db.kind === 'pglite' ? 1 : DEFAULT_POOL_SIZE;
  let busy = 0;
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    busy++;
    try {
      return await work();
    } finally {
      busy--;
    }
  };
  const wrapped: Database = {
    ...db,
    query: ((...args: Parameters<Database['query']>) =>
      counted(() => db.query(...args))) as Database['query'],
    queryLast: (statement) => counted(() => db.queryLast(statement)),
    exec: (script) => counted(() => db.exec(script)),
    copyFrom: (statement, chunks, format) => counted(() => db.copyFrom(statement, chunks, format)),
    async *copyTo(statement) {
      busy++;
      try {
        yield* db.copyTo(statement);
      } finally {
        busy--;
      }
    },
    transaction: (fn, options) => counted(() => db.transaction(fn, options)),
    close: () => db.close(),
  };
  return {
    db: wrapped,
    stats: () => ({ max, inUse: Math.min(busy, max), waiting: Math.max(0, busy - max) }),
  };
}
