import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { AppError } from '../../src/errors.ts';
import { ChangeFeed } from '../../src/features/changes/changes.service.ts';
import { ChangeNotifier } from '../../src/features/changes/notifier.ts';
import { CollectionService } from '../../src/features/collections/collections.service.ts';
import { SyncService } from '../../src/features/syncs/syncs.service.ts';
import { DeliveryWorker } from '../../src/features/webhooks/delivery-worker.ts';
import { postWebhook } from '../../src/features/webhooks/post.ts';
import { WebhookService } from '../../src/features/webhooks/webhooks.service.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startReceiver } from './receiver.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely
type Json = any;

let server: TestServer;
let key: string;
let tenantId: string;
let notifier: ChangeNotifier;
let worker: DeliveryWorker;
const log = { error: (details: object, message: string) => console.error(message, details), warn: () => {} };

function newWorker() {
  return new DeliveryWorker(server.db, new ChangeFeed(server.db, notifier), notifier, {
    concurrency: 16,
    perEndpoint: 4,
    // Long: the dead endpoint's attempts are still waiting when the test ends.
    timeoutMs: 120_000,
    // Retries come at once: the test counts attempts, it does not wait for them.
    retryBaseMs: 1,
    retryMaxMs: 2,
    retryWindowMs: 3_600_000,
    disableAfterMs: 100 * 3_600_000,
    allowPrivate: true,
    pollMs: 20,
    log,
  });
}

before(async () => {
  server = await startTestServer({ allowPrivateFeedUrls: true });
  const tenant = await server.createTenant('hooks');
  key = tenant.key;
  tenantId = tenant.id;
  assert.equal((await call('PUT', '/v1/collections/products', { body: {} })).status, 201);
  notifier = new ChangeNotifier(server.db);
  worker = newWorker();
  worker.start();
});
after(async () => {
  await worker.stop();
  await notifier.close();
  await server.close();
});

function call(method: string, path: string, options: { body?: unknown } = {}) {
  return server.request(method, path, { key, ...options });
}

async function createWebhook(body: object): Promise<{ id: string; secret: string }> {
  const made = await call('POST', '/v1/webhooks', { body });
  assert.equal(made.status, 201, made.text);
  assert.match(made.body.secret, /^whsec_/);
  return made.body;
}

async function sync(records: object[], query = '?mode=partial') {
  return call('POST', `/v1/collections/products/syncs${query}`, { body: records });
}

test('every event type arrives signed, and verifies with the standardwebhooks library', async () => {
  const receiver = await startReceiver();
  try {
    const events = [
      'records.changed',
      'sync.succeeded',
      'sync.failed',
      'conflict.opened',
      'conflict.resolved',
      'snapshot.restored',
    ];
    const hook = await createWebhook({ url: receiver.url, events });
    receiver.setSecret(hook.secret);
    const listed = await call('GET', '/v1/webhooks');
    assert.equal(listed.status, 200);
    assert.ok(
      listed.body.items.every((item: Json) => !('secret' in item)),
      'listings never show a secret',
    );
    assert.ok(!listed.text.includes(hook.secret));

    assert.equal((await sync([{ id: 'p1', price: 1 }])).status, 200);
    const snapshot = await call('POST', '/v1/snapshots', { body: { label: 'before edit' } });
    assert.equal(snapshot.status, 201, snapshot.text);
    assert.equal(
      (await call('PATCH', '/v1/collections/products/records/p1', { body: { price: 5 } })).status,
      200,
    );
    assert.equal((await sync([{ id: 'p1', price: 2 }])).status, 200); // upstream moved under the edit
    const conflicts = await call('GET', '/v1/collections/products/conflicts');
    assert.equal(conflicts.body.items.length, 1, conflicts.text);
    const resolved = await call(
      'POST',
      `/v1/collections/products/conflicts/${conflicts.body.items[0].id}/resolve`,
      {
        body: { resolution: 'take-source' },
      },
    );
    assert.equal(resolved.status, 200, resolved.text);
    const restored = await call('POST', `/v1/snapshots/${snapshot.body.id}/restore`, { body: {} });
    assert.equal(restored.status, 200, restored.text);
    assert.equal((await sync([{ price: 1 }])).status, 422); // no id: refused, recorded as failed

    await receiver.until(() => events.every((type) => receiver.received.some((r) => r.type === type)));
    assert.ok(
      receiver.received.every((r) => r.verified),
      'every request verifies',
    );
    const changed = receiver.received.filter((r) => r.type === 'records.changed');
    assert.deepEqual(changed[0]!.data.changes, [{ recordId: 'p1', op: 'create', version: 1, fields: [''] }]);
    assert.equal(changed[0]!.data.collection, 'products');
    assert.ok(changed[0]!.data.cursor);
    const succeeded = receiver.received.find((r) => r.type === 'sync.succeeded')!;
    assert.equal(succeeded.data.counts.created, 1);
    // The deliveries listing shows them, with one attempt each.
    const deliveries = await call('GET', `/v1/webhooks/${hook.id}/deliveries`);
    assert.equal(deliveries.status, 200, deliveries.text);
    assert.ok(deliveries.body.items.length >= events.length);
    await call('DELETE', `/v1/webhooks/${hook.id}`);
  } finally {
    await receiver.close();
  }
});

test('a receiver that fails 3 times gets the 4th attempt, under the same webhook-id', async () => {
  const receiver = await startReceiver({ answer: ({ n }) => (n < 3 ? 500 : 200) });
  try {
    const hook = await createWebhook({ url: receiver.url, events: ['sync.succeeded'] });
    receiver.setSecret(hook.secret);
    const ping = await call('POST', `/v1/webhooks/${hook.id}/test`);
    assert.equal(ping.status, 202, ping.text);
    await receiver.until(() => receiver.received.some((r) => r.status === 200));
    assert.deepEqual(
      receiver.received.map((r) => r.status),
      [500, 500, 500, 200],
    );
    assert.equal(new Set(receiver.received.map((r) => r.id)).size, 1);
    assert.equal(receiver.received[0]!.id, `msg_${ping.body.eventId}`);
    assert.ok(receiver.received.every((r) => r.verified && r.type === 'webhook.test'));
    // The receiver answered before the worker recorded the answer: wait for the record.
    let delivery: Json;
    do [delivery] = (await call('GET', `/v1/webhooks/${hook.id}/deliveries`)).body.items;
    while (delivery.status !== 'succeeded');
    assert.equal(delivery.attempts, 4);
    assert.deepEqual(
      delivery.attemptList.map((a: Json) => a.statusCode),
      [500, 500, 500, 200],
    );
    // A manual retry sends it once more, with the same id.
    assert.equal((await call('POST', `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/retry`)).status, 202);
    await receiver.until(() => receiver.received.length === 5);
    assert.equal(receiver.received[4]!.id, receiver.received[0]!.id);
    await call('DELETE', `/v1/webhooks/${hook.id}`);
  } finally {
    await receiver.close();
  }
});

test('a rolled-back sync announces nothing', async () => {
  const receiver = await startReceiver();
  try {
    const hook = await createWebhook({ url: receiver.url, events: ['records.changed', 'sync.succeeded'] });
    receiver.setSecret(hook.secret);
    const bad = await sync([{ id: 'r1' }, { id: 'r2' }, { noId: true }]);
    assert.equal(bad.status, 422, bad.text);
    const good = await sync([{ id: 'r3' }]);
    assert.equal(good.status, 200);
    await receiver.until(() => receiver.received.length >= 2);
    const ids = receiver.received
      .filter((r) => r.type === 'records.changed')
      .flatMap((r) => r.data.changes.map((c: Json) => c.recordId));
    assert.deepEqual(ids, ['r3']);
    assert.deepEqual(
      receiver.received.filter((r) => r.type === 'sync.succeeded').map((r) => r.data.syncRunId),
      [good.body.id],
    );
    await call('DELETE', `/v1/webhooks/${hook.id}`);
  } finally {
    await receiver.close();
  }
});

test('a dead endpoint does not hold up a live one', async () => {
  const dead = await startReceiver({ hang: true });
  const live = await startReceiver();
  try {
    const deadHook = await createWebhook({ url: dead.url, events: ['sync.succeeded'] });
    const liveHook = await createWebhook({ url: live.url, events: ['sync.succeeded'] });
    live.setSecret(liveHook.secret);
    for (let i = 0; i < 12; i++) assert.equal((await sync([{ id: `d${i}`, i }])).status, 200);
    await live.until(() => live.received.length === 12);
    // Every live delivery ended while the dead endpoint has answered none (at most 4 held at once).
    const deadDeliveries = await call('GET', `/v1/webhooks/${deadHook.id}/deliveries`);
    assert.equal(deadDeliveries.body.items.length, 12);
    assert.ok(
      deadDeliveries.body.items.every((d: Json) => d.status === 'pending' && d.attemptList.length === 0),
    );
    assert.ok(dead.connections() <= 4, `dead endpoint connections: ${dead.connections()}`);
    await call('DELETE', `/v1/webhooks/${deadHook.id}`);
    await call('DELETE', `/v1/webhooks/${liveHook.id}`);
  } finally {
    await dead.close();
    await live.close();
  }
});

test('a private-address URL is refused when saved, and at delivery', async () => {
  const strict = new WebhookService(server.db, new ChangeFeed(server.db, notifier), { allowPrivate: false });
  for (const url of [
    'http://127.0.0.1:9/x',
    'http://169.254.169.254/latest',
    'http://localhost/x',
    'http://[::1]/',
  ]) {
    await assert.rejects(strict.create(tenantId, { url, events: ['sync.succeeded'] }), (error: AppError) => {
      assert.equal(error.code, 'webhook_url_refused', url);
      return true;
    });
  }
  const notHttp = await call('POST', '/v1/webhooks', {
    body: { url: 'ftp://a.example/', events: ['sync.succeeded'] },
  });
  assert.equal(notHttp.status, 400, notHttp.text);
  // At delivery the check runs in the socket's own lookup, on the address about to be connected to.
  const receiver = await startReceiver();
  try {
    const options = { timeoutMs: 5000, maxBodyBytes: 100, allowPrivate: false };
    const local = await postWebhook(receiver.url, {}, '{}', options);
    assert.equal(local.statusCode, null);
    assert.match(local.error ?? '', /refused/);
    const byName = await postWebhook(receiver.url.replace('127.0.0.1', 'localhost'), {}, '{}', options);
    assert.match(byName.error ?? '', /refused/);
    assert.equal(receiver.received.length, 0);
    // The same receiver, allowed: it answers.
    const allowed = await postWebhook(receiver.url, {}, '{"type":"x","data":{}}', {
      ...options,
      allowPrivate: true,
    });
    assert.equal(allowed.statusCode, 200);
  } finally {
    await receiver.close();
  }
});

test('410 from the receiver disables the endpoint and says why', async () => {
  const receiver = await startReceiver({ answer: () => 410 });
  try {
    const hook = await createWebhook({ url: receiver.url, events: ['sync.succeeded'] });
    await call('POST', `/v1/webhooks/${hook.id}/test`);
    await receiver.until(() => receiver.received.length === 1);
    let view: Json;
    do view = (await call('GET', `/v1/webhooks/${hook.id}`)).body;
    while (view.enabled);
    assert.match(view.disabledReason, /410/);
  } finally {
    await receiver.close();
  }
});

test('a run that a crash left running sends sync.failed when recovery marks it failed', async () => {
  const receiver = await startReceiver();
  try {
    const hook = await createWebhook({
      url: receiver.url,
      events: ['sync.failed'],
      collections: ['products'],
    });
    receiver.setSecret(hook.secret);
    const [collection] = await server.db.query<{ id: string }>(
      `SELECT id FROM collections WHERE tenant_id = $1 AND name = 'products'`,
      [tenantId],
    );
    // What a killed sync process leaves behind (test/sync/kill.test.ts): its run row, still running.
    const dead = randomUUID();
    await server.db.query(
      `INSERT INTO sync_runs (tenant_id, id, collection_id, mode, status) VALUES ($1, $2, $3, 'full', 'running')`,
      [tenantId, dead, collection!.id],
    );
    const syncs = new SyncService(server.db, new CollectionService(server.db), { snapshotRetentionDays: 30 });
    assert.equal(await syncs.recoverInterruptedRuns(), 1);
    await receiver.until(() => receiver.received.some((r) => r.type === 'sync.failed'));
    const event = receiver.received.find((r) => r.type === 'sync.failed')!;
    assert.ok(event.verified);
    assert.equal(event.data.syncRunId, dead);
    assert.equal(event.data.collection, 'products');
    assert.deepEqual(
      event.data.errors.map((e: Json) => e.code),
      ['interrupted'],
    );
  } finally {
    await receiver.close();
  }
});
