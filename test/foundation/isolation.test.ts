import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { registeredRoutes } from '../../src/app.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { tenantFingerprint } from './fixtures.ts';

/**
 * Tenant B, holding a key with every scope, aims at tenant A's resources through every route the app
 * registers, including routes added after this file was written: B never gets a 2xx, never sees A's
 * data, and A's rows are byte-for-byte the same afterwards.
 */
let server: TestServer;
let a: { id: string; slug: string; key: string };
let b: { id: string; slug: string; key: string };
const marker = `only-in-a-${randomUUID()}`;
/** A's real resource ids, by the path segment that names their kind. */
const known: Record<string, string> = {};

before(async () => {
  // Private feed URLs allowed, so a feed-source body passes its URL check and reaches the tenant check.
  server = await startTestServer({ allowPrivateFeedUrls: true });
  a = await server.createTenant('tenant-a');
  b = await server.createTenant('tenant-b');
  const collection = 'a-products';
  const put = await server.request('PUT', `/v1/collections/${collection}`, {
    key: a.key,
    body: { idField: 'sku' },
  });
  assert.equal(put.status, 201, put.text);
  known.collections = collection;
  known['api-keys'] = (await server.createKey(a.key, ['read'])).id;
  await seedLaterFeatures(collection);
  // B has a collection of its own, so "B sees nothing" is not just "B has nothing".
  await server.request('PUT', '/v1/collections/b-things', { key: b.key, body: {} });
});
after(() => server.close());

/** Best effort: when the records, syncs and snapshots routes exist, give A one of each. */
async function seedLaterFeatures(collection: string): Promise<void> {
  const has = (method: string, url: string) =>
    registeredRoutes(server.app).some((r) => r.method === method && r.url === url);
  const recordRoute = registeredRoutes(server.app).find(
    (r) => r.method === 'PUT' && /\/records\/:[^/]+$/.test(r.url),
  );
  if (recordRoute) {
    const response = await server.request('PUT', `/v1/collections/${collection}/records/r1`, {
      key: a.key,
      body: { sku: 'r1', secret: marker },
    });
    if (response.status < 300) known.records = 'r1';
  }
  if (has('POST', '/v1/collections/:collection/syncs')) {
    const response = await server.request('POST', `/v1/collections/${collection}/syncs?mode=partial`, {
      key: a.key,
      body: [{ sku: 'r2', secret: marker }],
    });
    if (response.status < 300 && typeof response.body?.id === 'string') known.syncs = response.body.id;
  }
  if (has('POST', '/v1/snapshots')) {
    const response = await server.request('POST', '/v1/snapshots', { key: a.key, body: { label: marker } });
    if (response.status < 300 && typeof response.body?.id === 'string') known.snapshots = response.body.id;
  }
  if (has('GET', '/v1/collections/:collection/conflicts')) {
    const response = await server.request('GET', `/v1/collections/${collection}/conflicts`, { key: a.key });
    const first = response.body?.items?.[0]?.id;
    if (typeof first === 'string') known.conflicts = first;
  }
}

/** `/v1/collections/:collection/records/:id` with A's names where known, valid dummies elsewhere. */
function concretePath(url: string): string {
  const parts = url.split('/');
  return parts
    .map((part, i) => {
      if (!part.startsWith(':')) return part;
      const kind = parts[i - 1] ?? '';
      return encodeURIComponent(known[kind] ?? randomUUID());
    })
    .join('/');
}

function allParamsKnown(url: string): boolean {
  const parts = url.split('/');
  return parts.every((part, i) => !part.startsWith(':') || known[parts[i - 1] ?? ''] !== undefined);
}

/** Plausible bodies, so a route reaches its tenant check instead of stopping at validation. */
function bodyFor(method: string, url: string): unknown {
  if (method === 'GET' || method === 'DELETE' || method === 'HEAD') return undefined;
  if (url.endsWith('/syncs')) return [{ id: 'x' }];
  if (url.endsWith('/resolve')) return { resolution: 'take-source' };
  if (url.endsWith('/restore')) return {};
  if (url.endsWith('/source')) return { url: 'http://127.0.0.1:9/feed.json', schedule: '0 * * * *' };
  if (url.includes('/records/')) return { id: 'x', name: 'from b' };
  if (url.startsWith('/v1/snapshots/')) return { label: 'from b' };
  return {};
}

const TENANT_AUTH = new Set(['read', 'write', 'admin']);
const FOUNDATION_ROUTES = new Set([
  'GET /v1/collections/:collection',
  'DELETE /v1/collections/:collection',
  'DELETE /v1/api-keys/:keyId',
]);
/** Routes whose path param is a name in the caller's own namespace: B creating its own is fine. */
const OWN_NAMESPACE_UPSERTS = new Set(['PUT /v1/collections/:collection']);

test('the matrix covers every registered route', () => {
  const routes = registeredRoutes(server.app);
  for (const expected of [
    'GET /v1/collections/:collection',
    'DELETE /v1/api-keys/:keyId',
    'POST /v1/tenants',
  ]) {
    assert.ok(
      routes.some((r) => `${r.method} ${r.url}` === expected),
      `${expected} is not in registeredRoutes()`,
    );
  }
});

test("tenant B's key on tenant A's resources: 404 (or 400), never 2xx, and A unchanged", async (t) => {
  const before = await tenantFingerprint(server.db, a.id);
  const routes = registeredRoutes(server.app).filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
  const failures: string[] = [];
  let checked = 0;
  for (const route of routes) {
    const name = `${route.method} ${route.url}`;
    const hasParams = route.url.includes('/:');
    if (route.auth === 'platform') {
      const response = await server.request(route.method, concretePath(route.url), {
        key: b.key,
        body: bodyFor(route.method, route.url),
      });
      if (response.status !== 403)
        failures.push(`${name}: platform route gave ${response.status} to a tenant key`);
      continue;
    }
    if (!TENANT_AUTH.has(route.auth) || OWN_NAMESPACE_UPSERTS.has(name)) continue;
    if (!hasParams && route.method !== 'GET') continue; // creates in B's own namespace, addresses nothing of A
    const path = concretePath(route.url);
    const variants: Record<string, string>[] = [{}, { 'sync-manager-tenant': a.slug }];
    for (const headers of variants) {
      const response = await server.request(route.method, path, {
        key: b.key,
        body: bodyFor(route.method, route.url),
        headers,
      });
      checked++;
      const label = `${name} as ${path}${'sync-manager-tenant' in headers ? ' (with the tenant header)' : ''}`;
      if (response.text.includes(a.id) || response.text.includes(marker))
        failures.push(`${label}: leaks A's data`);
      if (!hasParams) continue; // a listing of B's own things: only the leak check applies
      // Routes whose bodies this file knows must answer 404; for others, a 400 from validation (of a
      // guessed body or a dummy param) comes before any tenant check and reveals nothing.
      const allowed = FOUNDATION_ROUTES.has(name) && allParamsKnown(route.url) ? [404] : [400, 404];
      if (!allowed.includes(response.status))
        failures.push(`${label}: ${response.status} ${response.text.slice(0, 200)}`);
    }
  }
  t.diagnostic(
    `${checked} requests over ${routes.length} routes; A's real ids for: ${Object.keys(known).join(', ')}`,
  );
  assert.deepEqual(failures, []);
  assert.ok(checked >= 6, `only ${checked} requests were checked`);
  assert.deepEqual(await tenantFingerprint(server.db, a.id), before, "A's rows changed");

  // A's key and collection still work, untouched.
  const mine = await server.request('GET', `/v1/collections/${known.collections}`, { key: a.key });
  assert.equal(mine.status, 200, mine.text);
  assert.equal(mine.body.idField, 'sku');
  const keys = await server.request('GET', '/v1/api-keys', { key: a.key });
  assert.ok(
    keys.body.items.some(
      (k: { id: string; revokedAt: string | null }) => k.id === known['api-keys'] && !k.revokedAt,
    ),
  );
});

test("B's PUT of A's collection name creates B's own, and leaves A's alone", async () => {
  const before = await tenantFingerprint(server.db, a.id);
  const response = await server.request('PUT', `/v1/collections/${known.collections}`, {
    key: b.key,
    body: {},
  });
  assert.equal(response.status, 201, response.text);
  assert.equal(response.body.idField, 'id');
  assert.equal(response.body.counts.records, 0);
  assert.deepEqual(await tenantFingerprint(server.db, a.id), before);
  assert.equal(
    (await server.request('DELETE', `/v1/collections/${known.collections}`, { key: b.key })).status,
    204,
  );
  const mine = await server.request('GET', `/v1/collections/${known.collections}`, { key: a.key });
  assert.equal(mine.body.idField, 'sku');
});

test("B's listings hold none of A's rows", async () => {
  const collections = await server.request('GET', '/v1/collections', { key: b.key });
  assert.deepEqual(
    collections.body.items.map((c: { name: string }) => c.name),
    ['b-things'],
  );
  const keys = await server.request('GET', '/v1/api-keys', { key: b.key });
  assert.ok(keys.body.items.every((k: { id: string }) => k.id !== known['api-keys']));
});

test('inside withTenant, a query with no tenant filter sees only that tenant, and cannot write to another', async () => {
  for (const [tenant, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const seen = await withTenant(server.db, tenant.id, async (tx) => {
      const [role] = await tx.query<{ role: string }>('SELECT current_user AS role');
      const collections = await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM collections');
      const keys = await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM api_keys');
      const tenants = await tx.query<{ id: string }>('SELECT id FROM tenants');
      const explicit = await tx.query('SELECT 1 FROM collections WHERE tenant_id = $1', [other.id]);
      return { role: role!.role, collections, keys, tenants, explicit };
    });
    assert.equal(seen.role, 'sync_manager_app');
    assert.ok(seen.collections.length > 0 && seen.keys.length > 0);
    assert.ok(seen.collections.every((row) => row.tenant_id === tenant.id));
    assert.ok(seen.keys.every((row) => row.tenant_id === tenant.id));
    assert.deepEqual(
      seen.tenants.map((row) => row.id),
      [tenant.id],
    );
    assert.equal(seen.explicit.length, 0);
  }
  const before = await tenantFingerprint(server.db, a.id);
  await assert.rejects(
    withTenant(server.db, b.id, (tx) =>
      tx.query(`INSERT INTO collections (tenant_id, name) VALUES ($1, 'planted')`, [a.id]),
    ),
    /row-level security/,
  );
  const touched = await withTenant(server.db, b.id, (tx) =>
    tx.query(`UPDATE collections SET id_field = 'hijacked' WHERE tenant_id = $1 RETURNING 1`, [a.id]),
  );
  assert.equal(touched.length, 0);
  // A DELETE with no filter reaches B's rows only (rolled back, B's keys are needed later).
  const deleted: { tenant_id: string }[] = [];
  await assert.rejects(
    withTenant(server.db, b.id, async (tx) => {
      deleted.push(...(await tx.query<{ tenant_id: string }>('DELETE FROM api_keys RETURNING tenant_id')));
      throw new Error('roll back');
    }),
    /roll back/,
  );
  assert.ok(deleted.length > 0 && deleted.every((row) => row.tenant_id === b.id));
  assert.deepEqual(await tenantFingerprint(server.db, a.id), before);
});

test('a later transaction on the same connection, without a tenant, sees nothing through the role', async () => {
  await withTenant(server.db, a.id, (tx) => tx.query('SELECT 1'));
  const rows = await server.db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('role', 'sync_manager_app', true)`);
    return tx.query('SELECT 1 FROM collections');
  });
  assert.equal(rows.length, 0);
});
