import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { migrate } from '../../db/migrate.ts';
import { openDatabase } from '../../db/open.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const config = loadConfig();
      const db = await openDatabase(config, 'sync-manager migrate');
      try {
        const applied = await migrate(db);
        const names = applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`);
        process.stdout.write(names.length ? `applied: ${names.join(', ')}\n` : 'schema is up to date\n');
      } finally {
        await db.close();
      }
    });
}
