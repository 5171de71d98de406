import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateKey } from '../../src/features/api-keys/key-format.ts';
import { startServe } from '../auto-import/serve.ts';
import { CLI } from '../helpers/cli.ts';
import { createTestDatabase, TEST_DATABASE_URL } from '../helpers/database.ts';
import { startReceiver } from './receiver.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The real `serve` executable; resolves once /health answers. */
async function spawnServe(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', PORT: String(port), ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function caller(url: string, key: string) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
  };
}

test('kill -9 of the server between commit and delivery: the restarted server delivers', {
  timeout: 240_000,
}, async () => {
  const root = mkdtempSync(join(tmpdir(), 'sm-webhooks-'));
  const database = TEST_DATABASE_URL ? await createTestDatabase() : undefined;
  await database?.db.close();
  const adminKey = generateKey('platform');
  const env: Record<string, string> = {
    SYNC_MANAGER_ADMIN_KEY: adminKey,
    SYNC_MANAGER_ALLOW_PRIVATE_URLS: 'true',
    SYNC_MANAGER_WEBHOOK_POLL_MS: '50',
    ...(database ? { DATABASE_URL: database.url! } : { SYNC_MANAGER_DATA_DIR: join(root, 'data') }),
  };
  if (database) {
    // serve does not migrate PostgreSQL itself
    const { runCli } = await import('../helpers/cli.ts');
    assert.equal((await runCli(['migrate'], env)).code, 0);
  }
  const receiver = await startReceiver();
  // The first server commits the event but sends nothing (concurrency 0), then dies.
  const first = await spawnServe({ ...env, SYNC_MANAGER_WEBHOOK_CONCURRENCY: '0' });
  try {
    const admin = caller(first.url, adminKey);
    const tenant = await admin('POST', '/v1/tenants', { slug: 'crash' });
    assert.equal(tenant.status, 201, tenant.text);
    const call = caller(first.url, tenant.body.apiKey.key);
    assert.equal((await call('PUT', '/v1/collections/c', {})).status, 201);
    const hook = await call('POST', '/v1/webhooks', {
      url: receiver.url,
      events: ['records.changed', 'sync.succeeded'],
    });
    assert.equal(hook.status, 201, hook.text);
    receiver.setSecret(hook.body.secret);
    const synced = await call('POST', '/v1/collections/c/syncs', [{ id: 'a' }, { id: 'b' }]);
    assert.equal(synced.status, 200, synced.text);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    assert.equal(receiver.received.length, 0);

    const second = await spawnServe(env);
    try {
      await receiver.until(() => receiver.received.length >= 2);
      assert.deepEqual(receiver.received.map((r) => r.type).sort(), ['records.changed', 'sync.succeeded']);
      assert.ok(receiver.received.every((r) => r.verified));
      const changed = receiver.received.find((r) => r.type === 'records.changed')!;
      assert.deepEqual(
        changed.data.changes.map((c: { recordId: string }) => c.recordId),
        ['a', 'b'],
      );
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    }
  } finally {
    if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
    await receiver.close();
    await database?.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('two servers on one PostgreSQL deliver 200 events once each', {
  skip: !TEST_DATABASE_URL,
  timeout: 240_000,
}, async () => {
  const receiver = await startReceiver();
  const one = await startServe({ allowPrivateFeedUrls: true, webhookPollMs: 20 });
  const two = await startServe({
    allowPrivateFeedUrls: true,
    webhookPollMs: 20,
    databaseUrl: one.config.databaseUrl,
  });
  try {
    const tenant = await one.createTenant('pair');
    const hook = await one.call('POST', '/v1/webhooks', {
      key: tenant.key,
      body: { url: receiver.url, events: ['sync.succeeded'] },
    });
    assert.equal(hook.status, 201);
    receiver.setSecret(hook.body.secret);
    const pings = [];
    for (let i = 0; i < 200; i++) {
      const server = i % 2 === 0 ? one : two;
      pings.push(server.call('POST', `/v1/webhooks/${hook.body.id}/test`, { key: tenant.key }));
    }
    for (const ping of await Promise.all(pings)) assert.equal(ping.status, 202);
    await receiver.until(() => new Set(receiver.received.map((r) => r.id)).size === 200);
    // Both had the chance to send again: wait until every delivery is settled, then count.
    for (;;) {
      const [row] = await one.db.query<{ pending: number }>(
        `SELECT count(*)::int AS pending FROM webhook_deliveries WHERE status = 'pending'`,
      );
      if (row!.pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(receiver.received.length, 200, 'each webhook-id arrived once');
    assert.ok(receiver.received.every((r) => r.verified));
  } finally {
    await two.close();
    await one.close();
    await receiver.close();
  }
});
