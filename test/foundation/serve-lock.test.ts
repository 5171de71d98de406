import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateKey } from '../../src/features/api-keys/key-format.ts';
import { CLI, runCli } from '../helpers/cli.ts';
import { createTestDatabase, TEST_DATABASE_URL } from '../helpers/database.ts';
import { freePort } from './fixtures.ts';

/** One process per embedded data folder: `serve` holds it, the CLI goes through it, a dead holder is replaced. */
const dataDir = mkdtempSync(join(tmpdir(), 'sm-serve-'));
const adminKey = generateKey('platform');
const env = { SYNC_MANAGER_DATA_DIR: dataDir, SYNC_MANAGER_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' };
const children: ChildProcess[] = [];

after(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/**
 * Starts `serve` on a port of its choosing and waits for the event, not the clock: its "Server listening
 * at" log line (PORT=0, so the URL comes from the line), then one /health answer, which also means the
 * lines after listen (server.json on the embedded database) have run.
 */
async function serve(serveEnv: Record<string, string> = env): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH, ...serveEnv, LOG_LEVEL: 'info', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (listening) resolve(listening[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200, await health.text());
  return { child, url, exited };
}

async function tenantSlugs(url: string): Promise<string[]> {
  const response = await fetch(`${url}/v1/tenants`, { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as { items: { slug: string }[] };
  return body.items.map((t) => t.slug);
}

test('serve holds the folder; SYNC_MANAGER_ADMIN_KEY works; the CLI goes through it; a killed holder is replaced', async () => {
  const first = await serve();
  assert.deepEqual(await tenantSlugs(first.url), []);

  // A second server on the same folder stops (rather than wait for the folder), saying why.
  const second = await runCli(['serve'], { ...env, PORT: String(await freePort()) });
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, /data folder .* is in use by process \d+/);
  assert.equal(second.stderr.trimEnd().split('\n').length, 1, second.stderr);

  // So does a command that opens the database itself.
  const init = await runCli(['init'], env);
  assert.equal(init.code, 1);
  assert.match(init.stderr, /in use by process/);

  // A CLI command goes through the running server: the tenant is visible through its HTTP API.
  const created = await runCli(['tenants', 'create', 'via-server', '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  const key = JSON.parse(created.stdout).apiKey.key as string;
  assert.deepEqual(await tenantSlugs(first.url), ['via-server']);
  const put = await runCli(['collections', 'put', 'products', '--tenant', 'via-server'], env);
  assert.equal(put.code, 0, put.stderr);
  const seen = await fetch(`${first.url}/v1/collections/products`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(seen.status, 200);

  // SIGKILL leaves the lock behind; the next server takes it over and finds the data.
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(existsSync(join(dataDir, '.lock')), 'the killed server left its lock');
  const third = await serve();
  assert.deepEqual(await tenantSlugs(third.url), ['via-server']);

  // And a clean stop releases the folder.
  third.child.kill('SIGTERM');
  assert.equal(await third.exited, 0);
  assert.ok(!existsSync(join(dataDir, '.lock')), 'the lock is released on shutdown');
  assert.ok(!existsSync(join(dataDir, 'server.json')), 'server.json is removed on shutdown');
  const offline = await runCli(['tenants', 'list', '--json'], env);
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(
    JSON.parse(offline.stdout).map((t: { slug: string }) => t.slug),
    ['via-server'],
  );
});

test('on PostgreSQL, serve accepts SYNC_MANAGER_ADMIN_KEY and the CLI works beside it', {
  skip: !TEST_DATABASE_URL,
}, async () => {
  const database = await createTestDatabase();
  try {
    const pgEnv = { DATABASE_URL: database.url!, SYNC_MANAGER_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' };
    const { child, url, exited } = await serve(pgEnv);
    assert.deepEqual(await tenantSlugs(url), []);
    const created = await runCli(['tenants', 'create', 'on-postgres'], pgEnv);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(await tenantSlugs(url), ['on-postgres']);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    await database.close();
  }
});
