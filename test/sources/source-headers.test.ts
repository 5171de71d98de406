import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, test } from 'node:test';
import { type SourcesFixture, startSourcesFixture } from './fixture.ts';
import { startUpstream, type Upstream } from './upstream.ts';

// Both upstreams are on 127.0.0.1 (different ports, so different origins): private URLs are allowed.
let fixture: SourcesFixture;
let other: Upstream;
let key: string;

before(async () => {
  fixture = await startSourcesFixture({ allowPrivateFeedUrls: true, feedTimeoutMs: 5000 }, ['products']);
  other = await startUpstream();
  key = fixture.key;
});
after(async () => {
  await fixture.close();
  await other.close();
});

const SECRETS = {
  Authorization: 'Bearer upstream-secret',
  'X-Api-Key': 'key-secret',
  Cookie: 'session=cookie-secret',
  'X-Tenant-Token': 'custom-secret',
};

/** Saves the source with the secret headers, runs it once, returns the newest run. */
async function runSource(url: string) {
  const put = await fixture.serve.call('PUT', '/v1/collections/products/source', {
    key,
    body: { url, schedule: '@daily', mode: 'partial', headers: SECRETS },
  });
  assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
  const due = await fixture.serve.call('POST', '/v1/collections/products/source/run', { key });
  assert.equal(due.status, 202);
  await fixture.serve.server.background.scheduler.tick();
  const runs = await fixture.serve.call('GET', '/v1/collections/products/source/runs', { key });
  return runs.body.items[0];
}

/** Makes `upstream` answer every request with `status` and the headers it received recorded. */
function recordHeaders(upstream: Upstream, seen: IncomingHttpHeaders[], body = '[{"id":"a"}]') {
  upstream.handler = (req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };
}

test('the source headers are not sent to another origin after a redirect', async () => {
  const seen: IncomingHttpHeaders[] = [];
  recordHeaders(other, seen);
  fixture.upstream.handler = (_req, res) => res.writeHead(302, { location: `${other.url}/feed` }).end();
  const run = await runSource(`${fixture.upstream.url}/start`);
  assert.equal(run.status, 'synced', JSON.stringify(run));
  assert.equal(seen.length, 1);
  const sent = JSON.stringify(seen[0]);
  for (const value of Object.values(SECRETS)) assert.ok(!sent.includes(value), `${value} leaked: ${sent}`);
  assert.equal(seen[0]!.authorization, undefined);
  assert.equal(seen[0]!.cookie, undefined);
});

test('a redirect within the origin keeps the source headers', async () => {
  const seen: IncomingHttpHeaders[] = [];
  fixture.upstream.handler = (req, res) => {
    if (req.url === '/start') {
      res.writeHead(302, { location: '/feed' }).end();
      return;
    }
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end('[{"id":"b"}]');
  };
  const run = await runSource(`${fixture.upstream.url}/start`);
  assert.equal(run.status, 'synced', JSON.stringify(run));
  assert.equal(seen[0]!.authorization, SECRETS.Authorization);
  assert.equal(seen[0]!['x-api-key'], SECRETS['X-Api-Key']);
  assert.equal(seen[0]!['x-tenant-token'], SECRETS['X-Tenant-Token']);
});

test('header names that are not tokens and values with non-ASCII or control characters → 400 when saved', async () => {
  const url = `${fixture.upstream.url}/feed`;
  for (const headers of [
    { 'X-Price': 'price €' },
    { 'X-Control': 'a\u0001b' },
    { 'X-Newline': 'a\r\nInjected: 1' },
    { 'Bad Name': 'value' },
    { Naïve: 'value' },
    { 'X:Colon': 'value' },
  ]) {
    const response = await fixture.serve.call('PUT', '/v1/collections/products/source', {
      key,
      body: { url, schedule: '@daily', headers },
    });
    assert.equal(response.status, 400, `${JSON.stringify(headers)}: ${JSON.stringify(response.body)}`);
    assert.equal(response.body.code, 'validation_failed');
  }
  const fine = await fixture.serve.call('PUT', '/v1/collections/products/source', {
    key,
    body: { url, schedule: '@daily', headers: { 'X-Ok': 'Bearer abc\tdef ~!' } },
  });
  assert.ok(fine.status === 200 || fine.status === 201, JSON.stringify(fine.body));
});
