import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openPglite } from '../../src/db/adapters/pglite.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createTestDatabase, TEST_DATABASE_URL } from '../helpers/database.ts';
import { startServe, waitFor } from './serve.ts';

const SCRIPT = join(import.meta.dirname, 'die-after-commit.ts');
const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

interface PreparedDatabase {
  tenantId: string;
  /** How the dying process finds it. */
  env: Record<string, string>;
  /** How the restarted server finds it. */
  config: { databaseUrl?: string; dataDir?: string };
  drop(): Promise<void>;
}

/** A migrated database holding the tenant `acme`, closed again: the dying process opens it next. */
async function prepareDatabase(root: string): Promise<PreparedDatabase> {
  if (TEST_DATABASE_URL) {
    const database = await createTestDatabase();
    const [tenant] = await database.db.query<{ id: string }>(
      "INSERT INTO tenants (slug, name) VALUES ('acme', 'acme') RETURNING id",
    );
    await database.db.close();
    return {
      tenantId: tenant!.id,
      env: { DATABASE_URL: database.url! },
      config: { databaseUrl: database.url! },
      drop: () => database.close().catch(() => {}),
    };
  }
  const dataDir = join(root, 'data');
  mkdirSync(dataDir, { recursive: true });
  const db = await openPglite(join(dataDir, 'pgdata'));
  await migrate(db);
  const [tenant] = await db.query<{ id: string }>(
    "INSERT INTO tenants (slug, name) VALUES ('acme', 'acme') RETURNING id",
  );
  await db.close();
  return {
    tenantId: tenant!.id,
    env: { SYNC_MANAGER_DATA_DIR: dataDir },
    config: { dataDir },
    drop: async () => {},
  };
}

/** Runs die-after-commit.ts to its SIGKILL; fails if it exits any other way. */
async function importAndDie(point: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, point], {
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  assert.equal(signal, 'SIGKILL', `the importer exited with ${code}: ${stderr}`);
}

for (const point of ['after-sync', 'before-finish'] as const) {
  const when =
    point === 'after-sync'
      ? 'after its sync run was marked succeeded'
      : 'after the apply committed, before the run was marked succeeded';
  test(`an importer killed ${when}, before the move: the restarted server moves the file and does not sync it again`, {
    timeout: 120_000,
  }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'sm-commit-'));
    const importDir = join(root, 'import');
    const tenantDir = join(importDir, 'acme');
    mkdirSync(tenantDir, { recursive: true });
    const database = await prepareDatabase(root);
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}` }));
    const path = join(tenantDir, 'products.json');
    writeFileSync(path, JSON.stringify(rows));

    await importAndDie(point, { ...database.env, SYNC_MANAGER_IMPORT_DIR: importDir });
    assert.ok(existsSync(path), 'the dead importer did not move the file');
    assert.deepEqual(list(join(tenantDir, '.processed')), []);

    const serve = await startServe({ ...database.config, importDir });
    try {
      await waitFor(
        'the file in .processed',
        () => list(join(tenantDir, '.processed')).some((f) => f.endsWith('-products.json')),
        60_000,
      );
      assert.ok(!existsSync(path));
      assert.deepEqual(list(join(tenantDir, '.failed')), []);
      const runs = await serve.db.query<{
        id: string;
        status: string;
        claim: string;
        errors: { code: string }[];
      }>(
        `SELECT id, status, errors, origin->>'claim' AS claim FROM sync_runs WHERE tenant_id = $1
          AND origin->>'file' = 'acme/products.json'`,
        [database.tenantId],
      );
      // One run, the dead process's: the restarted server found it applied and only moved the file.
      assert.equal(runs.length, 1, JSON.stringify(runs));
      const [run] = runs;
      // Either way the run applied; recovery marks a run that died before its status was written as
      // succeeded too, with an 'interrupted' note (its counts were never recorded).
      assert.equal(run!.status, 'succeeded', JSON.stringify(run));
      if (point !== 'after-sync') assert.equal(run!.errors[0]?.code, 'interrupted', JSON.stringify(run));
      const [changes] = await serve.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM changes WHERE tenant_id = $1 AND sync_run_id = $2',
        [database.tenantId, run!.id],
      );
      assert.equal(changes!.n, 1, 'the dead process applied the file');
      const [records] = await serve.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM records WHERE tenant_id = $1 AND data IS NOT NULL',
        [database.tenantId],
      );
      assert.equal(records!.n, rows.length);
      // The claim is released right after the move.
      await waitFor('the claim released', async () => {
        const [claims] = await serve.db.query<{ n: number }>('SELECT count(*)::int AS n FROM import_claims');
        return claims!.n === 0;
      });
    } finally {
      await serve.close();
      await database.drop();
      rmSync(root, { recursive: true, force: true });
    }
  });
}
