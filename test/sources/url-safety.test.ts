import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isBlockedAddress } from '../../src/features/sources/url-safety.ts';
import { type ServeFixture, startServe } from '../auto-import/serve.ts';
import { startUpstream, type Upstream } from './upstream.ts';

test('loopback, private, link-local, unique-local and v4-mapped v6 addresses are blocked; public ones are not', () => {
  for (const address of [
    '127.0.0.1',
    '127.8.9.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '[::1]',
    'fe80::1%eth0',
    'not-an-ip',
  ]) {
    assert.equal(isBlockedAddress(address), true, address);
  }
  for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
    assert.equal(isBlockedAddress(address), false, address);
  }
});

// No allowPrivateFeedUrls here: the default is to refuse.
let serve: ServeFixture;
let upstream: Upstream;
let key: string;
before(async () => {
  serve = await startServe();
  upstream = await startUpstream();
  ({ key } = await serve.createTenant('acme'));
  await serve.call('PUT', '/v1/collections/products', { key, body: {} });
});
after(async () => {
  await serve.close();
  await upstream.close();
});

test('a source URL on a private address is refused by default', async () => {
  for (const url of [
    `${upstream.url}/feed.json`,
    'http://localhost:8080/feed',
    'http://[::1]/feed',
    'http://[::ffff:127.0.0.1]/feed',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.5/feed',
  ]) {
    const response = await serve.call('PUT', '/v1/collections/products/source', {
      key,
      body: { url, schedule: '@hourly' },
    });
    assert.equal(response.status, 422, url);
    assert.equal(response.body.code, 'feed_url_refused', url);
    assert.match(response.body.detail, /SYNC_MANAGER_ALLOW_PRIVATE_URLS/);
  }
  assert.equal(upstream.requests.length, 0, 'nothing was fetched');
  assert.equal((await serve.call('GET', '/v1/collections/products/source', { key })).status, 404);
});

test('a source stored while allowed is refused at fetch time once the setting is off', async () => {
  // Written straight into the table (as an operator who later turned the setting off would have left it).
  const [row] = await serve.db.query<{ tenant_id: string; id: string }>(
    "SELECT tenant_id, id FROM collections WHERE name = 'products'",
  );
  await serve.db.query(
    `INSERT INTO collection_sources (tenant_id, collection_id, url, schedule, next_run_at) VALUES ($1, $2, $3, '@hourly', now())`,
    [row!.tenant_id, row!.id, `${upstream.url}/feed.json`],
  );
  await serve.server.background.scheduler.tick();
  const runs = await serve.call('GET', '/v1/collections/products/source/runs', { key });
  assert.equal(runs.body.items[0].status, 'failed');
  assert.equal(runs.body.items[0].error.startsWith('feed_url_refused'), true, runs.body.items[0].error);
  assert.equal(upstream.requests.length, 0);
});

test("the collection is looked up before the URL is checked: another tenant's key or a missing collection gets 404", async () => {
  const { key: otherKey } = await serve.createTenant('other');
  const body = { url: `${upstream.url}/feed.json`, schedule: '@hourly' };
  const foreign = await serve.call('PUT', '/v1/collections/products/source', { key: otherKey, body });
  assert.equal(foreign.status, 404, JSON.stringify(foreign.body));
  assert.equal(foreign.body.code, 'collection_not_found');
  const missing = await serve.call('PUT', '/v1/collections/nope/source', { key, body });
  assert.equal(missing.status, 404, JSON.stringify(missing.body));
  assert.equal(missing.body.code, 'collection_not_found');
  // The same URL on the caller's own collection is still refused by the check.
  const own = await serve.call('PUT', '/v1/collections/products/source', { key, body });
  assert.equal(own.status, 422);
  assert.equal(own.body.code, 'feed_url_refused');
  assert.equal(upstream.requests.length, 0);
});
