import { chmod, cp, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
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
  const pg = dataDir === undefined ? await PGlite.create({ parsers }) : await openOwnerOnly(dataDir);
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
    ...(dataDir === undefined ? {} : { copyDataDir: (target: string) => copyDataDir(pg, dataDir, target) }),
  };
}

/**
 * The data folder holds every tenant's data: it is the owner's alone (0700), so nothing in it can be
 * reached by another user. PGlite's emulated filesystem creates files 0666 minus the process umask,
 * so the umask is 077 while it opens (or creates) the cluster, and what is there is then tightened.
 * The umask is restored after: the server's other files (import reports) keep the operator's. Files
 * PGlite creates later get the operator's umask too, inside the closed folder, until the next open.
 */
async function openOwnerOnly(dataDir: string): Promise<PGlite> {
  const umask = process.umask(0o077);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
    const pg = await PGlite.create({ dataDir, parsers });
    await ownerOnly(dataDir);
    return pg;
  } finally {
    process.umask(umask);
  }
}

/**
 * Folders 0700, files 0600 under `root`: a new cluster is unpacked with world-writable files (0666),
 * and a folder made before this rule had them too. A walk with a list, not recursion; links are left.
 */
async function ownerOnly(root: string): Promise<void> {
  const folders = [root];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        await chmod(path, 0o700);
        folders.push(path);
      } else if (entry.isFile()) {
        await chmod(path, 0o600);
      }
    }
  }
}

/**
 * A checkpoint (less WAL to replay when the copy opens), then the folder copied file by file under
 * PGlite's query lock, the one its own dumpDataDir takes: no statement runs meanwhile, and PGlite
 * writes to its files only while one runs. dumpDataDir would hold the whole folder in memory.
 */
async function copyDataDir(pg: PGlite, dataDir: string, target: string): Promise<void> {
  await pg.query('CHECKPOINT');
  const locked = pg as unknown as { _runExclusiveQuery?: <T>(fn: () => Promise<T>) => Promise<T> };
  if (typeof locked._runExclusiveQuery !== 'function') {
    throw new Error('this PGlite version has no query lock to copy its folder under (see copyDataDir)');
  }
  await locked._runExclusiveQuery(() =>
    cp(dataDir, target, { recursive: true, errorOnExist: true, force: false }),
  );
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
