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

// The real CLI, syncing one source of a collection fed by two, killed with SIGKILL mid-apply.
let folder: string;
let database: TestDatabase | undefined;
let env: Record<string, string>;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'sm-source-kill-'));
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

const erpLine = (id: string, tag: string) =>
  `${JSON.stringify({ id, name: `${id} ${tag}`, pad: 'x'.repeat(150) })}\n`;
const stockLine = (id: string, stock: number) => `${JSON.stringify({ id, stock, pad: 'y'.repeat(150) })}\n`;

async function cli(args: string[]) {
  const result = await runCli(args, env);
  assert.equal(result.code, 0, result.stderr);
  return result;
}

test("a source's sync killed mid-apply leaves every field untouched; the other source syncs on", async () => {
  await cli(['tenants', 'create', 'acme']);
  await cli(['collections', 'put', 'items', '--tenant', 'acme']);
  await cli([
    'sources',
    'define',
    'items',
    'erp',
    '--tenant',
    'acme',
    '--field',
    '/name',
    '--field',
    '/pad',
    '--priority',
    '2',
  ]);
  await cli(['sources', 'define', 'items', 'supplier', '--tenant', 'acme', '--field', '/stock']);
  const shown = await cli(['sources', 'show', 'items', '--tenant', 'acme', '--json']);
  assert.deepEqual(
    JSON.parse(shown.stdout).map((s: { name: string }) => s.name),
    ['default', 'erp', 'supplier'],
  );
  const erp = join(folder, 'erp.ndjson');
  writeFileSync(erp, Array.from({ length: 2000 }, (_, i) => erpLine(`k${i}`, 'v1')).join(''));
  await cli(['sync', 'items', erp, '--tenant', 'acme', '--source', 'erp', '--json']);
  const stock = join(folder, 'stock.ndjson');
  writeFileSync(stock, Array.from({ length: 2000 }, (_, i) => stockLine(`k${i}`, 1)).join(''));
  const supplied = await cli(['sync', 'items', stock, '--tenant', 'acme', '--source', 'supplier', '--json']);
  const run = JSON.parse(supplied.stdout);
  assert.deepEqual([run.source, run.counts.updated, run.counts.ignoredFields], ['supplier', 2000, 2000]);

  const state = () =>
    inspect((db) =>
      db.query<{ record_id: string; data: unknown; version: number }>(
        'SELECT record_id, effective_value(data, source) AS data, source_parts, version FROM records ORDER BY record_id',
      ),
    );
  const before = await state();
  assert.equal(before.length, 2000);
  assert.deepEqual(before[0]!.data, { id: 'k0', name: 'k0 v1', pad: 'x'.repeat(150), stock: 1 });

  const child = spawn(
    process.execPath,
    [CLI, 'sync', 'items', '-', '--tenant', 'acme', '--format', 'ndjson', '--source', 'supplier'],
    { env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  child.stdin.on('error', () => {});
  let written = 0;
  let i = 0;
  while (written < 6_000_000) {
    let chunk = '';
    for (let n = 0; n < 1000; n++, i++) chunk += stockLine(`k${i % 2000}-${Math.floor(i / 2000)}`, 2);
    written += chunk.length;
    if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  assert.deepEqual(await state(), before, 'the killed sync changed nothing');

  writeFileSync(erp, Array.from({ length: 2000 }, (_, i) => erpLine(`k${i}`, 'v3')).join(''));
  const next = await cli(['sync', 'items', erp, '--tenant', 'acme', '--source', 'erp', '--json']);
  assert.equal(JSON.parse(next.stdout).counts.updated, 2000);
  const after = await state();
  assert.deepEqual(after[0]!.data, { id: 'k0', name: 'k0 v3', pad: 'x'.repeat(150), stock: 1 });
});
