import { cpSync, existsSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { lockDataDir } from '../../db/data-dir-lock.ts';
import { withClient } from '../context.ts';
import { printJson } from '../output.ts';

/**
 * `backup <dir>` copies the embedded data folder into a new folder, consistently even while `serve`
 * runs: the copy is made by the process that holds the database (the server, asked over its local
 * operator token, or this one). `restore-backup <dir>` puts such a copy in place of the data folder
 * while no server runs, keeping the folder it replaces. PostgreSQL has pg_dump for both.
 */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('copy the embedded data folder into <dir>, consistently, even while serve runs')
    .argument('<dir>', 'a new or empty folder; the copy opens with SYNC_MANAGER_DATA_DIR=<dir>')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, options: { json?: boolean }) => {
      const directory = resolve(dir);
      if (loadConfig().databaseUrl) throw new Error('DATABASE_URL is set: back up PostgreSQL with pg_dump');
      const result = await withClient((client) =>
        client.call<{ directory: string }>({ method: 'POST', path: '/v1/backups', body: { directory } }),
      );
      if (options.json) printJson(result);
      else process.stdout.write(`backed up to ${result.directory}\n`);
    });

  program
    .command('restore-backup')
    .description('replace the embedded data folder with a copy made by `backup` (stop serve first)')
    .argument('<dir>', 'a folder written by `sync-manager backup`')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, options: { json?: boolean }) => {
      const config = loadConfig();
      if (config.databaseUrl)
        throw new Error('DATABASE_URL is set: restore PostgreSQL with pg_restore or psql');
      const source = join(resolve(dir), 'pgdata');
      if (!existsSync(join(source, 'PG_VERSION'))) {
        throw new Error(
          `${resolve(dir)} holds no backup (no pgdata/PG_VERSION): make one with \`sync-manager backup\``,
        );
      }
      const lock = lockDataDir(config.dataDir, 'sync-manager restore-backup');
      try {
        const target = join(config.dataDir, 'pgdata');
        let kept: string | null = null;
        if (existsSync(target)) {
          kept = `${target}.before-restore-${new Date().toISOString().replaceAll(':', '-')}`;
          renameSync(target, kept);
        }
        cpSync(source, target, { recursive: true, errorOnExist: true, force: false });
        const result = { restored: resolve(dir), dataDir: config.dataDir, previous: kept };
        if (options.json) printJson(result);
        else {
          process.stdout.write(`restored ${result.restored} into ${config.dataDir}\n`);
          if (kept) process.stdout.write(`the folder it replaced is kept at ${kept}; delete it when done\n`);
        }
      } finally {
        lock.release();
      }
    });
}
