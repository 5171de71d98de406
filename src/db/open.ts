import type { Config } from '../config.ts';
import { openPostgres } from './adapters/postgres.ts';
import { createDataDir } from './create-data-dir.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { Database } from './database.ts';

/**
 * Opens the configured store: PostgreSQL when DATABASE_URL is set, otherwise PGlite on disk in the
 * data folder, locked for this process until the database is closed.
 */
export async function openDatabase(config: Config, command: string): Promise<Database> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl);
  const lock = lockDataDir(config.dataDir, command);
  try {
    // Loaded only here: PGlite's module would weigh on a process that talks to PostgreSQL.
    const { openPglite } = await import('./adapters/pglite.ts');
    await createDataDir(`${config.dataDir}/pgdata`);
    const db = await openPglite(`${config.dataDir}/pgdata`);
    return {
      ...db,
      async close() {
        try {
          await db.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
