import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { CollectionService } from '../../src/features/collections/collections.service.ts';
import { SyncService } from '../../src/features/syncs/syncs.service.ts';
import { BACKEND } from '../helpers/database.ts';
import { startTestServer } from '../helpers/server.ts';
import { makeCollection, ndjson, stored, sync, tenantServer } from './sync-helpers.ts';

const fixture = tenantServer('safe');

const feedOf = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ id: `k${i}`, tag, n: i }));

test('a feed that fails at its last record leaves the collection untouched and the run failed', async () => {
  await makeCollection(fixture.ctx, 'last');
  await sync(fixture.ctx, 'last', feedOf(3000, 'v1'));
  const before = await stored(fixture.ctx, fixture.tenantId, 'last');
  const lines = feedOf(3000, 'v2').map((record) => JSON.stringify(record));
  lines.push('{"id": "broken", "tag": ');
  const response = await sync(fixture.ctx, 'last', `${lines.join('\n')}\n`);
  assert.equal(response.status, 422, response.text);
  assert.equal(response.body.code, 'feed_invalid');
  assert.equal(response.body.errors.length, 1);
  assert.equal(response.body.errors[0].row, 3001);
  assert.equal(response.body.errors[0].code, 'invalid_json');
  assert.deepEqual(await stored(fixture.ctx, fixture.tenantId, 'last'), before);
  const run = await fixture.server.request('GET', `/v1/syncs/${response.body.syncId}`, {
    key: fixture.ctx.key,
  });
  assert.equal(run.body.status, 'failed');
  assert.equal(run.body.errors[0].row, 3001);
});

test('every reason is listed with row and id: not an object, missing id, bad id, duplicate id', async () => {
  await makeCollection(fixture.ctx, 'bad');
  const feed =
    ndjson([{ id: 'a' }, [1, 2], { name: 'no id' }, { id: { x: 1 } }, { id: 'a' }, { id: 'ok' }]) +
    '{"id": nope}\n';
  const response = await sync(fixture.ctx, 'bad', feed);
  assert.equal(response.status, 422, response.text);
  const summary = response.body.errors.map(
    (error: { row: number; code: string }) => `${error.row}:${error.code}`,
  );
  assert.deepEqual(summary, [
    '2:not_an_object',
    '3:missing_id',
    '4:invalid_id',
    '5:duplicate_id',
    '7:invalid_json',
  ]);
  assert.equal(response.body.errors[3].id, 'a');
  assert.equal(response.body.errorCount, 5);
  assert.equal((await stored(fixture.ctx, fixture.tenantId, 'bad')).size, 0);
});

test('invalid UTF-8 and invalid JSON in an array feed are refused with positions', async () => {
  await makeCollection(fixture.ctx, 'utf');
  const bytes = Buffer.concat([
    Buffer.from('[{"id":"a","v":"'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}]'),
  ]);
  const response = await fixture.server.request('POST', '/v1/collections/utf/syncs', {
    key: fixture.ctx.key,
    rawBody: bytes,
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(response.status, 422, response.text);
  assert.equal(response.body.errors[0].code, 'invalid_utf8');
  const broken = await sync(fixture.ctx, 'utf', '[{"id":"a"},{"id":"b",]' as unknown as string, '', {
    'content-type': 'application/json',
  });
  assert.equal(broken.status, 422, broken.text);
  assert.equal(broken.body.errors[0].code, 'invalid_json');
  assert.equal(typeof broken.body.errors[0].offset, 'number');
});

test('five concurrent full syncs of different feeds end with exactly one feed', async () => {
  await makeCollection(fixture.ctx, 'race', { maxDeleteRatio: 1 });
  const feeds = Array.from({ length: 5 }, (_, f) =>
    Array.from({ length: 400 + f * 50 }, (_, i) => ({ id: `f${f}-${i % (200 + f * 10)}-${i}`, feed: f, i })),
  );
  const responses = await Promise.all(feeds.map((feed) => sync(fixture.ctx, 'race', feed)));
  for (const response of responses) assert.equal(response.status, 200, response.text);
  const rows = [...(await stored(fixture.ctx, fixture.tenantId, 'race')).values()].filter(
    (row) => row.data !== null,
  );
  const feedsSeen = new Set(rows.map((row) => row.data!.feed));
  assert.equal(feedsSeen.size, 1);
  const winner = feeds[[...feedsSeen][0] as number]!;
  assert.equal(rows.length, winner.length);
  const ids = new Set(rows.map((row) => row.record_id));
  for (const record of winner) assert.ok(ids.has(record.id));
});

test('Idempotency-Key: the same key and body replay the first result and apply once; another body → 422', async () => {
  await makeCollection(fixture.ctx, 'idem');
  const key = randomUUID();
  const first = await sync(fixture.ctx, 'idem', feedOf(10, 'a'), '', { 'idempotency-key': key });
  assert.equal(first.status, 200, first.text);
  const replay = await sync(fixture.ctx, 'idem', feedOf(10, 'a'), '', { 'idempotency-key': key });
  assert.equal(replay.status, 200, replay.text);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(replay.body, first.body);
  const history = await fixture.server.request('GET', '/v1/collections/idem/syncs', { key: fixture.ctx.key });
  assert.equal(history.body.items.length, 1);
  const other = await sync(fixture.ctx, 'idem', feedOf(11, 'a'), '', { 'idempotency-key': key });
  assert.equal(other.status, 422, other.text);
  assert.equal(other.body.code, 'idempotency_key_reused');
  assert.equal((await stored(fixture.ctx, fixture.tenantId, 'idem')).size, 10);
});

test('concurrent requests with one Idempotency-Key apply once', async () => {
  await makeCollection(fixture.ctx, 'idem2');
  const key = randomUUID();
  const responses = await Promise.all(
    [1, 2, 3].map(() => sync(fixture.ctx, 'idem2', feedOf(50, 'a'), '', { 'idempotency-key': key })),
  );
  for (const response of responses) assert.equal(response.status, 200, response.text);
  assert.equal(new Set(responses.map((response) => response.body.id)).size, 1);
  const history = await fixture.server.request('GET', '/v1/collections/idem2/syncs', {
    key: fixture.ctx.key,
  });
  assert.equal(history.body.items.length, 1);
});

test('a run left running by a dead process is marked failed; a live one is left alone', async () => {
  await makeCollection(fixture.ctx, 'rec');
  const [collection] = await fixture.server.db.query<{ id: string }>(
    `SELECT id::text FROM collections WHERE tenant_id = $1 AND name = 'rec'`,
    [fixture.tenantId],
  );
  const dead = randomUUID();
  await fixture.server.db.query(
    `INSERT INTO sync_runs (tenant_id, id, collection_id, mode, status) VALUES ($1, $2, $3, 'full', 'running')`,
    [fixture.tenantId, dead, collection!.id],
  );
  const service = new SyncService(fixture.server.db, new CollectionService(fixture.server.db), {
    snapshotRetentionDays: 30,
  });
  if (BACKEND === 'postgres') {
    // A live run: its process holds the run's lock in an open transaction on another connection.
    const live = randomUUID();
    await fixture.server.db.query(
      `INSERT INTO sync_runs (tenant_id, id, collection_id, mode, status) VALUES ($1, $2, $3, 'full', 'running')`,
      [fixture.tenantId, live, collection!.id],
    );
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = fixture.server.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('sync-run:' || $1, 0))`, [live]);
      locked();
      await held;
    });
    await isLocked;
    assert.equal(await service.recoverInterruptedRuns(), 1);
    release();
    await holder;
    const [row] = await fixture.server.db.query<{ status: string }>(
      'SELECT status FROM sync_runs WHERE id = $1',
      [live],
    );
    assert.equal(row!.status, 'running');
    assert.equal(await service.recoverInterruptedRuns(), 1);
  } else {
    assert.equal(await service.recoverInterruptedRuns(), 1);
  }
  const run = await fixture.server.request('GET', `/v1/syncs/${dead}`, { key: fixture.ctx.key });
  assert.equal(run.body.status, 'failed');
  assert.equal(run.body.errors[0].code, 'interrupted');
});

test('a body over the sync body limit is refused with 413', async () => {
  const small = await startTestServer({ syncBodyLimit: 2048 });
  try {
    const tenant = await small.createTenant('lim');
    const smallCtx = { server: small, key: tenant.key };
    await makeCollection(smallCtx, 'big');
    const response = await sync(smallCtx, 'big', feedOf(200, 'x'));
    assert.equal(response.status, 413, response.text);
  } finally {
    await small.close();
  }
});
