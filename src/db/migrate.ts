import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.ts';

/**
 * src/db/migrations, found from the package's root: this module runs from src/db (through tsx) or
 * bundled into dist/ (scripts/build.mjs), and the SQL files stay in src either way.
 */
const MIGRATIONS_DIR = join(packageRoot(fileURLToPath(import.meta.url)), 'src', 'db', 'migrations') + sep;

function packageRoot(from: string): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The numbered plain-SQL files of src/db/migrations, in order: `0001_init.sql` is version 1. */
export function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(MIGRATIONS_DIR + file, 'utf8'),
    }));
}

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Versions already applied; empty on a fresh database. */
export async function appliedVersions(db: Database): Promise<number[]> {
  const [ledger] = await db.query<{ exists: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`,
  );
  if (!ledger?.exists) return [];
  const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((row) => row.version);
}

export async function pendingMigrations(db: Database): Promise<Migration[]> {
  const applied = new Set(await appliedVersions(db));
  return listMigrations().filter((migration) => !applied.has(migration.version));
}

/**
 * Applies every pending migration, each in its own transaction that records itself, so a failed
 * migration leaves the schema at the previous version. An advisory lock keeps two processes that
 * migrate at once from applying the same file twice.
 */
export async function migrate(db: Database): Promise<Migration[]> {
  const applied: Migration[] = [];
  for (const migration of listMigrations()) {
    const ran = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sync-manager:migrate'))`);
      await tx.exec(CREATE_LEDGER);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (done.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (ran) applied.push(migration);
  }
  return applied;
}
