import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { type Config, serverFile } from './config.ts';
import type { Database } from './db/database.ts';
import { migrate, pendingMigrations } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
import { AppError } from './errors.ts';
import { ApiKeyService } from './features/api-keys/api-keys.service.ts';
import { generateKey } from './features/api-keys/key-format.ts';
import { type BackgroundWork, startBackgroundWork } from './features/auto-import/background.ts';
import { startHeldRunExpiry } from './features/held-runs/expiry.ts';
import { type PruneTimer, schedulePruning } from './features/snapshots/retention.ts';
import { SnapshotService } from './features/snapshots/snapshots.service.ts';
import { startWebhookDelivery } from './features/webhooks/background.ts';

export interface RunningServer {
  app: FastifyInstance;
  db: Database;
  url: string;
  /** The folder importer and the feed scheduler, started after listen, stopped first on close. */
  background: BackgroundWork;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** The clock for snapshots and retention; tests inject one to move time by days. */
  now?: () => Date;
  /** What runs the retention prune on its interval; tests pass one they tick by hand. */
  pruneTimer?: PruneTimer;
}

/**
 * Opens the database, checks the schema, and listens. On the embedded database the schema is brought
 * up to date here (the server is its only user); on PostgreSQL a pending migration stops the start:
 * migrations there are an operator's step (`sync-manager migrate`).
 */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const db = await openDatabase(config, 'sync-manager serve');
  try {
    await prepareSchema(db);
    if (config.adminKey) await new ApiKeyService(db).addPlatformKey(config.adminKey);
    const operatorToken = generateKey('platform');
    const now = options.now ? { now: options.now } : {};
    const app = await buildApp({ config, db, operatorTokens: [operatorToken], ...now });
    await app.listen({ host: config.host, port: config.port });
    const url = `http://${formatHost(config.host)}:${(app.server.address() as { port: number }).port}`;
    const localFile = db.kind === 'pglite' ? serverFile(config) : undefined;
    if (localFile) {
      writeFileSync(localFile, JSON.stringify({ pid: process.pid, url, token: operatorToken }), {
        mode: 0o600,
      });
      chmodSync(localFile, 0o600);
    }
    const background = startBackgroundWork(config, db, app.log);
    const heldExpiry = startHeldRunExpiry(
      db,
      config.heldRunExpiryMs,
      app.log.child({ component: 'held-runs' }),
    );
    const webhooks = startWebhookDelivery(config, db, app.log.child({ component: 'webhooks' }), now);
    const snapshots = new SnapshotService(db, { retentionDays: config.snapshotRetentionDays, ...now });
    const pruning = schedulePruning(() => snapshots.pruneAll({ dryRun: false }), app.log, {
      ...(options.pruneTimer ? { timer: options.pruneTimer } : {}),
    });
    let closing: Promise<void> | undefined;
    return {
      app,
      db,
      url,
      background,
      close: () => {
        closing ??= (async () => {
          if (localFile) rmSync(localFile, { force: true });
          await pruning.stop();
          await background.stop();
          await heldExpiry.stop();
          await webhooks.stop();
          await app.close();
          await db.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

async function prepareSchema(db: Database): Promise<void> {
  if (db.kind === 'pglite') {
    await migrate(db);
    return;
  }
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new AppError(
      'service_unavailable',
      `the database schema is ${pending.length} migration(s) behind: run \`sync-manager migrate\` first`,
    );
  }
}

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
