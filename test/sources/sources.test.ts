import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ServeFixture, waitFor } from '../auto-import/serve.ts';
import { type SourcesFixture, startSourcesFixture } from './fixture.ts';
import type { Upstream } from './upstream.ts';

// The upstream is on 127.0.0.1, so this server runs with the operator setting that allows private
// feed URLs (set explicitly). The refusal without it is in url-safety.test.ts.
let fixture: SourcesFixture;
let serve: ServeFixture;
let upstream: Upstream;
let key: string;
let tenantId: string;

before(async () => {
  // 3 s: short for the upstream that never answers, long for a good fetch on a loaded machine (at
  // 500 ms a local fetch timed out with a load average of 11 on two cores).
  fixture = await startSourcesFixture(
    { allowPrivateFeedUrls: true, feedTimeoutMs: 3000, feedMaxBytes: 10_000 },
    ['products', 'other'],
  );
  ({ serve, upstream, key, tenantId } = fixture);
});
after(() => fixture.close());

const syncCount = async (collection: string) => {
  const [row] = await serve.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sync_runs r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      WHERE r.tenant_id = $1 AND c.name = $2`,
    [tenantId, collection],
  );
  return row!.n;
};

/** Makes the source due and runs one scheduler tick; returns the newest run. */
async function runOnce(collection: string) {
  assert.equal((await serve.call('POST', `/v1/collections/${collection}/source/run`, { key })).status, 202);
  await serve.server.background.scheduler.tick();
  const runs = await serve.call('GET', `/v1/collections/${collection}/source/runs`, { key });
  return runs.body.items[0];
}

test('PUT/GET/DELETE a source; header values are never shown back', async () => {
  const put = await serve.call('PUT', '/v1/collections/other/source', {
    key,
    body: {
      url: `${upstream.url}/other`,
      schedule: '0 * * * *',
      headers: { Authorization: 'Bearer upstream-secret' },
    },
  });
  assert.equal(put.status, 201);
  assert.equal(put.body.mode, 'full');
  assert.deepEqual(put.body.headerNames, ['Authorization']);
  assert.ok(!JSON.stringify(put.body).includes('upstream-secret'));
  assert.equal(new Date(put.body.nextRunAt).getUTCMinutes(), 0);
  const again = await serve.call('PUT', '/v1/collections/other/source', {
    key,
    body: { url: `${upstream.url}/other`, schedule: '@daily', mode: 'partial' },
  });
  assert.equal(again.status, 200);
  assert.equal(again.body.mode, 'partial');
  const got = await serve.call('GET', '/v1/collections/other/source', { key });
  assert.equal(got.body.schedule, '@daily');
  const listed = await serve.call('GET', '/v1/sources', { key });
  assert.deepEqual(
    listed.body.items.map((s: { collection: string }) => s.collection),
    ['other'],
  );
  assert.equal((await serve.call('DELETE', '/v1/collections/other/source', { key })).status, 204);
  const gone = await serve.call('GET', '/v1/collections/other/source', { key });
  assert.equal(gone.status, 404);
  assert.equal(gone.body.code, 'source_not_found');
  assert.equal(
    (await serve.call('GET', '/v1/collections/nope/source', { key })).body.code,
    'collection_not_found',
  );
});

test('bad input: a schedule that is not cron, a non-HTTP URL, a reserved header', async () => {
  const cron = await serve.call('PUT', '/v1/collections/other/source', {
    key,
    body: { url: upstream.url, schedule: '61 * * * *' },
  });
  assert.equal(cron.status, 400);
  assert.equal(cron.body.code, 'invalid_schedule');
  const scheme = await serve.call('PUT', '/v1/collections/other/source', {
    key,
    body: { url: 'file:///etc/passwd', schedule: '@hourly' },
  });
  assert.equal(scheme.status, 400);
  const reserved = await serve.call('PUT', '/v1/collections/other/source', {
    key,
    body: { url: upstream.url, schedule: '@hourly', headers: { 'If-None-Match': '*' } },
  });
  assert.equal(reserved.status, 400);
});

test('a fetch syncs; the next one answered 304 records an unchanged run and costs no sync', async () => {
  upstream.body = JSON.stringify([
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
  ]);
  upstream.etag = '"v1"';
  const put = await serve.call('PUT', '/v1/collections/products/source', {
    key,
    body: { url: `${upstream.url}/feed.json`, schedule: '0 0 * * *', headers: { Authorization: 'Bearer t' } },
  });
  assert.equal(put.status, 201);
  const first = await runOnce('products');
  assert.equal(first.status, 'synced', JSON.stringify(first));
  assert.equal(first.httpStatus, 200);
  assert.equal(typeof first.syncId, 'string');
  assert.equal(upstream.requests.at(-1)!.auth, 'Bearer t');
  assert.equal(upstream.requests.at(-1)!.ifNoneMatch, undefined);
  assert.equal(await syncCount('products'), 1);
  const [origin] = await serve.db.query<{ origin: { kind: string; url: string } }>(
    'SELECT origin FROM sync_runs WHERE id = $1',
    [first.syncId],
  );
  assert.deepEqual(origin!.origin, { kind: 'schedule', url: `${upstream.url}/feed.json` });

  const second = await runOnce('products');
  assert.equal(second.status, 'unchanged');
  assert.equal(second.httpStatus, 304);
  assert.equal(second.syncId, null);
  assert.equal(upstream.requests.at(-1)!.ifNoneMatch, '"v1"');
  assert.ok(upstream.requests.at(-1)!.ifModifiedSince);
  assert.equal(await syncCount('products'), 1, 'a 304 costs no sync run');

  upstream.body = JSON.stringify([
    { id: 1, name: 'a2' },
    { id: 2, name: 'b' },
  ]);
  upstream.etag = '"v2"';
  const third = await runOnce('products');
  assert.equal(third.status, 'synced');
  assert.equal(await syncCount('products'), 2);
  const source = await serve.call('GET', '/v1/collections/products/source', { key });
  assert.equal(source.body.lastRun.status, 'synced');
});

test('non-2xx, timeouts, connection errors and oversized bodies are failed runs with the reason, retried next tick', async () => {
  upstream.handler = (_req, res) => res.writeHead(503).end('down');
  const down = await runOnce('products');
  assert.equal(down.status, 'failed');
  assert.equal(down.httpStatus, 503);
  assert.match(down.error, /HTTP 503/);

  upstream.handler = () => {}; // never answers
  const slow = await runOnce('products');
  assert.equal(slow.status, 'failed');
  assert.match(slow.error, /no answer within 3000 ms/);

  const large = `[${'{"id":1},'.repeat(2000)}{"id":2}]`;
  upstream.handler = (_req, res) =>
    res
      .writeHead(200, { 'content-type': 'application/json', 'content-length': String(large.length) })
      .end(large);
  const big = await runOnce('products');
  assert.equal(big.status, 'failed');
  assert.equal(big.error, `the feed is ${large.length} bytes, over the limit of 10000`);

  upstream.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`[${'{"id":"x"},'.repeat(1)}`);
    res.write('{"id":"y"},'.repeat(1200)); // no content-length: the cap trips mid-stream
    res.end('{"id":"z"}]');
  };
  const streamed = await runOnce('products');
  assert.equal(streamed.status, 'failed');
  assert.match(streamed.error, /over the limit of 10000 bytes/);

  const port = new URL(upstream.url).port;
  await serve.call('PUT', '/v1/collections/other/source', {
    key,
    body: { url: 'http://127.0.0.1:1/feed', schedule: '@hourly' },
  });
  const refused = await runOnce('other');
  assert.equal(refused.status, 'failed');
  assert.match(refused.error, /connection failed/);
  assert.ok(port);

  // The collection kept its last good state, and the validators of the last synced body: when the
  // upstream is back with the same ETag, the answer is 304 again.
  upstream.handler = (req, res) => {
    if (req.headers['if-none-match'] === upstream.etag) return void res.writeHead(304).end();
    res.writeHead(200, { etag: upstream.etag }).end(upstream.body);
  };
  const back = await runOnce('products');
  assert.equal(back.status, 'unchanged');
  assert.equal(await syncCount('products'), 3, 'only the mid-stream oversized body reached the sync engine');
});

test('a six-field cron schedule (every second) is fetched when due, at the scheduler tick', async () => {
  upstream.etag = '"v3"';
  upstream.body = JSON.stringify([{ id: 1, name: 'scheduled' }]);
  const before = upstream.requests.length;
  await serve.call('PUT', '/v1/collections/products/source', {
    key,
    body: { url: `${upstream.url}/feed.json`, schedule: '* * * * * *' },
  });
  const scheduler = serve.server.background.scheduler;
  // The fixture's tick interval is an hour; run the loop's own tick like the timer would.
  await waitFor('a scheduled fetch', async () => {
    await scheduler.tick();
    return upstream.requests.length > before;
  });
  const runs = await serve.call('GET', '/v1/collections/products/source/runs?limit=1', { key });
  assert.equal(runs.body.items[0].status, 'synced');
  assert.ok(runs.body.nextCursor);
});

test('a named source with a schedule is fetched by the scheduler and writes only its fields', async () => {
  assert.equal((await serve.call('PUT', '/v1/collections/stocked', { key, body: {} })).status, 201);
  const erp = await serve.call('PUT', '/v1/collections/stocked/sources/erp', {
    key,
    body: { fields: ['/name'], priority: 1 },
  });
  assert.equal(erp.status, 201);
  const put = await serve.call('PUT', '/v1/collections/stocked/sources/supplier', {
    key,
    body: { fields: ['/stock'], url: `${upstream.url}/stock.json`, schedule: '0 0 * * *', mode: 'partial' },
  });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  assert.equal(put.body.url, `${upstream.url}/stock.json`);
  upstream.etag = '"s1"';
  upstream.body = JSON.stringify([{ id: 's1', stock: 3, name: 'not mine' }]);
  // Due now: the next tick fetches it (…/source/run is the route of `default`).
  await serve.db.query(
    `UPDATE collection_sources SET next_run_at = now() WHERE tenant_id = $1 AND name = 'supplier'`,
    [tenantId],
  );
  await serve.server.background.scheduler.tick();
  const [run] = await serve.db.query<{ source_name: string; status: string; counts: Record<string, number> }>(
    `SELECT r.source_name, r.status, r.counts FROM sync_runs r JOIN collections c ON c.tenant_id = r.tenant_id
       AND c.id = r.collection_id WHERE r.tenant_id = $1 AND c.name = 'stocked'`,
    [tenantId],
  );
  assert.deepEqual([run!.source_name, run!.status, run!.counts.ignoredFields], ['supplier', 'succeeded', 1]);
  const record = await serve.call('GET', '/v1/collections/stocked/records/s1', { key });
  assert.deepEqual(record.body, { id: 's1', stock: 3 });
  const listed = await serve.call('GET', '/v1/sources', { key });
  assert.ok(
    listed.body.items.some(
      (s: { collection: string; name: string }) => s.collection === 'stocked' && s.name === 'supplier',
    ),
  );
});
