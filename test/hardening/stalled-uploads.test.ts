import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { BACKEND } from '../helpers/database.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Issue 20 item 1: a sync body is received whole before the sync touches the database, so clients that
 * stall mid-upload hold sockets, never connections (PostgreSQL's pool of 10) nor the embedded database.
 * Without that, these tests hang (and their safety timeout fails them); they assert answers, not speed.
 */
const STALLED = 12;
let server: TestServer;
let spoolDir: string;
let uploader: { id: string; key: string };
let other: { id: string; key: string };
const open: ClientRequest[] = [];

before(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), 'stalled-uploads-'));
  server = await startTestServer({ syncsPerTenant: STALLED, spoolDir });
  uploader = await server.createTenant('uploader');
  other = await server.createTenant('bystander');
  for (const [tenant, name] of [
    [uploader, 'feed'],
    [uploader, 'side'],
    [other, 'items'],
  ] as const) {
    const made = await server.request('PUT', `/v1/collections/${name}`, { key: tenant.key, body: {} });
    assert.ok(made.status < 300, made.text);
  }
  const seeded = await server.request('PUT', '/v1/collections/items/records/a', {
    key: other.key,
    body: { id: 'a', name: 'kept' },
  });
  assert.ok(seeded.status < 300, seeded.text);
});

after(async () => {
  for (const request of open) request.destroy();
  await server.close();
  await rm(spoolDir, { recursive: true, force: true });
});

/** A chunked upload that sends ~70 KB of a feed and then nothing. */
function stalledUpload(key: string, collection: string, target = server.url): ClientRequest {
  const request = httpRequest(`${target}/v1/collections/${collection}/syncs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
  });
  request.on('error', () => {});
  // A probe of untilSlotsTaken may have held a slot when this upload arrived: then it is refused (429)
  // and another one takes its place.
  request.on('response', (response) => {
    if (response.statusCode !== 429 || target !== server.url) return;
    response.resume();
    stalledUpload(key, collection);
  });
  let rows = '';
  for (let i = 0; rows.length < 70_000; i++)
    rows += `${JSON.stringify({ id: `r${i}`, name: 'x'.repeat(60) })}\n`;
  request.write(rows);
  open.push(request);
  return request;
}

/** Waits until the uploader's tenant has every sync slot taken: a small extra sync is refused with 429. */
async function untilSlotsTaken(): Promise<void> {
  for (;;) {
    const response = await server.request('POST', '/v1/collections/side/syncs?mode=partial', {
      key: uploader.key,
      rawBody: '',
      headers: { 'content-type': 'application/x-ndjson' },
    });
    if (response.status === 429) {
      assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(response.body.code, 'too_many_syncs');
      return;
    }
    assert.equal(response.status, 200, response.text);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('stalled sync uploads hold no database connection: other tenants, /health and syncs still answer', {
  timeout: 300_000,
}, async () => {
  for (let i = 0; i < STALLED; i++) stalledUpload(uploader.key, 'feed');
  await untilSlotsTaken();

  const health = await server.request('GET', '/health');
  assert.equal(health.status, 200, health.text);
  const record = await server.request('GET', '/v1/collections/items/records/a', { key: other.key });
  assert.equal(record.status, 200, record.text);
  assert.equal(record.body.name, 'kept');
  const list = await server.request('GET', '/v1/collections', { key: other.key });
  assert.equal(list.status, 200, list.text);
  // Another tenant's sync runs to the end while the uploads stall (on PGlite too, one connection).
  const synced = await server.request('POST', '/v1/collections/items/syncs?mode=partial', {
    key: other.key,
    rawBody: '{"id":"b","name":"new"}\n',
    headers: { 'content-type': 'application/x-ndjson' },
  });
  assert.equal(synced.status, 200, synced.text);
  assert.equal(synced.body.counts.created, 1);

  // Nothing of the stalled uploads reached the database: no run was even recorded.
  const runs = await server.request('GET', '/v1/collections/feed/syncs', { key: uploader.key });
  assert.equal(runs.status, 200, runs.text);
  assert.deepEqual(runs.body.items, []);

  for (const request of open.splice(0)) request.destroy();
  // Closed uploads give their slots back and their files are removed.
  await untilSlotsFree();
  await untilSpoolEmpty();
});

async function untilSlotsFree(): Promise<void> {
  for (;;) {
    const response = await server.request('POST', '/v1/collections/side/syncs?mode=partial', {
      key: uploader.key,
      rawBody: '',
      headers: { 'content-type': 'application/x-ndjson' },
    });
    if (response.status === 200) return;
    assert.equal(response.status, 429, response.text);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function untilSpoolEmpty(): Promise<void> {
  while ((await readdir(spoolDir)).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

test('an upload that stalls longer than the idle-body timeout is refused with 408 problem+json', {
  timeout: 300_000,
}, async () => {
  const quick = await startTestServer({ bodyIdleMs: 50, spoolDir });
  try {
    const tenant = await quick.createTenant('quick');
    await quick.request('PUT', '/v1/collections/feed', { key: tenant.key, body: {} });
    const request = stalledUpload(tenant.key, 'feed', quick.url);
    const response = await new Promise<IncomingMessage>((resolve) => request.on('response', resolve));
    let text = '';
    for await (const chunk of response) text += chunk;
    assert.equal(response.statusCode, 408, text);
    assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(response.headers.connection, 'close');
    assert.equal(JSON.parse(text).code, 'body_timeout');
    request.destroy();
    await untilSpoolEmpty();
    const runs = await quick.request('GET', '/v1/collections/feed/syncs', { key: tenant.key });
    assert.deepEqual(runs.body.items, []);
  } finally {
    await quick.close();
  }
});

test('syncs waiting for a busy collection lock hold no pooled connection', {
  skip: BACKEND !== 'postgres' && 'PostgreSQL only: PGlite serialises everything through one connection',
  timeout: 300_000,
}, async () => {
  const waiting = 12;
  const [collection] = await server.db.query<{ id: string }>(
    `SELECT id FROM collections WHERE tenant_id = $1 AND name = 'feed'`,
    [uploader.id],
  );
  // Another process holds the collection's sync lock (as a long sync elsewhere would).
  const holder = postgres(server.database.url!, { max: 1, onnotice: () => {} });
  const connection = await holder.reserve();
  try {
    await connection`BEGIN`;
    await connection`SELECT pg_advisory_xact_lock(hashtextextended('sync-collection:' || ${uploader.id} || ':' || ${collection!.id}, 0))`;
    const syncs = Array.from({ length: waiting }, (_, i) =>
      server.request('POST', '/v1/collections/feed/syncs?mode=partial', {
        key: uploader.key,
        rawBody: `{"id":"w${i}"}\n`,
        headers: { 'content-type': 'application/x-ndjson' },
      }),
    );
    // Every one of them has recorded its run and is waiting for the lock.
    for (;;) {
      const [row] = await server.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sync_runs WHERE tenant_id = $1 AND status = 'running'`,
        [uploader.id],
      );
      if (row!.n === waiting) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const record = await server.request('GET', '/v1/collections/items/records/a', { key: other.key });
    assert.equal(record.status, 200, record.text);
    // No backend of the app waits on the lock (at most one tries it at a time, without waiting).
    const [blocked] = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()
          AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
    );
    assert.equal(blocked!.n, 0);
    await connection`COMMIT`;
    const answers = await Promise.all(syncs);
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
  } finally {
    connection.release();
    await holder.end();
  }
});
