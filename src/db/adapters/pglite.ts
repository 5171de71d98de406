import { PGlite } from '@electric-sql/pglite';
import {
  copyOptions,
  type Database,
  type Queryable,
  type Row,
  type Statement,
  statementParts,
} from '../database.ts';

/** PGlite parses these types itself; int8 must come back as a string, as on PostgreSQL. */
const parsers = { 20: (value: string) => value };

/**
 * Embedded PostgreSQL (PGlite) on disk, or in memory when `dataDir` is undefined (tests only:
 * FINDINGS measured in-memory mode as unusable for large data). PGlite serves one connection and
 * queues queries and transactions itself, so concurrent callers are serialised, never interleaved.
 */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  const pg = await PGlite.create(dataDir === undefined ? { parsers } : { dataDir, parsers });
  return {
    kind: 'pglite',
    ...queryableOf(pg),
    // No round trips to save on one embedded connection; the read-only batch keeps its rules (READ
    // ONLY, no statement after the first await) so that a misuse fails here as on PostgreSQL.
    transaction: (fn, options) =>
      pg.transaction(async (tx) => {
        if (!options?.readOnlyBatch) {
          // queryLast: the transaction commits when `fn` returns; nothing may be issued after it.
          let last = false;
          const statements = queryableOf(tx, () => !last);
          return fn({
            ...statements,
            queryLast: <T = Row>(statement: Statement) => {
              const rows = statements.query<T>(statement);
              last = true;
              return rows;
            },
          });
        }
        await tx.query('SET TRANSACTION READ ONLY');
        let open = true;
        const result = fn(queryableOf(tx, () => open));
        open = false;
        return result;
      }),
    async listen(channel, onNotify) {
      const stop = await pg.listen(channel, onNotify);
      return async () => stop();
    },
    close: () => pg.close(),
  };
}

type PgliteQueryable = Pick<PGlite, 'query' | 'exec'>;

/** COPY loads from an in-memory blob here, so large loads go in pieces of about this many bytes. */
const COPY_PIECE_BYTES = 16 * 1024 * 1024;

const issuedAfterCommit = () =>
  new Error(
    'a statement issued after the COMMIT of its transaction (a read-only batch commits at its first await, queryLast at once)',
  );

function queryableOf(pg: PgliteQueryable, isOpen: () => boolean = () => true): Queryable {
  return {
    async query<T = Row>(textOrStatement: string | Statement, maybeValues: readonly unknown[] = []) {
      if (!isOpen()) throw issuedAfterCommit();
      const [text, values] = statementParts(textOrStatement, maybeValues);
      const result = await pg.query<T>(text, values as unknown[]);
      return result.rows;
    },
    queryLast<T = Row>(statement: Statement) {
      return this.query<T>(statement);
    },
    async exec(script) {
      await pg.exec(script);
    },
    /** PGlite writes the whole output into one blob: fine for the embedded database's sizes. */
    async *copyTo(statement) {
      if (!isOpen()) throw issuedAfterCommit();
      const result = await pg.query(`${statement} TO '/dev/blob'`);
      if (result.blob) yield new Uint8Array(await result.blob.arrayBuffer());
    },
    async copyFrom(statement, chunks, format = 'text') {
      let piece: (string | Uint8Array)[] = [];
      let size = 0;
      const flush = async () => {
        if (piece.length === 0) return;
        const blob = new Blob(piece);
        await pg.query(`${statement} FROM '/dev/blob'${copyOptions(format)}`, [], { blob });
        piece = [];
        size = 0;
      };
      for await (const chunk of chunks) {
        piece.push(chunk);
        size += chunk.length;
        // A binary stream has one header and one trailer, so it cannot be cut into statements.
        if (size >= COPY_PIECE_BYTES && format === 'text') await flush();
      }
      await flush();
    },
  };
}
