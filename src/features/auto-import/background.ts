import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
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
 * the scheduler of feed sources. The sync service holds no state of its own (locks live in the
 * database), so this instance and the API's serialise on the same collection locks.
 */
export function startBackgroundWork(config: Config, db: Database, log: FastifyBaseLogger): BackgroundWork {
  const syncs = new SyncService(db, new CollectionService(db), {
    snapshotRetentionDays: config.snapshotRetentionDays,
  });
  const sync = feedSyncThroughSyncService(syncs);
  const importer = config.importDir
    ? new FolderImporter(
        db,
        sync,
        {
          importDir: config.importDir,
          pollMs: config.importPollMs,
          stableMs: config.importStableMs,
          leaseMs: config.importLeaseMs,
        },
        log.child({ component: 'auto-import' }),
      )
    : undefined;
  const scheduler = new SourceScheduler(
    db,
    sync,
    {
      tickMs: config.scheduleTickMs,
      timeoutMs: config.feedTimeoutMs,
      maxBytes: config.feedMaxBytes,
      allowPrivate: config.allowPrivateFeedUrls,
    },
    log.child({ component: 'schedule' }),
  );
  importer?.start();
  scheduler.start();
  if (config.importDir)
    log.info({ importDir: config.importDir }, 'auto-import is watching the import folder');
  return {
    importer,
    scheduler,
    async stop() {
      await Promise.all([importer?.stop(), scheduler.stop()]);
    },
  };
}
