import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { IntervalWorker } from '../../lib/interval-worker.ts';
import { CollectionService } from '../collections/collections.service.ts';
import { SourceScheduler } from '../sources/scheduler.ts';
import { SyncService } from '../syncs/syncs.service.ts';
import { FolderImporter } from './auto-import.service.ts';
import { feedSyncThroughSyncService } from './feed-sync.ts';

export interface BackgroundWork {
  importer: FolderImporter | undefined;
  scheduler: SourceScheduler;
  /** Stops polling and waits for the import or fetch in progress. */
  stop(): Promise<void>;
}

/**
 * What `serve` runs besides the API: the folder importer (when SYNC_MANAGER_IMPORT_DIR is set) and
 * the scheduler of feed sources, each polled by an IntervalWorker. The sync service holds no state of
 * its own (locks live in the database), so this instance and the API's serialise on the same
 * collection locks.
 */
export function startBackgroundWork(config: Config, db: Database, log: FastifyBaseLogger): BackgroundWork {
  const syncs = new SyncService(db, new CollectionService(db), {
    snapshotRetentionDays: config.snapshotRetentionDays,
    heldRunDays: config.heldRunDays,
  });
  const sync = feedSyncThroughSyncService(syncs);
  const workers: IntervalWorker[] = [];
  let importer: FolderImporter | undefined;
  if (config.importDir) {
    const importLog = log.child({ component: 'auto-import' });
    importer = new FolderImporter(
      db,
      sync,
      {
        importDir: config.importDir,
        pollMs: config.importPollMs,
        stableMs: config.importStableMs,
        leaseMs: config.importLeaseMs,
      },
      importLog,
    );
    const folder = importer;
    workers.push(
      new IntervalWorker((signal) => folder.scan(signal), {
        intervalMs: config.importPollMs,
        failureMessage: 'auto-import: scan failed',
        log: importLog,
      }),
    );
  }
  const scheduleLog = log.child({ component: 'schedule' });
  const scheduler = new SourceScheduler(
    db,
    sync,
    {
      timeoutMs: config.feedTimeoutMs,
      maxBytes: config.feedMaxBytes,
      allowPrivate: config.allowPrivateFeedUrls,
    },
    scheduleLog,
  );
  workers.push(
    new IntervalWorker((signal) => scheduler.tick(signal), {
      intervalMs: config.scheduleTickMs,
      failureMessage: 'schedule: tick failed',
      log: scheduleLog,
    }),
  );
  for (const worker of workers) worker.start();
  if (config.importDir)
    log.info({ importDir: config.importDir }, 'auto-import is watching the import folder');
  return {
    importer,
    scheduler,
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop()));
    },
  };
}
