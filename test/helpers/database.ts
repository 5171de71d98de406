import { createHash, randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openPglite } from '../../src/db/adapters/pglite.ts';
import { openPostgres } from '../../src/db/adapters/postgres.ts';
import type { Database } from '../../src/db/database.ts';
import { functionsFile, listMigrations, migrate } from '../../src/db/migrate.ts';

/** The suite runs on PGlite by default, on PostgreSQL when TEST_DATABASE_URL is set. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const BACKEND = TEST_DATABASE_URL ? 'postgres' : 'pglite';

export interface TestDatabase {
  db: Database;
  /** The PostgreSQL URL of this database (undefined on PGlite). */
  url: string | undefined;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file. On PostgreSQL the migrations run once into a template
 * named after their content, and each test database is a CREATE DATABASE … TEMPLATE copy of it; on
 * PGlite each call is a new in-memory instance. `migrated: false` gives an empty database instead.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  if (!TEST_DATABASE_URL) {
    const db = await openPglite(undefined);
    if (migrated) await migrate(db);
    return { db, url: undefined, close: () => db.close() };
  }
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const template = migrated ? await ensureTemplate(admin) : 'template1';
    const name = `sm_test_${randomBytes(6).toString('hex')}`;
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    const url = withDatabase(TEST_DATABASE_URL, name);
    const db = openPostgres(url);
    return {
      db,
      url,
      async close() {
        await db.close();
        const cleanup = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
        await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await cleanup.end();
      },
    };
  } finally {
    await admin.end();
  }
}

async function ensureTemplate(admin: postgres.Sql): Promise<string> {
  const digest = createHash('sha1');
  for (const migration of listMigrations()) digest.update(migration.sql);
  digest.update(functionsFile().sql);
  const name = `sm_template_${digest.digest('hex').slice(0, 12)}`;
  await admin.unsafe(`SELECT pg_advisory_lock(hashtext('sync-manager-test-template'))`);
  try {
    const exists = await admin.unsafe('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.length === 0) {
      const building = `${name}_building`;
      await admin.unsafe(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await admin.unsafe(`CREATE DATABASE ${building}`);
      const db = openPostgres(withDatabase(TEST_DATABASE_URL!, building));
      try {
        await migrate(db);
      } finally {
        await db.close();
      }
      await admin.unsafe(`ALTER DATABASE ${building} RENAME TO ${name}`);
    }
  } finally {
    await admin.unsafe(`SELECT pg_advisory_unlock(hashtext('sync-manager-test-template'))`);
  }
  return name;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A tenant `slug` with one empty collection, made in SQL (no API key, no service). */
export async function addTenantWithCollection(
  db: Database,
  slug: string,
  collection = 'items',
): Promise<{ tenantId: string; collectionId: string }> {
  const [tenant] = await db.query<{ id: string }>(
    `INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id`,
    [slug],
  );
  const [made] = await db.query<{ id: string }>(
    `INSERT INTO collections (tenant_id, name) VALUES ($1, $2) RETURNING id`,
    [tenant!.id, collection],
  );
  return { tenantId: tenant!.id, collectionId: made!.id };
}
