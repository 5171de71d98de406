import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPglite } from '../../src/db/adapters/pglite.ts';
import { generateKey } from '../../src/features/api-keys/key-format.ts';
import { CLI, runCli } from '../helpers/cli.ts';

/** The real `serve` on an embedded data folder, and `sync-manager backup` run beside it. */
const root = mkdtempSync(join(tmpdir(), 'sm-backup-'));
const dataDir = join(root, 'data');
const adminKey = generateKey('platform');
const env = { SYNC_MANAGER_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' };
let server: ChildProcess;
let url: string;

async function call(method: string, path: string, key: string, body?: unknown) {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function recordIds(folder: string): Promise<Set<string>> {
  const db = await openPglite(join(folder, 'pgdata'));
  try {
    const rows = await db.query<{ record_id: string }>('SELECT record_id FROM records');
    return new Set(rows.map((row) => row.record_id));
  } finally {
    await db.close();
  }
}

before(async () => {
  server = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH, ...env, SYNC_MANAGER_ADMIN_KEY: adminKey },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  server.on('exit', () => (exited = true));
  // server.json appears once the server listens (src/server.ts).
  while (!existsSync(join(dataDir, 'server.json'))) {
    if (exited) throw new Error('serve exited before listening');
    await sleep(50);
  }
  url = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')).url;
});

after(async () => {
  if (server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  rmSync(root, { recursive: true, force: true });
});

test('backup while the server takes writes: the copy opens and holds every acknowledged record', async () => {
  const tenant = await call('POST', '/v1/tenants', adminKey, { slug: 'shop' });
  assert.equal(tenant.status, 201);
  const key = tenant.body.apiKey.key as string;
  assert.equal((await call('PUT', '/v1/collections/items', key, {})).status, 201);

  const acknowledged: string[] = [];
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const response = await call('PUT', `/v1/collections/items/records/r${i}`, key, { name: `item ${i}` });
      assert.ok(response.status === 200 || response.status === 201, JSON.stringify(response.body));
      acknowledged.push(`r${i}`);
    }
  })();
  while (acknowledged.length < 30) await sleep(10);

  const copy = join(root, 'copy');
  const before = acknowledged.length;
  const backup = await runCli(['backup', copy], env);
  const afterBackup = acknowledged.length;
  writing = false;
  await writer;
  assert.equal(backup.code, 0, backup.stderr);
  assert.equal(backup.stdout, `backed up to ${copy}\n`);
  assert.ok(afterBackup > before, 'writes went on while the backup was made');

  const copied = await recordIds(copy);
  for (const id of acknowledged.slice(0, before)) assert.ok(copied.has(id), `${id} is missing from the copy`);
  // What the copy holds beyond those is a prefix of the writes that went on meanwhile, nothing torn.
  const extra = [...copied].filter((id) => !acknowledged.slice(0, before).includes(id));
  assert.deepEqual(extra.sort(), acknowledged.slice(before, before + extra.length).sort());
  assert.deepEqual(readdirSync(copy), ['pgdata'], 'only the database: no lock, no server.json');

  // A second backup into the same folder is refused: it is not empty.
  const again = await runCli(['backup', copy], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not empty \[unprocessable\]/);

  // restore-backup refuses while the server holds the folder...
  const busy = await runCli(['restore-backup', copy], env);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /serve/);

  // ...and once it stopped, puts the copy in place and keeps what it replaced.
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  const restored = await runCli(['restore-backup', copy, '--json'], env);
  assert.equal(restored.code, 0, restored.stderr);
  const result = JSON.parse(restored.stdout) as { previous: string };
  assert.ok(existsSync(join(result.previous, 'PG_VERSION')));
  assert.deepEqual(await recordIds(dataDir), copied);
});
