import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openPglite } from '../../src/db/adapters/pglite.ts';
import type { Database } from '../../src/db/database.ts';
import { functionsFile, listMigrations, migrate, pendingMigrations } from '../../src/db/migrate.ts';
import { AppError } from '../../src/errors.ts';
import { runCli } from '../helpers/cli.ts';
import { BACKEND, createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { describeSchema } from '../helpers/schema-dump.ts';

// The schema every fresh database gets, committed. After a schema change, regenerate it with
// `npm run schema:dump` and read the diff.
const DUMP = fileURLToPath(new URL('./schema.txt', import.meta.url));

let database: TestDatabase;
let db: Database;
before(async () => {
  database = await createTestDatabase();
  db = database.db;
});
after(() => database.close());

test('a fresh database has the committed schema', async () => {
  const schema = await describeSchema(db);
  if (process.env.UPDATE_SCHEMA_DUMP === '1') writeFileSync(DUMP, schema);
  assert.equal(schema, readFileSync(DUMP, 'utf8'), 'the schema differs from test/db/schema.txt');
});

test('every applied migration is recorded with its checksum, functions.sql too', async () => {
  const rows = await db.query<{ version: number; checksum: string | null }>(
    'SELECT version, checksum FROM schema_migrations ORDER BY version',
  );
  assert.deepEqual(
    rows.filter((row) => row.version > 0).map((row) => row.version),
    listMigrations().map((m) => m.version),
  );
  for (const row of rows) assert.match(row.checksum ?? '', /^[0-9a-f]{64}$/);
  assert.equal(rows[0]!.version, 0);
  assert.deepEqual(await pendingMigrations(db), []);
});

test('a migration whose file changed after it was applied is refused, naming the file', async () => {
  const baseline = listMigrations()[0]!;
  await db.query('UPDATE schema_migrations SET checksum = $2 WHERE version = $1', [
    baseline.version,
    'f'.repeat(64),
  ]);
  try {
    for (const attempt of [() => migrate(db), () => pendingMigrations(db)]) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, 'schema_mismatch');
        assert.match(error.message, /0001_baseline\.sql was changed after it was applied/);
        return true;
      });
    }
  } finally {
    await db.query('UPDATE schema_migrations SET checksum = $2 WHERE version = $1', [
      baseline.version,
      baseline.checksum,
    ]);
  }
});

test('functions.sql is applied again when its text changes', async () => {
  await db.exec('DROP FUNCTION read_effectives_as_tenant(uuid, jsonb)');
  await db.query(`UPDATE schema_migrations SET checksum = 'an older text' WHERE version = 0`);
  const applied = await migrate(db);
  assert.deepEqual(
    applied.map((m) => m.name),
    ['functions'],
  );
  const [found] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'read_effectives_as_tenant'`,
  );
  assert.equal(found!.n, 1);
});

/** Rewrites the ledger as a build from before the squash left it: versions 1 and 4–N, no checksums. */
async function preReleaseLedger(target: Database, lastVersion: number): Promise<void> {
  await target.exec(`DELETE FROM schema_migrations; ALTER TABLE schema_migrations DROP COLUMN checksum`);
  const names: Record<number, string> = { 1: 'init', 15: 'edit_reads_together', 18: 'record_reads_together' };
  for (const version of [1, ...Array.from({ length: lastVersion - 3 }, (_, i) => i + 4)]) {
    await target.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
      version,
      names[version] ?? `step_${version}`,
    ]);
  }
}

test('a database migrated before the squash, at its last version, is adopted as the baseline', async () => {
  // What such a database holds: the baseline's schema and functions, and the old ledger.
  const old = await createTestDatabase({ migrated: false });
  try {
    await old.db.exec(listMigrations()[0]!.sql);
    await old.db.exec(functionsFile().sql);
    await old.db.exec(
      'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), checksum text)',
    );
    await preReleaseLedger(old.db, 18);
    await migrate(old.db);
    const rows = await old.db.query<{ version: number; name: string }>(
      'SELECT version, name FROM schema_migrations WHERE version > 0 ORDER BY version',
    );
    assert.deepEqual(
      rows.map((row) => row.version),
      listMigrations().map((m) => m.version),
    );
    assert.equal(rows[0]!.name, 'baseline');
    assert.equal(await describeSchema(old.db), await describeSchema(db));
  } finally {
    await old.close();
  }
});

test('a database migrated before the squash to an older version is refused with what to do', async () => {
  const old = await createTestDatabase();
  try {
    await preReleaseLedger(old.db, 15);
    await assert.rejects(
      () => migrate(old.db),
      /pre-release build to version 15 \(edit_reads_together\).*commit 3354c34/,
    );
  } finally {
    await old.close();
  }
});

test('serve refuses to start on a data folder whose applied migration changed', {
  skip: BACKEND !== 'pglite',
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sm-schema-'));
  try {
    const env = { SYNC_MANAGER_DATA_DIR: dataDir, LOG_LEVEL: 'silent', PORT: '0' };
    assert.equal((await runCli(['init'], env)).code, 0);
    const folder = await openPglite(join(dataDir, 'pgdata'));
    await folder.query(`UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1`);
    await folder.close();
    const serve = await runCli(['serve'], env);
    assert.equal(serve.code, 1, serve.stderr);
    assert.match(serve.stderr, /^sync-manager: .*0001_baseline\.sql was changed after it was applied/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
