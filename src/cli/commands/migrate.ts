import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { migrate } from '../../db/migrate.ts';
import { openDatabase } from '../../db/open.ts';
import { printJson } from '../output.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations')
    .option('--json', 'print the applied migrations as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const db = await openDatabase(config, 'sync-manager migrate');
      try {
        const applied = await migrate(db);
        const names = applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`);
        if (options.json) return printJson({ applied: names });
        process.stdout.write(names.length ? `applied: ${names.join(', ')}\n` : 'schema is up to date\n');
      } finally {
        await db.close();
      }
    });
}
