/**
 * A process that imports one dropped file and is killed (SIGKILL, by itself) after the sync
 * committed and before the file is moved: the crash the next holder of the claim must recover from.
 *
 *   node --import tsx test/auto-import/die-after-commit.ts <after-sync|before-finish>
 *
 * with DATABASE_URL or SYNC_MANAGER_DATA_DIR, and SYNC_MANAGER_IMPORT_DIR holding exactly one file.
 * - after-sync: the sync run committed and is marked succeeded; the process dies before the move.
 * - before-finish: the apply transaction committed; the process dies as it is about to mark the run
 *   succeeded (the run stays 'running', and a server start marks it failed, 'interrupted').
 * The real importer, sync service and database run throughout; the database seen by the sync service
 * is the real one, wrapped only to kill the process at that statement.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import type { Database, Queryable, Statement } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/open.ts';
import { FolderImporter } from '../../src/features/auto-import/auto-import.service.ts';
import { type FeedSync, feedSyncThroughSyncService } from '../../src/features/auto-import/feed-sync.ts';
import { listDroppedFiles } from '../../src/features/auto-import/import-folder.ts';
import { CollectionService } from '../../src/features/collections/collections.service.ts';
import { SyncService } from '../../src/features/syncs/syncs.service.ts';

const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

/** The real database; the statement marking a sync run succeeded kills the process instead. */
function dyingBeforeFinish(db: Database): Database {
  const wrap = (target: Queryable): Queryable => ({
    query: ((textOrStatement: string | Statement, values?: readonly unknown[]) => {
      const statement =
        typeof textOrStatement === 'string'
          ? { text: textOrStatement, values: values ?? [] }
          : textOrStatement;
      if (/^\s*UPDATE sync_runs SET status/.test(statement.text) && statement.values.includes('succeeded'))
        die();
      return target.query(statement);
    }) as Queryable['query'],
    copyFrom: (statement, chunks, format) => target.copyFrom(statement, chunks, format),
    copyTo: (statement) => target.copyTo(statement),
    exec: (script) => target.exec(script),
    queryLast: (statement) => target.queryLast(statement),
  });
  return {
    ...wrap(db),
    kind: db.kind,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
}

const point = process.argv[2];
if (point !== 'after-sync' && point !== 'before-finish') throw new Error(`unknown point ${point}`);
const config = loadConfig();
const db = await openDatabase(config, 'die-after-commit');
const syncs = new SyncService(
  point === 'before-finish' ? dyingBeforeFinish(db) : db,
  new CollectionService(db),
  { snapshotRetentionDays: config.snapshotRetentionDays },
);
const sync: FeedSync = feedSyncThroughSyncService(syncs);
const syncThenDie: FeedSync = async (input) => {
  await sync(input);
  return die();
};
const importer = new FolderImporter(
  db,
  point === 'after-sync' ? syncThenDie : sync,
  { importDir: config.importDir!, pollMs: 50, stableMs: 0, leaseMs: 500 },
  pino({ level: 'silent' }),
);
const [file] = await listDroppedFiles(config.importDir!);
if (!file) throw new Error('no file to import');
const outcome = await importer.importFile(file);
console.error(`survived the import (${outcome})`);
process.exit(1);
