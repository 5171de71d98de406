import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.ts';
import type { Database, Queryable } from './database.ts';

/**
 * src/db, found from the package's root: this module runs from src/db (through tsx) or bundled into
 * dist/ (scripts/build.mjs), and the SQL files stay in src either way.
 */
const DB_DIR = join(packageRoot(fileURLToPath(import.meta.url)), 'src', 'db') + sep;
const MIGRATIONS_DIR = `${DB_DIR}migrations${sep}`;
const FUNCTIONS_FILE = `${DB_DIR}functions.sql`;

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
  checksum: string;
}

function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** The numbered plain-SQL files of src/db/migrations, in order: `0001_baseline.sql` is version 1. */
export function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(MIGRATIONS_DIR + file, 'utf8');
      return { version: Number(file.slice(0, 4)), name: file.slice(5, -4), sql, checksum: checksumOf(sql) };
    });
}

/** src/db/functions.sql: the functions request paths call, re-applied whenever its text changes. */
export function functionsFile(): { sql: string; checksum: string } {
  const sql = readFileSync(FUNCTIONS_FILE, 'utf8');
  return { sql, checksum: checksumOf(sql) };
}

/**
 * The ledger. `checksum` is the applied file's sha256; version 0 is functions.sql's row. Databases
 * created before checksums existed have none (see adoptPreReleaseLedger).
 */
const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;
const FUNCTIONS_VERSION = 0;

interface LedgerRow {
  version: number;
  name: string;
  checksum: string | null;
}

async function readLedger(db: Queryable): Promise<LedgerRow[] | null> {
  const [ledger] = await db.query<{ exists: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`,
  );
  if (!ledger?.exists) return null;
  const [hasChecksum] = await db.query<{ exists: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                     WHERE table_name = 'schema_migrations' AND column_name = 'checksum') AS exists`,
  );
  return db.query<LedgerRow>(
    `SELECT version, name, ${hasChecksum?.exists ? 'checksum' : 'NULL AS checksum'}
       FROM schema_migrations WHERE version > 0 ORDER BY version`,
  );
}

/** Versions already applied; empty on a fresh database. */
export async function appliedVersions(db: Database): Promise<number[]> {
  return ((await readLedger(db)) ?? []).map((row) => row.version);
}

export async function pendingMigrations(db: Database): Promise<Migration[]> {
  await verifyMigrations(db);
  const applied = new Set(await appliedVersions(db));
  const pending = listMigrations().filter((migration) => !applied.has(migration.version));
  return (await functionsPending(db)) ? [...pending, functionsMigration()] : pending;
}

function functionsMigration(): Migration {
  const { sql, checksum } = functionsFile();
  return { version: FUNCTIONS_VERSION, name: 'functions', sql, checksum };
}

async function functionsPending(db: Queryable): Promise<boolean> {
  if ((await readLedger(db)) === null) return true;
  const rows = await db.query<{ checksum: string | null }>(
    'SELECT checksum FROM schema_migrations WHERE version = $1',
    [FUNCTIONS_VERSION],
  );
  return rows[0]?.checksum !== functionsFile().checksum;
}

/** The last version of the migrations squashed into 0001_baseline.sql, and that version's file name. */
const PRE_RELEASE_LAST = { version: 18, name: 'record_reads_together' };

/**
 * Refuses a database whose applied migrations no longer match their files: a file edited after it
 * was applied would leave this database without what the edit added. Names the file and what to do.
 */
export async function verifyMigrations(db: Database): Promise<void> {
  const ledger = await readLedger(db);
  if (ledger === null || isPreReleaseLedger(ledger)) return;
  const files = new Map(listMigrations().map((m) => [m.version, m]));
  for (const row of ledger) {
    const file = files.get(row.version);
    const label = `${String(row.version).padStart(4, '0')}_${row.name}.sql`;
    if (!file) {
      throw new AppError(
        'schema_mismatch',
        `the database has migration ${label} applied, which this version does not have: it was made by a newer or different build`,
      );
    }
    if (row.checksum !== null && row.checksum !== file.checksum) {
      throw new AppError(
        'schema_mismatch',
        `migration ${label} was changed after it was applied to this database: restore the file as it was, and put the change in a new migration`,
      );
    }
  }
}

function isPreReleaseLedger(ledger: LedgerRow[]): boolean {
  return ledger.length > 0 && ledger.every((row) => row.checksum === null);
}

/**
 * A database migrated before the squash holds versions 1–18 without checksums. At version 18 its
 * schema is the baseline's, so its ledger is rewritten to say so; at an older version it lacks what
 * the squashed migrations added, and is refused.
 */
async function adoptPreReleaseLedger(tx: Queryable, ledger: LedgerRow[]): Promise<void> {
  const last = ledger[ledger.length - 1]!;
  if (last.version !== PRE_RELEASE_LAST.version || last.name !== PRE_RELEASE_LAST.name) {
    throw new AppError(
      'schema_mismatch',
      `the database was migrated by a pre-release build to version ${last.version} (${last.name}); migrate it to version 18 with a build from before the schema was squashed (commit 3354c34) first, or start from a new database`,
    );
  }
  const baseline = listMigrations()[0]!;
  await tx.exec('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text');
  await tx.query('DELETE FROM schema_migrations WHERE version > $1 AND version <= $2', [
    baseline.version,
    PRE_RELEASE_LAST.version,
  ]);
  await tx.query('UPDATE schema_migrations SET name = $2, checksum = $3 WHERE version = $1', [
    baseline.version,
    baseline.name,
    baseline.checksum,
  ]);
}

/**
 * Applies every pending migration, each in its own transaction that records itself with its checksum,
 * so a failed migration leaves the schema at the previous version; then functions.sql if its text
 * changed. An advisory lock keeps two processes that migrate at once from applying a file twice.
 */
export async function migrate(db: Database): Promise<Migration[]> {
  const applied: Migration[] = [];
  await db.transaction(async (tx) => {
    await lock(tx);
    const ledger = await readLedger(tx);
    if (ledger && isPreReleaseLedger(ledger)) await adoptPreReleaseLedger(tx, ledger);
  });
  await verifyMigrations(db);
  for (const migration of [...listMigrations(), functionsMigration()]) {
    const ran = await db.transaction(async (tx) => {
      await lock(tx);
      await tx.exec(CREATE_LEDGER);
      const done = await tx.query<{ checksum: string | null }>(
        'SELECT checksum FROM schema_migrations WHERE version = $1',
        [migration.version],
      );
      const isFunctions = migration.version === FUNCTIONS_VERSION;
      if (done.length > 0 && (!isFunctions || done[0]!.checksum === migration.checksum)) return false;
      await tx.exec(migration.sql);
      await tx.query(
        `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)
         ON CONFLICT (version) DO UPDATE SET checksum = excluded.checksum, applied_at = now()`,
        [migration.version, migration.name, migration.checksum],
      );
      return true;
    });
    if (ran) applied.push(migration);
  }
  return applied;
}

async function lock(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sync-manager:migrate'))`);
}
