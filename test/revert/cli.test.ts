import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openPglite } from '../../src/db/adapters/pglite.ts';
import { openPostgres } from '../../src/db/adapters/postgres.ts';
import type { Database } from '../../src/db/database.ts';
import { CLI, runCli } from '../helpers/cli.ts';
import { BACKEND, createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The real executable: `syncs revert` with --dry-run and --json, and a revert killed with SIGKILL.
let folder: string;
let database: TestDatabase | undefined;
let env: Record<string, string>;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'sm-revert-'));
  if (BACKEND === 'postgres') {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.url! };
  } else {
    env = { SYNC_MANAGER_DATA_DIR: join(folder, 'data') };
    const init = await runCli(['init'], env);
    assert.equal(init.code, 0, init.stderr);
  }
  env.LOG_LEVEL = 'silent';
  for (const args of [
    ['tenants', 'create', 'acme'],
    ['collections', 'put', 'items', '--tenant', 'acme'],
  ]) {
    const result = await runCli(args, env);
    assert.equal(result.code, 0, result.stderr);
  }
});
after(async () => {
  await database?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function inspect<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const db = database
    ? openPostgres(database.url!)
    : await openPglite(join(env.SYNC_MANAGER_DATA_DIR!, 'pgdata'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const state = () =>
  inspect((db) =>
    db.query<{ record_id: string; data: unknown; version: number }>(
      'SELECT record_id, effective_value(data, source) AS data, version FROM records ORDER BY record_id',
    ),
  );

async function syncFile(name: string, price: number, count: number): Promise<string> {
  const file = join(folder, name);
  writeFileSync(
    file,
    Array.from({ length: count }, (_, i) => `${JSON.stringify({ id: `k${i}`, price })}\n`).join(''),
  );
  const result = await runCli(['sync', 'items', file, '--tenant', 'acme', '--json'], env);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).id as string;
}

test('syncs revert: --dry-run reports, --json prints the result, a table otherwise; bad ids exit 1', async () => {
  await syncFile('v1.ndjson', 1, 50);
  const run = await syncFile('v2.ndjson', 2, 50);
  const edited = await runCli(['records', 'patch', 'items', 'k7', '{"price":9}', '--tenant', 'acme'], env);
  assert.equal(edited.code, 0, edited.stderr);

  const dry = await runCli(['syncs', 'revert', run, '--tenant', 'acme', '--dry-run', '--json'], env);
  assert.equal(dry.code, 0, dry.stderr);
  const planned = JSON.parse(dry.stdout);
  assert.equal(planned.dryRun, true);
  assert.equal(planned.counts.reverted, 49);
  assert.deepEqual(
    planned.kept.map((k: { recordId: string; path: string }) => `${k.recordId}${k.path}`),
    ['k7/price'],
  );

  const table = await runCli(['syncs', 'revert', run, '--tenant', 'acme'], env);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /reverted\s+49/);
  assert.match(table.stdout, /k7\s+\/price\s+manual/);
  const rows = await state();
  assert.equal(rows.filter((row) => (row.data as { price: number }).price === 1).length, 49);

  const missing = await runCli(
    ['syncs', 'revert', '00000000-0000-4000-8000-000000000000', '--tenant', 'acme'],
    env,
  );
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
});

test('a revert killed with SIGKILL applies all or nothing', async () => {
  await syncFile('w1.ndjson', 10, 3000);
  const run = await syncFile('w2.ndjson', 20, 3000);
  const before = await state();
  const holder = database ? openPostgres(database.url!) : null;
  let release: (() => void) | null = null;
  let held: Promise<unknown> | null = null;
  if (holder) {
    // PostgreSQL: lock the collection's row. The revert's last statement, the insert of its run
    // row, checks its foreign key to that row and waits, with every record already written.
    held = holder.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM collections WHERE name = 'items' FOR UPDATE`);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
  }
  const child = spawn(process.execPath, [CLI, 'syncs', 'revert', run, '--tenant', 'acme'], {
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  if (holder) {
    // Until the revert waits for the lock (a condition polled, not a time waited).
    for (;;) {
      const [waiting] = await holder.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO sync_runs%'`,
      );
      if (waiting!.n > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  } else {
    // PGlite: the process holds the data folder from here on; killed somewhere in its work.
    while (!existsSync(join(env.SYNC_MANAGER_DATA_DIR!, '.lock'))) await new Promise((r) => setImmediate(r));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  (release as (() => void) | null)?.();
  await held;
  await holder?.close();

  // k7 keeps its manual price from the test before: the run changed 2,999 effective values.
  const changedByRun = before.filter((row) => (row.data as { price: number }).price === 20).length;
  assert.equal(changedByRun, 2999);
  const afterKill = await state();
  const stillChanged = afterKill.filter((row) => (row.data as { price: number }).price === 20).length;
  if (holder) assert.deepEqual(afterKill, before, 'the killed revert changed nothing');
  else assert.ok(stillChanged === 0 || stillChanged === 2999, `all or nothing, not ${stillChanged}`);
  if (stillChanged > 0) {
    const again = await runCli(['syncs', 'revert', run, '--tenant', 'acme', '--json'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).counts.reverted, 2999);
  }
});

test('a held sync exits 1 naming the run; syncs approve applies it, syncs reject discards one', async () => {
  for (const args of [['collections', 'put', 'guarded', '--tenant', 'acme']]) {
    const result = await runCli(args, env);
    assert.equal(result.code, 0, result.stderr);
  }
  const write = (name: string, ids: number[]) => {
    const file = join(folder, name);
    writeFileSync(file, ids.map((id) => `${JSON.stringify({ id, v: name })}\n`).join(''));
    return file;
  };
  const syncOf = (file: string) => runCli(['sync', 'guarded', file, '--tenant', 'acme'], env);
  assert.equal((await syncOf(write('g1.ndjson', [1, 2, 3, 4]))).code, 0);
  const held = await syncOf(write('g2.ndjson', [1]));
  assert.equal(held.code, 1);
  assert.equal(held.stderr.trim().split('\n').length, 1, held.stderr);
  assert.match(held.stderr, /held/);
  const heldId = /\/v1\/syncs\/([0-9a-f-]{36})\/approve/.exec(held.stderr)![1]!;

  const approved = await runCli(['syncs', 'approve', heldId, '--tenant', 'acme', '--json'], env);
  assert.equal(approved.code, 0, approved.stderr);
  assert.equal(JSON.parse(approved.stdout).status, 'succeeded');
  assert.equal(JSON.parse(approved.stdout).counts.deleted, 3);

  const again = await syncOf(write('g3.ndjson', [5, 6, 7, 8]));
  assert.equal(again.code, 1);
  const secondId = /\/v1\/syncs\/([0-9a-f-]{36})\/approve/.exec(again.stderr)![1]!;
  const rejected = await runCli(['syncs', 'reject', secondId, '--tenant', 'acme'], env);
  assert.equal(rejected.code, 0, rejected.stderr);
  assert.match(rejected.stdout, /rejected/);
  const list = await runCli(['syncs', 'list', 'guarded', '--tenant', 'acme', '--json'], env);
  assert.deepEqual(
    JSON.parse(list.stdout).map((run: { status: string }) => run.status),
    ['rejected', 'succeeded', 'succeeded'],
  );
  const rejectedOnly = await runCli(
    ['syncs', 'list', 'guarded', '--status', 'rejected', '--tenant', 'acme', '--json'],
    env,
  );
  assert.deepEqual(
    JSON.parse(rejectedOnly.stdout).map((run: { id: string }) => run.id),
    [secondId],
  );
});

test('an approval killed with SIGKILL applies all or nothing; the run stays held until approved', async () => {
  const result = await runCli(['collections', 'put', 'killed', '--tenant', 'acme'], env);
  assert.equal(result.code, 0, result.stderr);
  const write = (name: string, count: number) => {
    const file = join(folder, name);
    writeFileSync(
      file,
      Array.from({ length: count }, (_, i) => `${JSON.stringify({ id: i, v: name })}\n`).join(''),
    );
    return file;
  };
  assert.equal((await runCli(['sync', 'killed', write('h1.ndjson', 3000), '--tenant', 'acme'], env)).code, 0);
  const held = await runCli(['sync', 'killed', write('h2.ndjson', 1000), '--tenant', 'acme'], env);
  assert.equal(held.code, 1, held.stderr);
  const heldId = /\/v1\/syncs\/([0-9a-f-]{36})\/approve/.exec(held.stderr)![1]!;
  const live = () =>
    inspect((db) =>
      db.query<{ record_id: string; data: unknown; version: number }>(
        `SELECT r.record_id, effective_value(r.data, r.source) AS data, r.version FROM records r
         JOIN collections c ON c.id = r.collection_id WHERE c.name = 'killed' ORDER BY r.record_id`,
      ),
    );
  const before = await live();

  const holder = database ? openPostgres(database.url!) : null;
  let release: (() => void) | null = null;
  let locked: Promise<unknown> | null = null;
  if (holder) {
    // The approval deletes the held rows after it has written every record: locking them stops it there.
    let ready!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      ready = resolve;
    });
    locked = holder.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM held_run_rows WHERE sync_run_id = $1 FOR UPDATE', [heldId]);
      ready();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await isLocked;
  }
  const child = spawn(process.execPath, [CLI, 'syncs', 'approve', heldId, '--tenant', 'acme'], {
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  if (holder) {
    for (;;) {
      const [waiting] = await holder.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM held_run_rows%'`,
      );
      if (waiting!.n > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  } else {
    while (!existsSync(join(env.SYNC_MANAGER_DATA_DIR!, '.lock'))) await new Promise((r) => setImmediate(r));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  (release as (() => void) | null)?.();
  await locked;
  await holder?.close();

  const after = await live();
  const [run] = await inspect((db) =>
    db.query<{ status: string }>('SELECT status FROM sync_runs WHERE id = $1', [heldId]),
  );
  if (holder || run!.status === 'held') {
    assert.deepEqual(after, before, 'the killed approval changed nothing');
    assert.equal(run!.status, 'held');
    const approved = await runCli(['syncs', 'approve', heldId, '--tenant', 'acme', '--json'], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(JSON.parse(approved.stdout).counts.deleted, 2000);
  } else {
    assert.equal(run!.status, 'succeeded');
    assert.equal(after.filter((row) => row.data !== null).length, 1000);
  }
});
