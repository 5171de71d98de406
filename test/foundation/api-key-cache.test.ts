// API keys are trusted for KEY_CACHE_MS after a lookup (src/features/api-keys/api-keys.service.ts):
// a revoke through the same process takes effect at once; another process on the same database (here
// a second ApiKeyService with its own clock) stops accepting the key once that time has passed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiKeyService, KEY_CACHE_MS } from '../../src/features/api-keys/api-keys.service.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let tenant: { id: string; slug: string; key: string };
before(async () => {
  server = await startTestServer();
  tenant = await server.createTenant('cache-tenant');
});
after(() => server.close());

test('a key revoked elsewhere stops working here once the cache time has passed, not before', async () => {
  const victim = await server.createKey(tenant.key, ['read']);
  let now = 1_000_000;
  const elsewhere = new ApiKeyService(server.db, [], () => now);
  const first = await elsewhere.authenticate(victim.key);
  assert.equal(first?.kind, 'tenant');

  const revoked = await server.request('DELETE', `/v1/api-keys/${victim.id}`, { key: tenant.key });
  assert.equal(revoked.status, 204, revoked.text);
  // The process that revoked it refuses it at once.
  assert.equal((await server.request('GET', '/v1/collections', { key: victim.key })).status, 401);

  now += KEY_CACHE_MS - 1;
  assert.equal((await elsewhere.authenticate(victim.key))?.kind, 'tenant', 'still trusted inside the window');
  now += 2;
  assert.equal(await elsewhere.authenticate(victim.key), undefined, 'refused once the window has passed');
  now += 10 * KEY_CACHE_MS;
  assert.equal(await elsewhere.authenticate(victim.key), undefined);
});

test('an unknown key is never cached: it is refused, and a key created later is accepted at once', async () => {
  let now = 5_000_000;
  const keys = new ApiKeyService(server.db, [], () => now);
  assert.equal(await keys.authenticate('smk_not-a-real-key'), undefined);
  const created = await server.createKey(tenant.key, ['read', 'write']);
  const principal = await keys.authenticate(created.key);
  assert.equal(principal?.kind, 'tenant');
  assert.deepEqual(principal?.kind === 'tenant' ? [...principal.scopes].sort() : [], ['read', 'write']);
  now += 1;
  assert.equal(await keys.authenticate(created.key), principal, 'served from the cache');
});
