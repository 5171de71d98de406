import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openPglite } from '../../src/db/adapters/pglite.ts';
import { openPostgres } from '../../src/db/adapters/postgres.ts';
import type { Database } from '../../src/db/database.ts';
import { CLI, runCli } from '../helpers/cli.ts';
import { BACKEND, createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The real CLI, killed with SIGKILL while it streams a feed inside the apply transaction.
let folder: string;
let database: TestDatabase | undefined;
let env: Record<string, string>;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'sm-kill-'));
  if (BACKEND === 'postgres') {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.url! };
  } else {
    env = { SYNC_MANAGER_DATA_DIR: join(folder, 'data') };
    const init = await runCli(['init'], env);
    assert.equal(init.code, 0, init.stderr);
  }
  env.LOG_LEVEL = 'silent';
});
after(async () => {
  await database?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function inspect<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  if (database) {
    const db = openPostgres(database.url!);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }
  const db = await openPglite(join(env.SYNC_MANAGER_DATA_DIR!, 'pgdata'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const line = (id: string, tag: string) => `${JSON.stringify({ id, tag, pad: 'x'.repeat(150) })}\n`;

test('a sync killed with SIGKILL mid-apply leaves the collection untouched; the next sync succeeds', async () => {
  for (const args of [
    ['tenants', 'create', 'acme'],
    ['collections', 'put', 'items', '--tenant', 'acme'],
  ]) {
    const result = await runCli(args, env);
    assert.equal(result.code, 0, result.stderr);
  }
  const v1 = join(folder, 'v1.ndjson');
  writeFileSync(v1, Array.from({ length: 2000 }, (_, i) => line(`k${i}`, 'v1')).join(''));
  const first = await runCli(['sync', 'items', v1, '--tenant', 'acme', '--json'], env);
  assert.equal(first.code, 0, first.stderr);
  const snapshot = () =>
    inspect((db) =>
      db.query<{ record_id: string; data: unknown; version: number }>(
        'SELECT record_id, effective_value(data, source) AS data, version FROM records ORDER BY record_id',
      ),
    );
  const before = await snapshot();
  assert.equal(before.length, 2000);

  const child = spawn(
    process.execPath,
    [CLI, 'sync', 'items', '-', '--tenant', 'acme', '--format', 'ndjson'],
    {
      env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  child.stdin.on('error', () => {});
  // Feed the CLI until it has consumed several MB: it is then streaming into COPY inside the apply
  // transaction. Then kill it.
  let written = 0;
  let i = 0;
  while (written < 6_000_000) {
    let chunk = '';
    for (let n = 0; n < 1000; n++, i++) chunk += line(`k${i}`, 'v2');
    written += chunk.length;
    if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  assert.deepEqual(await snapshot(), before, 'the killed sync changed nothing');
  const runs = await inspect((db) =>
    db.query<{ id: string; status: string }>('SELECT id, status FROM sync_runs ORDER BY started_at'),
  );
  assert.equal(runs.length, 2);
  assert.equal(runs[1]!.status, 'running', 'the killed run was left running');

  const v3 = join(folder, 'v3.ndjson');
  writeFileSync(v3, Array.from({ length: 2000 }, (_, i) => line(`k${i}`, 'v3')).join(''));
  const next = await runCli(['sync', 'items', v3, '--tenant', 'acme', '--json'], env);
  assert.equal(next.code, 0, next.stderr);
  assert.equal(JSON.parse(next.stdout).counts.updated, 2000);
  const after = await inspect((db) =>
    db.query<{ id: string; status: string; errors: { code: string }[] }>(
      'SELECT id, status, errors FROM sync_runs ORDER BY started_at',
    ),
  );
  assert.deepEqual(
    after.map((run) => run.status),
    ['succeeded', 'failed', 'succeeded'],
  );
  assert.equal(after[1]!.errors[0]!.code, 'interrupted');
});
