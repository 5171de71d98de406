import postgres from 'postgres';
import { type Database, type Queryable, type Row, type Statement, statementParts } from '../database.ts';

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
    transaction: (fn) => sql.begin((tx) => fn(queryableOf(tx))) as Promise<Awaited<ReturnType<typeof fn>>>,
    close: () => sql.end({ timeout: 5 }),
  };
}

function queryableOf(sql: postgres.Sql | postgres.TransactionSql): Queryable {
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
