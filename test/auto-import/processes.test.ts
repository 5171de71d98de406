import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openPglite } from '../../src/db/adapters/pglite.ts';
import { openPostgres } from '../../src/db/adapters/postgres.ts';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { CLI } from '../helpers/cli.ts';
import { createTestDatabase, TEST_DATABASE_URL } from '../helpers/database.ts';
import { waitFor } from './serve.ts';

interface ServeProcess {
  child: ChildProcess;
  lines: { msg?: string; [key: string]: unknown }[];
  exited: Promise<number | null>;
}

/** The real executable, `sync-manager serve`, with short poll intervals. */
function spawnServe(env: Record<string, string>): ServeProcess {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      LOG_LEVEL: 'info',
      SYNC_MANAGER_IMPORT_POLL_MS: '50',
      SYNC_MANAGER_IMPORT_STABLE_MS: '200',
      SYNC_MANAGER_IMPORT_LEASE_MS: '1500',
      ...env,
    } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: ServeProcess['lines'] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      try {
        lines.push(JSON.parse(buffer.slice(0, newline)));
      } catch {
        lines.push({ msg: buffer.slice(0, newline) });
      }
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
  child.stderr!.on('data', (chunk) => process.stderr.write(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

const logged = (server: ServeProcess, msg: string) => server.lines.some((line) => line.msg === msg);

async function stop(server: ServeProcess) {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
  await server.exited;
}

async function insertTenant(db: Database, slug: string): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    'INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id',
    [slug],
  );
  return row!.id;
}

const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

test('two serve processes on one PostgreSQL import each of 20 dropped files exactly once', {
  skip: TEST_DATABASE_URL
    ? false
    : 'needs PostgreSQL: set TEST_DATABASE_URL (PGlite serves one process per data folder)',
  timeout: 120_000,
}, async () => {
  const database = await createTestDatabase();
  const root = mkdtempSync(join(tmpdir(), 'sm-two-'));
  const importDir = join(root, 'import');
  mkdirSync(join(importDir, 'acme'), { recursive: true });
  const tenantId = await insertTenant(database.db, 'acme');
  const env = { DATABASE_URL: database.url!, SYNC_MANAGER_IMPORT_DIR: importDir };
  const servers = [spawnServe(env), spawnServe(env)];
  try {
    for (const server of servers)
      await waitFor('serve to listen', () => logged(server, 'sync-manager is listening'), 30_000);
    for (let i = 0; i < 20; i++) {
      const rows = Array.from({ length: 200 }, (_, j) => ({ id: j, file: i }));
      writeFileSync(join(importDir, 'acme', `c${String(i).padStart(2, '0')}.json`), JSON.stringify(rows));
    }
    const processed = join(importDir, 'acme', '.processed');
    await waitFor('20 files in .processed', () => list(processed).length === 20, 60_000);
    assert.deepEqual(list(join(importDir, 'acme', '.failed')), []);
    const runs = await database.db.query<{ file: string; status: string; n: number }>(
      `SELECT origin->>'file' AS file, status, count(*)::int AS n FROM sync_runs WHERE tenant_id = $1
          GROUP BY 1, 2 ORDER BY 1`,
      [tenantId],
    );
    assert.equal(runs.length, 20, JSON.stringify(runs));
    for (const run of runs) {
      assert.equal(run.status, 'succeeded', JSON.stringify(run));
      assert.equal(run.n, 1, `${run.file} was synced ${run.n} times`);
    }
    const imported = servers.map(
      (server) => server.lines.filter((l) => l.msg === 'auto-import: importing').length,
    );
    assert.equal(imported[0]! + imported[1]!, 20, `imports per process: ${imported}`);
    const [claims] = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM import_claims');
    assert.equal(claims!.n, 0, 'every claim was released');
  } finally {
    await Promise.all(servers.map(stop));
    await database.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a server killed mid-import loses no file: started again, it imports the file once', {
  timeout: 120_000,
}, async () => {
  const root = mkdtempSync(join(tmpdir(), 'sm-kill-'));
  const importDir = join(root, 'import');
  const dataDir = join(root, 'data');
  mkdirSync(join(importDir, 'acme'), { recursive: true });
  let env: Record<string, string>;
  let open: () => Promise<Database>;
  let dropDatabase = async () => {};
  if (TEST_DATABASE_URL) {
    const database = await createTestDatabase();
    await database.db.close();
    env = { DATABASE_URL: database.url!, SYNC_MANAGER_IMPORT_DIR: importDir };
    open = async () => openPostgres(database.url!);
    dropDatabase = () => database.close().catch(() => {});
  } else {
    env = { SYNC_MANAGER_DATA_DIR: dataDir, SYNC_MANAGER_IMPORT_DIR: importDir };
    open = async () => {
      mkdirSync(dataDir, { recursive: true });
      const db = await openPglite(join(dataDir, 'pgdata'));
      await migrate(db);
      return db;
    };
  }
  let db = await open();
  const tenantId = await insertTenant(db, 'acme');
  await db.close();
  const count = 100_000;
  const path = join(importDir, 'acme', 'big.ndjson');
  writeFileSync(
    path,
    Array.from({ length: count }, (_, i) =>
      JSON.stringify({ id: i, name: `item ${i}`, price: i / 100 }),
    ).join('\n'),
  );
  const first = spawnServe(env);
  try {
    await waitFor('the import to start', () => logged(first, 'auto-import: importing'), 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(existsSync(path), 'the file is still in place after the crash');
    assert.deepEqual(list(join(importDir, 'acme', '.processed')), []);
  } finally {
    await stop(first);
  }
  const second = spawnServe(env);
  try {
    await waitFor(
      'the file in .processed',
      () => list(join(importDir, 'acme', '.processed')).length === 1,
      90_000,
    );
    assert.ok(!existsSync(path));
  } finally {
    await stop(second);
  }
  db = await open();
  try {
    const runs = await db.query<{ status: string }>(
      "SELECT status FROM sync_runs WHERE tenant_id = $1 AND origin->>'file' = 'acme/big.ndjson' ORDER BY started_at",
      [tenantId],
    );
    assert.equal(runs.filter((run) => run.status === 'succeeded').length, 1, JSON.stringify(runs));
    assert.ok(
      runs.every((run) => run.status !== 'running'),
      JSON.stringify(runs),
    );
    const [records] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM records WHERE tenant_id = $1 AND data IS NOT NULL',
      [tenantId],
    );
    assert.equal(records!.n, count);
  } finally {
    await db.close();
    await dropDatabase();
    rmSync(root, { recursive: true, force: true });
  }
});
