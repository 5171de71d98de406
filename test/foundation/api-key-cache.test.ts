import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Each server process keeps tenant keys it has seen in a cache, so a request skips the key lookup; a
 * revoke through any process must still stop the key at once everywhere. Two apps on one database
 * stand for two processes: A revokes, B (whose cache holds the key) must refuse the very next request,
 * whatever the request does: a read (checked inside its tenant transaction), a read refused before
 * any transaction (checked before the answer), a write (checked before the handler).
 */
let server: TestServer;
let other: FastifyInstance;
let tenant: { id: string; slug: string; key: string };

before(async () => {
  server = await startTestServer();
  other = await buildApp({ config: server.config, db: server.db, logRequests: false });
  tenant = await server.createTenant('cache-tenant');
  assert.equal(
    (await server.request('PUT', '/v1/collections/items', { key: tenant.key, body: {} })).status,
    201,
  );
  const put = await server.request('PUT', '/v1/collections/items/records/r1', {
    key: tenant.key,
    body: { id: 'r1', price: 1 },
  });
  assert.ok(put.status < 300, put.text);
});
after(async () => {
  await other.close();
  await server.close();
});

const onOther = (method: 'GET' | 'PATCH', url: string, key: string, body?: unknown) =>
  other.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/merge-patch+json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

async function revoke(keyId: string) {
  const response = await server.request('DELETE', `/v1/api-keys/${keyId}`, { key: tenant.key });
  assert.ok(response.status < 300, response.text);
}

test('a key cached by another process is refused at once after a revoke, for reads', async () => {
  const reader = await server.createKey(tenant.key, ['read']);
  for (let i = 0; i < 2; i++) {
    const warm = await onOther('GET', '/v1/collections/items/records/r1', reader.key);
    assert.equal(warm.statusCode, 200, warm.body); // the second one from the cache
  }
  await revoke(reader.id);
  for (const url of [
    '/v1/collections/items/records/r1',
    '/v1/collections/items/records?limit=10',
    '/v1/collections/items/records/r1?meta=true',
    '/v1/collections/nothing-here/records/r1', // would be 404
    '/v1/collections/items/records?limit=not-a-number', // would be 400, before any transaction
    '/v1/collections',
  ]) {
    const response = await onOther('GET', url, reader.key);
    assert.equal(response.statusCode, 401, `${url}: ${response.body}`);
    assert.ok(!response.body.includes('price'), url);
  }
});

test('a key cached by another process is refused at once after a revoke, for writes', async () => {
  const writer = await server.createKey(tenant.key, ['read', 'write']);
  const first = await onOther('PATCH', '/v1/collections/items/records/r1', writer.key, { price: 2 });
  assert.equal(first.statusCode, 200, first.body);
  const warm = await onOther('GET', '/v1/collections/items/records/r1', writer.key);
  assert.equal(warm.statusCode, 200, warm.body);
  await revoke(writer.id);
  const refused = await onOther('PATCH', '/v1/collections/items/records/r1', writer.key, { price: 3 });
  assert.equal(refused.statusCode, 401, refused.body);
  const record = await server.request('GET', '/v1/collections/items/records/r1', { key: tenant.key });
  assert.equal(record.body.price, 2);
});
