// JSON Schema per collection: checked when saved, in syncs (refuse or skip), in edits, and on demand.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { type Ctx, makeCollection, sync } from '../sync/sync-helpers.ts';

let server: TestServer;
let ctx: Ctx;
before(async () => {
  server = await startTestServer();
  const tenant = await server.createTenant('shop');
  ctx = { server, key: tenant.key };
});
after(() => server.close());

const SCHEMA = {
  type: 'object',
  required: ['id', 'name'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, price: { type: 'number', minimum: 0 } },
};

const put = (collection: string, body: unknown) =>
  server.request('PUT', `/v1/collections/${collection}`, { key: ctx.key, body });
const ids = async (collection: string) => {
  const response = await server.request('GET', `/v1/collections/${collection}/records`, { key: ctx.key });
  return response.body.items.map((item: { id: string }) => item.id);
};
const MERGE = { 'content-type': 'application/merge-patch+json' };

test('an invalid schema is a 422 when saved, and changes nothing', async () => {
  const bad = await put('strict', { schema: { type: 'object', properties: { a: { type: 'nope' } } } });
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.body.code, 'invalid_schema');
  const missing = await server.request('GET', '/v1/collections/strict', { key: ctx.key });
  assert.equal(missing.status, 404);
  const badRef = await put('strict', { schema: { $ref: '#/$defs/none' } });
  assert.equal(badRef.status, 422, badRef.text);
  const good = await put('strict', { schema: SCHEMA });
  assert.equal(good.status, 201, good.text);
  assert.deepEqual(good.body.schema, SCHEMA);
});

test('a sync refuses a feed with invalid rows at the start and the end, naming row, id and pointer', async () => {
  const feed = [
    { id: 'bad1', name: 'A', price: '12' },
    { id: 'ok1', name: 'B', price: 1 },
    { id: 'ok2', name: 'C' },
    { id: 'bad2', price: -1 },
  ];
  const refused = await sync(ctx, 'strict', feed);
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.body.code, 'feed_invalid');
  const errors = refused.body.errors.map((e: Record<string, unknown>) => [e.code, e.row, e.id, e.pointer]);
  assert.deepEqual(errors, [
    ['schema_invalid', 1, 'bad1', '/price'],
    ['schema_invalid', 4, 'bad2', '/name'],
    ['schema_invalid', 4, 'bad2', '/price'],
  ]);
  assert.deepEqual(await ids('strict'), []);

  const skipped = await sync(ctx, 'strict', feed, 'invalidRecords=skip');
  assert.equal(skipped.status, 200, skipped.text);
  assert.equal(skipped.body.counts.skipped, 2);
  assert.equal(skipped.body.counts.created, 2);
  assert.deepEqual(
    skipped.body.errors.map((e: Record<string, unknown>) => [e.code, e.row, e.id]),
    [
      ['schema_invalid', 1, 'bad1'],
      ['schema_invalid', 4, 'bad2'],
      ['schema_invalid', 4, 'bad2'],
    ],
  );
  assert.deepEqual(await ids('strict'), ['ok1', 'ok2']);
  // A skipped row of a stored record leaves it as it was, even in a full sync (it is not "gone").
  const again = await sync(
    ctx,
    'strict',
    [
      { id: 'ok1', name: 'B', price: 'x' },
      { id: 'ok2', name: 'C' },
    ],
    'invalidRecords=skip',
  );
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.counts.deleted, 0);
  const ok1 = await server.request('GET', '/v1/collections/strict/records/ok1', { key: ctx.key });
  assert.deepEqual(ok1.body, { id: 'ok1', name: 'B', price: 1 });
});

test('a PUT, PATCH or revert that would leave an invalid record is a 422 naming the pointer', async () => {
  const patch = await server.request('PATCH', '/v1/collections/strict/records/ok1', {
    key: ctx.key,
    body: { price: 'free' },
    headers: MERGE,
  });
  assert.equal(patch.status, 422, patch.text);
  assert.equal(patch.body.code, 'schema_violation');
  assert.equal(patch.body.errors[0].pointer, '/price');
  const putBad = await server.request('PUT', '/v1/collections/strict/records/new', {
    key: ctx.key,
    body: { price: 3 },
  });
  assert.equal(putBad.status, 422, putBad.text);
  assert.equal(putBad.body.errors[0].pointer, '/name');
  const fine = await server.request('PATCH', '/v1/collections/strict/records/ok1', {
    key: ctx.key,
    body: { price: 2 },
    headers: MERGE,
  });
  assert.equal(fine.status, 200, fine.text);
  const ok1 = await server.request('GET', '/v1/collections/strict/records/ok1', { key: ctx.key });
  assert.deepEqual(ok1.body, { id: 'ok1', name: 'B', price: 2 });

  // Without a schema, a source value that a later schema refuses; an override over it; then the schema.
  await makeCollection(ctx, 'loose');
  assert.equal((await sync(ctx, 'loose', [{ id: 'r', name: 'R', price: 'cheap' }])).status, 200);
  const cover = await server.request('PATCH', '/v1/collections/loose/records/r', {
    key: ctx.key,
    body: { price: 5 },
    headers: MERGE,
  });
  assert.equal(cover.status, 200, cover.text);
  assert.equal((await put('loose', { schema: SCHEMA })).status, 200);
  const revert = await server.request('DELETE', '/v1/collections/loose/records/r/overrides?path=/price', {
    key: ctx.key,
  });
  assert.equal(revert.status, 422, revert.text);
  assert.equal(revert.body.errors[0].pointer, '/price');
});

test('changing the schema rewrites nothing; validate reports the records that do not fit', async () => {
  await makeCollection(ctx, 'later');
  const feed = [
    { id: 'a', name: 'A', price: 1 },
    { id: 'b', name: 'B', price: '2' },
    { id: 'c', price: 3 },
  ];
  assert.equal((await sync(ctx, 'later', feed)).status, 200);
  const none = await server.request('GET', '/v1/collections/later/validate', { key: ctx.key });
  assert.equal(none.status, 200, none.text);
  assert.deepEqual(none.body, { schema: 'none', checked: 3, invalidCount: 0, invalid: [] });
  const tried = await server.request('POST', '/v1/collections/later/validate', {
    key: ctx.key,
    body: { schema: SCHEMA },
  });
  assert.equal(tried.status, 200, tried.text);
  assert.equal(tried.body.schema, 'body');
  assert.deepEqual(
    tried.body.invalid.map((r: { id: string; errors: Array<{ pointer: string }> }) => [
      r.id,
      r.errors.map((e) => e.pointer),
    ]),
    [
      ['b', ['/price']],
      ['c', ['/name']],
    ],
  );
  const badSchema = await server.request('POST', '/v1/collections/later/validate', {
    key: ctx.key,
    body: { schema: { type: 12 } },
  });
  assert.equal(badSchema.status, 422, badSchema.text);
  assert.equal((await put('later', { schema: SCHEMA })).status, 200);
  assert.deepEqual(await ids('later'), ['a', 'b', 'c']);
  const stored = await server.request('GET', '/v1/collections/later/validate?limit=1', { key: ctx.key });
  assert.equal(stored.body.schema, 'stored');
  assert.equal(stored.body.invalidCount, 2);
  assert.equal(stored.body.invalid.length, 1);
});
