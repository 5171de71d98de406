import postgres from 'postgres';
import {
  copyOptions,
  type Database,
  type Queryable,
  type Row,
  type Statement,
  statementParts,
  type TransactionOptions,
} from '../database.ts';
import { assertPostgresPatched } from './postgres-patch.ts';

/** Connections a pool opens at most unless told otherwise. */
export const DEFAULT_POOL_SIZE = 10;

/** PostgreSQL through postgres.js: pooled, prepared statements, COPY through writable streams. */
export function openPostgres(url: string, options: { maxConnections?: number } = {}): Database {
  assertPostgresPatched();
  const sql = postgres(url, {
    max: options.maxConnections ?? DEFAULT_POOL_SIZE,
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
    async listen(channel, onNotify) {
      const { unlisten } = await sql.listen(channel, onNotify);
      return unlisten;
    },
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
  const beginFailure = connection.unsafe(options.readOnlyBatch ? 'BEGIN READ ONLY' : 'BEGIN').then(
    () => undefined,
    (error: unknown) => error ?? new Error('BEGIN failed'),
  );
  if (options.readOnlyBatch) return readOnlyBatch(connection, beginFailure, fn);
  // Set by tx.queryLast: the COMMIT already sent behind the transaction's last statement.
  let committed: Promise<unknown> | null = null;
  const statements = queryableOf(connection, () => committed === null);
  const tx: Queryable = {
    ...statements,
    queryLast<T = Row>(statement: Statement) {
      const rows = statements.query<T>(statement);
      committed = settledError(connection.unsafe('COMMIT'));
      return rows;
    },
  };
  let result: T;
  try {
    result = await fn(tx);
    const failure = await beginFailure;
    if (failure !== undefined) throw failure;
  } catch (error) {
    // A connection that closed meanwhile rejects this at once (patches/apply.mjs) and its release()
    // does nothing: the pool has already taken it back. After a COMMIT sent by queryLast this is a
    // no-op with a warning; that COMMIT rolled back if the last statement failed.
    if (committed) await committed;
    await connection.unsafe('ROLLBACK').catch(() => {});
    connection.release();
    throw error;
  }
  try {
    const failure = await (committed ?? settledError(connection.unsafe('COMMIT')));
    if (failure !== undefined) throw failure;
  } finally {
    connection.release();
  }
  return result;
}

/** Undefined when the statement succeeded, else its error (never rejects). */
function settledError(query: Promise<unknown>): Promise<unknown> {
  return query.then(
    () => undefined,
    (error: unknown) => error ?? new Error('statement failed'),
  );
}

/** BEGIN READ ONLY, what `fn` issues at once, COMMIT: one flight (TransactionOptions.readOnlyBatch). */
async function readOnlyBatch<T>(
  connection: postgres.ReservedSql,
  beginFailure: Promise<unknown>,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  let open = true;
  const tx = queryableOf(connection, () => open);
  let result: Promise<T>;
  try {
    result = fn(tx);
  } catch (error) {
    result = Promise.reject(error);
  }
  open = false;
  // After a failed statement the transaction is aborted and this COMMIT rolls it back (no error).
  const committed = settledError(connection.unsafe('COMMIT'));
  try {
    const value = await result;
    const failure = (await beginFailure) ?? (await committed);
    if (failure !== undefined) throw failure;
    return value;
  } finally {
    await committed;
    connection.release();
  }
}

const batchClosed = () =>
  new Error(
    'a statement issued after the COMMIT of its transaction (a read-only batch commits at its first await, queryLast at once)',
  );

function queryableOf(
  sql: postgres.Sql | postgres.ReservedSql,
  isOpen: () => boolean = () => true,
): Queryable {
  return {
    async query<T = Row>(textOrStatement: string | Statement, maybeValues: readonly unknown[] = []) {
      if (!isOpen()) throw batchClosed();
      const [text, values] = statementParts(textOrStatement, maybeValues);
      const prepare = typeof textOrStatement === 'string' || textOrStatement.prepare !== false;
      const query = sql.unsafe(text, values as postgres.ParameterOrJSON<never>[], { prepare });
      // Handed to the connection now, not when `await` gets round to calling then() (a microtask
      // later for a Promise subclass): a statement issued next, such as the COMMIT of a batch, must not
      // overtake this one on the wire.
      query.execute();
      return (await query) as unknown as T[];
    },
    queryLast<T = Row>(statement: Statement) {
      return this.query<T>(statement);
    },
    async exec(script) {
      if (!isOpen()) throw batchClosed();
      await sql.unsafe(script).simple();
    },
    async copyFrom(statement, chunks, format = 'text') {
      if (!isOpen()) throw batchClosed();
      const writable = await sql.unsafe(`${statement} FROM STDIN${copyOptions(format)}`).writable();
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
    async *copyTo(statement) {
      if (!isOpen()) throw batchClosed();
      const readable = await sql.unsafe(`${statement} TO STDOUT`).readable();
      for await (const chunk of readable) yield chunk as Uint8Array;
    },
  };
}

function waitForDrain(writable: NodeJS.WritableStream, finished: Promise<void>): Promise<void> {
  return Promise.race([new Promise<void>((resolve) => writable.once('drain', () => resolve())), finished]);
}
