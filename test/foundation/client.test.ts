// The generated client (client/): its types are the server's document, and it drives the real server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { asIs, createClient, type SyncManagerClient } from '../../client/index.ts';
import { SCHEMA_TYPES_PATH, schemaTypes } from '../../scripts/generate-client.mjs';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let api: SyncManagerClient;
before(async () => {
  server = await startTestServer();
  const tenant = await server.createTenant('client');
  api = createClient(server.url, { apiKey: tenant.key });
});
after(() => server.close());

test('client/schema.d.ts is what the server document generates (else: npm run generate:client)', async () => {
  const expected: string = await schemaTypes(server.app.swagger());
  const committed = readFileSync(SCHEMA_TYPES_PATH, 'utf8');
  assert.ok(
    committed === expected,
    'client/schema.d.ts is stale: run `npm run generate:client` and commit it',
  );
});

test('a sync, a PATCH with If-Match and a conflict resolution through the generated client', async () => {
  const collection = { path: { collection: 'products' } };
  const made = await api.PUT('/v1/collections/{collection}', {
    params: collection,
    body: { conflictPolicy: 'keep-manual' },
  });
  assert.equal(made.response.status, 201);
  assert.equal(made.data?.name, 'products');

  const first = await api.POST('/v1/collections/{collection}/syncs', {
    params: collection,
    body: [{ id: 'p1', name: 'Lamp', price: 5 }],
  });
  assert.equal(first.data?.status, 'succeeded', JSON.stringify(first.error));
  assert.equal(first.data?.counts.created, 1);

  const record = { path: { collection: 'products', id: 'p1' } };
  const read = await api.GET('/v1/collections/{collection}/records/{id}', { params: record });
  const etag = read.response.headers.get('etag')!;
  assert.deepEqual(read.data, { id: 'p1', name: 'Lamp', price: 5 });

  const patched = await api.PATCH('/v1/collections/{collection}/records/{id}', {
    params: { ...record, header: { 'if-match': etag } },
    body: { price: 4 },
    headers: { 'content-type': 'application/merge-patch+json' },
  });
  assert.equal(patched.response.status, 200, JSON.stringify(patched.error));
  assert.equal(patched.data?.price, 4);
  const stale = await api.PATCH('/v1/collections/{collection}/records/{id}', {
    params: { ...record, header: { 'if-match': etag } },
    body: [{ op: 'replace', path: '/price', value: 3 }],
    headers: { 'content-type': 'application/json-patch+json' },
  });
  assert.equal(stale.response.status, 412);
  assert.equal(stale.error?.code, 'precondition_failed');
  assert.match(stale.response.headers.get('content-type') ?? '', /^application\/problem\+json/);

  // Upstream moves the price under the override, as NDJSON: a conflict.
  const moved = await api.POST('/v1/collections/{collection}/syncs', {
    params: collection,
    body: '{"id":"p1","name":"Lamp","price":6}\n',
    bodySerializer: asIs,
    headers: { 'content-type': 'application/x-ndjson' },
  });
  assert.equal(moved.data?.counts.conflicts, 1, JSON.stringify(moved.error));
  const open = await api.GET('/v1/collections/{collection}/conflicts', { params: collection });
  const conflict = open.data?.items[0];
  assert.equal(conflict?.path, '/price');
  const resolved = await api.POST('/v1/collections/{collection}/conflicts/{conflictId}/resolve', {
    params: { path: { collection: 'products', conflictId: conflict!.id } },
    body: { resolution: 'take-source' },
  });
  assert.equal(resolved.data?.status, 'resolved', JSON.stringify(resolved.error));
  const after = await api.GET('/v1/collections/{collection}/records/{id}', { params: record });
  assert.equal(after.data?.price, 6);
});
