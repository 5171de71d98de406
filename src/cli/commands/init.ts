import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { DataDirLockedError } from '../../db/data-dir-lock.ts';
import { migrate } from '../../db/migrate.ts';
import { openDatabase } from '../../db/open.ts';
import { ApiKeyService } from '../../features/api-keys/api-keys.service.ts';
import { printJson } from '../output.ts';

const HELD_HINT =
  'other commands go through the running server and need no key; for another platform admin key, stop ' +
  'the server, run init, and start it again';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create or migrate the database and make a platform admin key (printed once)')
    .option('--json', 'print what was made as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const db = await openDatabase(config, 'sync-manager init').catch((error: unknown) => {
        // The running server already migrated the folder; only a new admin key needs it closed.
        if (!(error instanceof DataDirLockedError)) throw error;
        throw new Error(
          `the data folder ${error.dataDir} is in use by process ${error.holder.pid} ` +
            `(${error.holder.command}): ${HELD_HINT}`,
        );
      });
      try {
        const applied = await migrate(db);
        const keys = new ApiKeyService(db);
        let adminKey: string | null = null;
        if (config.adminKey) await keys.addPlatformKey(config.adminKey);
        else adminKey = await keys.createPlatformKey();
        const result = {
          database: db.kind === 'pglite' ? { kind: db.kind, dataDir: config.dataDir } : { kind: db.kind },
          migrationsApplied: applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`),
          adminKey,
          adminKeySource: adminKey ? 'generated' : 'SYNC_MANAGER_ADMIN_KEY',
        };
        if (options.json) return printJson(result);
        process.stdout.write(`database: ${db.kind}${db.kind === 'pglite' ? ` in ${config.dataDir}` : ''}\n`);
        process.stdout.write(
          `migrations applied: ${result.migrationsApplied.join(', ') || 'none (up to date)'}\n`,
        );
        if (adminKey) {
          process.stdout.write(`platform admin key (shown once, keep it safe):\n${adminKey}\n`);
        } else {
          process.stdout.write('platform admin key: the one in SYNC_MANAGER_ADMIN_KEY is registered\n');
        }
      } finally {
        await db.close();
      }
    });
}
