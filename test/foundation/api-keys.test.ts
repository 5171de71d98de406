import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { generateKey } from '../../src/features/api-keys/key-format.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertProblem, eventually } from './fixtures.ts';

let server: TestServer;
let tenant: { id: string; slug: string; key: string };
before(async () => {
  server = await startTestServer();
  tenant = await server.createTenant('keys-tenant');
});
after(() => server.close());

test('a created key works at once, and the listing never shows a secret', async () => {
  const created = await server.request('POST', '/v1/api-keys', {
    key: tenant.key,
    body: { name: 'reader', scopes: ['read'] },
  });
  assert.equal(created.status, 201, created.text);
  assert.match(created.body.key, /^smk_/);
  assert.deepEqual(created.body.scopes, ['read']);
  for (const field of ['id', 'name', 'createdAt']) assert.ok(created.body[field], field);

  const used = await server.request('GET', '/v1/collections', { key: created.body.key });
  assert.equal(used.status, 200, used.text);

  const listing = await server.request('GET', '/v1/api-keys', { key: tenant.key });
  assert.equal(listing.status, 200);
  assert.ok(listing.body.items.some((item: { id: string }) => item.id === created.body.id));
  assert.ok(!listing.text.includes(created.body.key), 'the listing holds a secret');
  assert.ok(listing.body.items.every((item: object) => !('key' in item)));
});

test('a revoked key gets 401 at once, even with requests in flight', async () => {
  const victim = await server.createKey(tenant.key, ['read', 'write']);
  assert.equal((await server.request('GET', '/v1/collections', { key: victim.key })).status, 200);

  let revokedAt = Number.POSITIVE_INFINITY;
  let stop = false;
  const outcomes: { sentAt: number; status: number }[] = [];
  const hammer = async () => {
    while (!stop) {
      const sentAt = performance.now();
      const response = await server.request('GET', '/v1/collections', { key: victim.key });
      outcomes.push({ sentAt, status: response.status });
    }
  };
  const workers = Array.from({ length: 4 }, hammer);
  await new Promise((resolve) => setTimeout(resolve, 150));
  const revoke = await server.request('DELETE', `/v1/api-keys/${victim.id}`, { key: tenant.key });
  revokedAt = performance.now();
  assert.equal(revoke.status, 204, revoke.text);
  await new Promise((resolve) => setTimeout(resolve, 150));
  stop = true;
  await Promise.all(workers);

  assert.ok(
    outcomes.every((o) => o.status === 200 || o.status === 401),
    JSON.stringify(outcomes),
  );
  const afterRevoke = outcomes.filter((o) => o.sentAt > revokedAt);
  assert.ok(afterRevoke.length > 0, 'no request was sent after the revoke');
  assert.ok(
    afterRevoke.every((o) => o.status === 401),
    'a request sent after the revoke was let through',
  );

  const listing = await server.request('GET', '/v1/api-keys?limit=1000', { key: tenant.key });
  const row = listing.body.items.find((item: { id: string }) => item.id === victim.id);
  assert.ok(row.revokedAt, 'the listing shows the key as revoked');
  // Revoking again is harmless; an unknown key id is 404.
  assert.equal(
    (await server.request('DELETE', `/v1/api-keys/${victim.id}`, { key: tenant.key })).status,
    204,
  );
  const unknown = await server.request('DELETE', `/v1/api-keys/${crypto.randomUUID()}`, { key: tenant.key });
  assertProblem(unknown, 404, 'api_key_not_found');
});

test('a read key cannot write or mint keys; a write key cannot mint keys', async () => {
  const reader = await server.createKey(tenant.key, ['read']);
  const writer = await server.createKey(tenant.key, ['write']);
  const attempts: [string, string, unknown][] = [
    ['PUT', '/v1/collections/by-reader', {}],
    ['DELETE', '/v1/collections/anything', undefined],
    ['POST', '/v1/api-keys', { name: 'escalate', scopes: ['admin'] }],
    ['GET', '/v1/api-keys', undefined],
  ];
  for (const [method, path, body] of attempts) {
    assertProblem(await server.request(method, path, { key: reader.key, body }), 403, 'forbidden');
  }
  assertProblem(
    await server.request('POST', '/v1/api-keys', { key: writer.key, body: { name: 'x', scopes: ['read'] } }),
    403,
    'forbidden',
  );
  assert.equal((await server.request('GET', '/v1/collections/by-reader', { key: tenant.key })).status, 404);
  // Tenant keys never reach platform routes.
  assertProblem(await server.request('GET', '/v1/tenants', { key: tenant.key }), 403, 'forbidden');
  assertProblem(
    await server.request('POST', '/v1/tenants', { key: tenant.key, body: { slug: 'by-tenant' } }),
    403,
    'forbidden',
  );
});

test('every 401 reads the same, whichever check failed', async () => {
  const revoked = await server.createKey(tenant.key, ['read']);
  await server.request('DELETE', `/v1/api-keys/${revoked.id}`, { key: tenant.key });
  const good = generateKey('tenant');
  const badChecksum = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
  const variants: Record<string, Record<string, string>> = {
    'no header': {},
    'empty header': { authorization: '' },
    'not bearer': { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    'malformed key': { authorization: 'Bearer not-a-key' },
    'bad checksum': { authorization: `Bearer ${badChecksum}` },
    'unknown key': { authorization: `Bearer ${good}` },
    'unknown platform key': { authorization: `Bearer ${generateKey('platform')}` },
    'revoked key': { authorization: `Bearer ${revoked.key}` },
  };
  const bodies = new Set<string>();
  for (const [name, headers] of Object.entries(variants)) {
    for (const path of ['/v1/collections', '/v1/tenants']) {
      const response = await server.request('GET', path, { headers });
      assertProblem(response, 401, 'unauthorized');
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/, name);
      const { instance: _instance, ...rest } = response.body;
      bodies.add(JSON.stringify(rest));
    }
  }
  assert.equal(bodies.size, 1, [...bodies].join('\n'));
});

test('the api_keys table holds SHA-256 hashes only, never a key', async () => {
  const created = await server.createKey(tenant.key, ['read']);
  const secret = created.key.slice(4);
  const rows = await server.db.query<{ row: string; key_hash: Buffer }>(
    'SELECT row_to_json(k)::text AS row, key_hash FROM api_keys k',
  );
  assert.ok(rows.length >= 2);
  for (const { row } of rows) {
    assert.ok(!row.includes(secret.slice(8)), `a key is stored in clear: ${row}`);
  }
  const expected = createHash('sha256').update(created.key).digest();
  assert.ok(rows.some((r) => Buffer.from(r.key_hash).equals(expected)));
  for (const table of ['platform_keys', 'tenants', 'collections']) {
    const dump = await server.db.query<{ t: string }>(
      `SELECT coalesce(json_agg(x)::text, '') AS t FROM ${table} x`,
    );
    assert.ok(!dump[0]!.t.includes(secret.slice(8)), table);
  }
});

test('last_used_at is recorded when a key is used', async () => {
  const created = await server.createKey(tenant.key, ['read']);
  const before = await server.db.query<{ last_used_at: Date | null }>(
    'SELECT last_used_at FROM api_keys WHERE id = $1',
    [created.id],
  );
  assert.equal(before[0]!.last_used_at, null);
  assert.equal((await server.request('GET', '/v1/collections', { key: created.key })).status, 200);
  const usedAt = await eventually(async () => {
    const [row] = await server.db.query<{ last_used_at: Date | null }>(
      'SELECT last_used_at FROM api_keys WHERE id = $1',
      [created.id],
    );
    return row?.last_used_at ?? undefined;
  });
  assert.ok(Date.now() - usedAt.getTime() < 60_000);
  const listing = await server.request('GET', '/v1/api-keys?limit=1000', { key: tenant.key });
  const item = listing.body.items.find((k: { id: string }) => k.id === created.id);
  assert.ok(item.lastUsedAt, 'the listing shows lastUsedAt');
});
