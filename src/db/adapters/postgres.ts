import postgres from 'postgres';
import {
  type Database,
  type Queryable,
  type Row,
  type Statement,
  statementParts,
  type TransactionOptions,
} from '../database.ts';

/** PostgreSQL through postgres.js: pooled, prepared statements, COPY through writable streams. */
export function openPostgres(url: string, options: { maxConnections?: number } = {}): Database {
  const sql = postgres(url, {
    max: options.maxConnections ?? 10,
    prepare: true,
    onnotice: () => {},
    // int8 as decimal strings (the pglite adapter does the same); jsonb parameters are JSON text.
    types: {
      bigint: { to: 20, from: [20], serialize: (x: unknown) => String(x), parse: (x: string) => x },
      json: {
        to: 3802,
        from: [114, 3802],
        serialize: (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x)),
        parse: (x: string) => JSON.parse(x),
      },
    },
  });
  return {
    kind: 'postgres',
    ...queryableOf(sql),
    transaction: (fn, transactionOptions) => transaction(sql, fn, transactionOptions),
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * A transaction on a reserved connection, with BEGIN not awaited: postgres.js pipelines the queries of
 * one connection, so BEGIN and the statements `fn` issues before its first await leave in one write and
 * come back in one round trip (`sql.begin` spends a round trip on BEGIN alone). Statements on one
 * connection run in order, each in its own Sync group: if BEGIN failed, what followed it ran outside
 * the transaction. BEGIN on an idle reserved connection fails only when the connection itself is gone,
 * and then so does every statement after it; its outcome is checked all the same before COMMIT, and a
 * failure rolls back and throws.
 */
async function transaction<T>(
  sql: postgres.Sql,
  fn: (tx: Queryable) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const connection = await sql.reserve();
  const beginFailure = connection.unsafe(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN').then(
    () => undefined,
    (error: unknown) => error ?? new Error('BEGIN failed'),
  );
  let result: T;
  try {
    result = await fn(queryableOf(connection));
    const failure = await beginFailure;
    if (failure !== undefined) throw failure;
  } catch (error) {
    // A connection that closed meanwhile rejects this at once (patches/apply.mjs) and its release()
    // does nothing: the pool has already taken it back.
    await connection.unsafe('ROLLBACK').catch(() => {});
    connection.release();
    throw error;
  }
  const commit = connection.unsafe('COMMIT');
  if (options.readOnly) {
    // Nothing was written: what was read stands whatever the COMMIT does, so the caller goes on now.
    const release = () => connection.release();
    commit.then(release, release);
    return result;
  }
  try {
    await commit;
  } finally {
    connection.release();
  }
  return result;
}

function queryableOf(sql: postgres.Sql | postgres.ReservedSql): Queryable {
  return {
    async query<T = Row>(textOrStatement: string | Statement, maybeValues: readonly unknown[] = []) {
      const [text, values] = statementParts(textOrStatement, maybeValues);
      const rows = await sql.unsafe(text, values as postgres.ParameterOrJSON<never>[], { prepare: true });
      return rows as unknown as T[];
    },
    async exec(script) {
      await sql.unsafe(script).simple();
    },
    async copyFrom(statement, chunks) {
      const writable = await sql.unsafe(`${statement} FROM STDIN`).writable();
      const finished = new Promise<void>((resolve, reject) => {
        writable.on('finish', resolve);
        writable.on('error', reject);
      });
      try {
        for await (const chunk of chunks) {
          if (!writable.write(chunk)) await waitForDrain(writable, finished);
        }
      } catch (error) {
        writable.destroy(error as Error);
        await finished.catch(() => {});
        throw error;
      }
      writable.end();
      await finished;
    },
  };
}

function waitForDrain(writable: NodeJS.WritableStream, finished: Promise<void>): Promise<void> {
  return Promise.race([new Promise<void>((resolve) => writable.once('drain', () => resolve())), finished]);
}
