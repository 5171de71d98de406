// GET …/records with filter, sort, fields and the record-state filters (docs/querying.md).
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
  await makeCollection(ctx, 'things');
  const feed = [
    { id: 'a', price: 10, category: 'x', tags: ['red', 'blue'], seo: { title: 'Lamp shade' }, n: null },
    { id: 'b', price: '10', category: 'y', tags: ['red'], seo: { title: 'Chair' } },
    { id: 'c', price: 25.5, category: 'x', tags: [], name: 'Redwood', seo: { title: 'Lamp' } },
    { id: 'd', price: 5, category: null, tags: 'red-ish', nested: [{ k: 1 }] },
    { id: 'e' },
  ];
  const synced = await sync(ctx, 'things', feed);
  assert.equal(synced.status, 200, synced.text);
});
after(() => server.close());

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON
async function list(collection: string, query: Record<string, string>): Promise<any> {
  const search = new URLSearchParams(query).toString();
  return server.request('GET', `/v1/collections/${collection}/records?${search}`, { key: ctx.key });
}

async function ids(filter: unknown, extra: Record<string, string> = {}): Promise<string[]> {
  const response = await list('things', { filter: JSON.stringify(filter), ...extra });
  assert.equal(response.status, 200, response.text);
  return response.body.items.map((item: { id: string }) => item.id);
}

test('_eq and _neq compare JSON types: a number never equals a string; 10 equals 10.0', async () => {
  assert.deepEqual(await ids({ price: { _eq: 10 } }), ['a']);
  assert.deepEqual(await ids({ price: { _eq: 10.0 } }), ['a']);
  assert.deepEqual(await ids({ price: { _eq: '10' } }), ['b']);
  assert.deepEqual(await ids({ price: { _neq: 10 } }), ['b', 'c', 'd', 'e']);
  assert.deepEqual(await ids({ tags: { _eq: ['red'] } }), ['b']);
  assert.deepEqual(await ids({ seo: { _eq: { title: 'Chair' } } }), ['b']);
});

test('null vs missing: _eq null is JSON null only; _null takes null or missing; _nnull neither', async () => {
  assert.deepEqual(await ids({ n: { _eq: null } }), ['a']);
  assert.deepEqual(await ids({ category: { _eq: null } }), ['d']);
  assert.deepEqual(await ids({ category: { _null: true } }), ['d', 'e']);
  assert.deepEqual(await ids({ category: { _nnull: true } }), ['a', 'b', 'c']);
  assert.deepEqual(await ids({ category: { _null: false } }), ['a', 'b', 'c']);
});

test('ranges compare within the operand type: numbers with numbers, strings with strings', async () => {
  assert.deepEqual(await ids({ price: { _lt: 20 } }), ['a', 'd']);
  assert.deepEqual(await ids({ price: { _lte: 10 } }), ['a', 'd']);
  assert.deepEqual(await ids({ price: { _gt: 10 } }), ['c']);
  assert.deepEqual(await ids({ price: { _gte: 5, _lt: 25.5 } }), ['a', 'd']);
  assert.deepEqual(await ids({ price: { _gte: '1' } }), ['b']);
  assert.deepEqual(await ids({ category: { _gt: 'x' } }), ['b']);
});

test('_in and _nin match by JSON equality; _nin takes records without the field', async () => {
  assert.deepEqual(await ids({ price: { _in: [10, 5] } }), ['a', 'd']);
  assert.deepEqual(await ids({ price: { _in: ['10', 25.5] } }), ['b', 'c']);
  assert.deepEqual(await ids({ price: { _in: [] } }), []);
  assert.deepEqual(await ids({ category: { _nin: ['x', null] } }), ['b', 'e']);
});

test('_contains: a substring of a string, an element of an array; _starts_with on strings', async () => {
  assert.deepEqual(await ids({ tags: { _contains: 'red' } }), ['a', 'b', 'd']);
  assert.deepEqual(await ids({ tags: { _contains: 'blue' } }), ['a']);
  assert.deepEqual(await ids({ name: { _contains: 'wood' } }), ['c']);
  assert.deepEqual(await ids({ nested: { _contains: { k: 1 } } }), ['d']);
  assert.deepEqual(await ids({ nested: { _contains: { k: '1' } } }), []);
  assert.deepEqual(await ids({ 'seo.title': { _starts_with: 'Lamp' } }), ['a', 'c']);
  assert.deepEqual(await ids({ price: { _starts_with: '1' } }), ['b']);
});

test('dotted fields, array indexes, _and and _or', async () => {
  assert.deepEqual(await ids({ 'seo.title': { _eq: 'Lamp' } }), ['c']);
  assert.deepEqual(await ids({ 'tags.0': { _eq: 'red' } }), ['a', 'b']);
  assert.deepEqual(await ids({ 'nested.0.k': { _eq: 1 } }), ['d']);
  assert.deepEqual(await ids({ _or: [{ price: { _eq: 5 } }, { category: { _eq: 'y' } }] }), ['b', 'd']);
  assert.deepEqual(
    await ids({
      _and: [{ category: { _eq: 'x' } }, { _or: [{ price: { _lt: 20 } }, { name: { _nnull: true } }] }],
    }),
    ['a', 'c'],
  );
  assert.deepEqual(await ids({ category: { _eq: 'x' }, price: { _gt: 20 } }), ['c']);
});

test('sort ascending and descending: ties by id, records without the field last; fields projects', async () => {
  const byPrice = await list('things', { sort: 'price', filter: '{"price":{"_nnull":true}}' });
  // jsonb orders strings before numbers.
  assert.deepEqual(
    byPrice.body.items.map((i: { id: string }) => i.id),
    ['b', 'd', 'a', 'c'],
  );
  const all = await list('things', { sort: '-price' });
  assert.deepEqual(
    all.body.items.map((i: { id: string }) => i.id),
    ['c', 'a', 'd', 'b', 'e'],
  );
  const projected = await list('things', { sort: 'category', fields: 'price,seo' });
  assert.equal(projected.status, 200, projected.text);
  assert.deepEqual(projected.body.items, [
    { id: 'd', price: 5 },
    { id: 'a', price: 10, seo: { title: 'Lamp shade' } },
    { id: 'c', price: 25.5, seo: { title: 'Lamp' } },
    { id: 'b', price: '10', seo: { title: 'Chair' } },
    { id: 'e' },
  ]);
});

test('sorted pages are stable while another client writes: none skipped, none repeated', async () => {
  await makeCollection(ctx, 'paged');
  const count = 57;
  const feed = Array.from({ length: count }, (_, i) => ({
    id: `p${String(i).padStart(2, '0')}`,
    ...(i % 10 === 0 ? {} : { rank: i % 7 }),
    name: 'n',
  }));
  assert.equal((await sync(ctx, 'paged', feed)).status, 200);
  for (const sort of ['rank', '-rank']) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let written = 0;
    for (let page = 0; page < 100; page++) {
      const query: Record<string, string> = { sort, limit: '4' };
      if (cursor) query.cursor = cursor;
      const response = await list('paged', query);
      assert.equal(response.status, 200, response.text);
      seen.push(...response.body.items.map((i: { id: string }) => i.id));
      cursor = response.body.nextCursor;
      if (!cursor) break;
      // Meanwhile: an edit of a record (not its sort field) and a new record, ahead and behind the cursor.
      const target = feed[(page * 13) % count]!.id;
      const patched = await server.request('PATCH', `/v1/collections/paged/records/${target}`, {
        key: ctx.key,
        body: { name: `edited ${page}` },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      assert.equal(patched.status, 200, patched.text);
      const put = await server.request('PUT', `/v1/collections/paged/records/${sort}-new-${page}`, {
        key: ctx.key,
        body: { rank: page % 7 },
      });
      assert.equal(put.status, 201, put.text);
      written++;
    }
    assert.ok(written > 5);
    assert.equal(new Set(seen).size, seen.length, `no record repeated (${sort})`);
    for (const { id } of feed) assert.ok(seen.includes(id), `${id} seen (${sort})`);
  }
});

test('record-state filters after syncs, edits and conflicts', async () => {
  await makeCollection(ctx, 'states', { deletePolicy: 'keep' });
  const first = [
    { id: 's1', price: 1 },
    { id: 's2', price: 2 },
    { id: 's3', price: 3 },
    { id: 's4', price: 4 },
  ];
  assert.equal((await sync(ctx, 'states', first)).status, 200);
  const patch = (id: string, body: unknown) =>
    server.request('PATCH', `/v1/collections/states/records/${id}`, {
      key: ctx.key,
      body,
      headers: { 'content-type': 'application/merge-patch+json' },
    });
  assert.equal((await patch('s1', { price: 10 })).status, 200);
  assert.equal((await patch('s2', { note: 'x' })).status, 200);
  const removed = await server.request('DELETE', '/v1/collections/states/records/s3', { key: ctx.key });
  assert.ok(removed.status < 300, removed.text);
  // s1's overridden price moves upstream: a conflict; s4 is gone upstream (kept, policy keep).
  const second = await sync(ctx, 'states', [
    { id: 's1', price: 11 },
    { id: 's2', price: 2 },
    { id: 's3', price: 3 },
  ]);
  assert.equal(second.status, 200, second.text);
  const state = async (query: Record<string, string>) => {
    const response = await list('states', query);
    assert.equal(response.status, 200, response.text);
    return response.body.items.map((i: { id: string }) => i.id);
  };
  assert.deepEqual(await state({ overridden: 'true' }), ['s1', 's2']);
  assert.deepEqual(await state({ overridden: 'false' }), ['s4']);
  assert.deepEqual(await state({ conflicts: 'open' }), ['s1']);
  assert.deepEqual(await state({ upstreamGone: 'true' }), ['s4']);
  assert.deepEqual(await state({ deleted: 'true' }), ['s3']);
  assert.deepEqual(await state({ overridden: 'true', filter: '{"price":{"_eq":10}}' }), ['s1']);
});

test('bad filters, sorts and cursors are 400 problem+json naming the part; nothing else runs', async () => {
  const bad = async (query: Record<string, string>, part: string | null, code = 'invalid_filter') => {
    const response = await list('things', query);
    assert.equal(response.status, 400, `${JSON.stringify(query).slice(0, 200)}: ${response.text}`);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(response.body.code, code);
    if (part !== null) assert.equal(response.body.part, part);
  };
  await bad({ filter: '{"price":' }, 'filter');
  await bad({ filter: '[1]' }, 'filter');
  await bad({ filter: '{}' }, 'filter');
  await bad({ filter: '{"price":{"_like":"%"}}' }, 'filter.price._like');
  await bad({ filter: '{"_not":{}}' }, 'filter._not');
  await bad({ filter: '{"price":10}' }, 'filter.price');
  await bad({ filter: '{"price":{"_lt":true}}' }, 'filter.price._lt');
  await bad({ filter: '{"price":{"_in":5}}' }, 'filter.price._in');
  await bad({ filter: '{"price":{"_null":"yes"}}' }, 'filter.price._null');
  await bad(
    { filter: `{"price'); DROP TABLE records; --":{"_eq":1}}` },
    "filter.price'); DROP TABLE records; --",
  );
  await bad({ filter: '{"a..b":{"_eq":1}}' }, 'filter.a..b');
  await bad({ sort: 'price desc' }, 'sort');
  await bad({ sort: '' }, 'sort');
  await bad({ fields: 'seo.title' }, 'fields');
  let nested: unknown = { price: { _eq: 1 } };
  for (let i = 0; i < 10; i++) nested = { _and: [nested] };
  await bad({ filter: JSON.stringify(nested) }, null);
  const many = { _or: Array.from({ length: 101 }, (_, i) => ({ price: { _eq: i } })) };
  await bad({ filter: JSON.stringify(many) }, null);
  await bad({ sort: 'price', cursor: 'AAAA' }, null, 'invalid_cursor');
  const otherSort = await list('things', { sort: 'category', limit: '1' });
  await bad({ sort: 'price', cursor: otherSort.body.nextCursor }, null, 'invalid_cursor');
  await bad({ filter: '{"price":{"_eq":1}}', asOf: new Date().toISOString() }, 'asOf');
  // 10,000 clauses: refused before or at the filter parser, never a 5xx.
  const huge = { _or: Array.from({ length: 10_000 }, () => ({ p: { _eq: 1 } })) };
  const response = await list('things', { filter: JSON.stringify(huge) });
  assert.ok(response.status >= 400 && response.status < 500, String(response.status));
  const count = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM records`);
  assert.ok(count[0]!.n > 0, 'records still there');
});

test("a filtered listing (run outside row-level security) shows only the caller's tenant", async () => {
  const other = await server.createTenant('other');
  const mine = await server.request(
    'GET',
    `/v1/collections/things/records?filter=${encodeURIComponent('{"price":{"_nnull":true}}')}`,
    { key: other.key },
  );
  assert.equal(mine.status, 404, mine.text);
  assert.equal(
    (await server.request('PUT', '/v1/collections/things', { key: other.key, body: {} })).status,
    201,
  );
  const made = await server.request('PUT', '/v1/collections/things/records/z', {
    key: other.key,
    body: { price: 1 },
  });
  assert.equal(made.status, 201, made.text);
  for (const query of [
    'sort=price',
    `filter=${encodeURIComponent('{"price":{"_gte":0}}')}`,
    'overridden=true',
  ]) {
    const response = await server.request('GET', `/v1/collections/things/records?${query}`, {
      key: other.key,
    });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(
      response.body.items.map((i: { id: string }) => i.id),
      ['z'],
      query,
    );
  }
});
