// Declared indexes: built in the background without failing writes, reported in the collection,
// finished after an interrupted build, serving filters and sorts; index_required without one.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../../src/app.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { type Ctx, sync } from '../sync/sync-helpers.ts';

let server: TestServer;
let ctx: Ctx;
let tenantId: string;
before(async () => {
  server = await startTestServer({ unindexedQueryLimit: 50 });
  const tenant = await server.createTenant('shop');
  tenantId = tenant.id;
  ctx = { server, key: tenant.key };
});
after(() => server.close());

const feed = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `r${String(i).padStart(5, '0')}`,
    price: i % 97,
    name: `n${i % 13}`,
  }));

const put = (collection: string, body: unknown, key = ctx.key) =>
  server.request('PUT', `/v1/collections/${collection}`, { key, body });

/** The collection's index states once none is building (polled: a build takes what it takes). */
async function settled(collection: string, key = ctx.key) {
  for (;;) {
    const response = await server.request('GET', `/v1/collections/${collection}`, { key });
    assert.equal(response.status, 200, response.text);
    const states: Array<{ field: string; state: string }> = response.body.indexStates;
    if (states.every((s) => s.state !== 'building')) return states;
    await sleep(20);
  }
}

const list = (collection: string, query: string) =>
  server.request('GET', `/v1/collections/${collection}/records?${query}`, { key: ctx.key });

const indexNames = async () =>
  (
    await server.db.query<{ name: string }>(
      `SELECT relname AS name FROM pg_class WHERE relname LIKE 'records_field_%' ORDER BY relname`,
    )
  ).map((row) => row.name);

test('past the unindexed limit a filter or sort no index serves is 422 index_required; an index serves it', async () => {
  assert.equal((await put('big', {})).status, 201);
  assert.equal((await sync(ctx, 'big', feed(120))).status, 200);
  const filter = encodeURIComponent('{"price":{"_eq":5}}');
  const unserved = await list('big', `filter=${filter}`);
  assert.equal(unserved.status, 422, unserved.text);
  assert.equal(unserved.body.code, 'index_required');
  assert.equal((await list('big', 'sort=-price')).status, 422);
  // Record-state filters have indexes of their own.
  assert.equal((await list('big', 'overridden=true')).status, 200);

  const declared = await put('big', { indexes: ['price'] });
  assert.equal(declared.status, 200, declared.text);
  assert.deepEqual(declared.body.indexes, ['price']);
  assert.deepEqual(await settled('big'), [{ field: 'price', state: 'ready', error: null }]);
  const served = await list('big', `filter=${filter}`);
  assert.equal(served.status, 200, served.text);
  assert.deepEqual(
    served.body.items.map((i: { id: string }) => i.id),
    ['r00005', 'r00102'],
  );
  const sorted = await list('big', 'sort=-price&limit=3');
  assert.equal(sorted.status, 200, sorted.text);
  assert.deepEqual(
    sorted.body.items.map((i: { price: number }) => i.price),
    [96, 95, 94],
  );
  // A filter on another field beside an indexed one is served; on that field alone it is not.
  const both = encodeURIComponent('{"price":{"_lt":3},"name":{"_eq":"n1"}}');
  assert.equal((await list('big', `filter=${both}`)).status, 200);
  assert.equal((await list('big', `filter=${encodeURIComponent('{"name":{"_eq":"n1"}}')}`)).status, 422);
});

test('the planner takes the declared index for the sort and the filter', async () => {
  const [row] = await server.db.query<{ id: string }>(
    `SELECT i.id FROM collection_indexes i JOIN collections c ON c.id = i.collection_id WHERE c.name = 'big'`,
  );
  const name = `records_field_${row!.id}`;
  const { parseRecordQuery, pageStatement } = await import('../../src/features/records/record-query.ts');
  const [collection] = await server.db.query<{ id: string }>(`SELECT id FROM collections WHERE name = 'big'`);
  const target = { tenantId, collectionId: collection!.id, idField: 'id' };
  for (const query of [{ sort: 'price' }, { filter: '{"price":{"_eq":5}}' }]) {
    const statement = pageStatement(target, parseRecordQuery(query)!, null, 100);
    const plan = await server.db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      await tx.query('SET LOCAL enable_sort = off');
      return tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement.text}`, statement.values);
    });
    const text = plan.map((line) => line['QUERY PLAN']).join('\n');
    assert.match(text, new RegExp(name), text);
  }
});

test('an index builds while PATCHes run: none fails', async () => {
  assert.equal((await put('busy', {})).status, 201);
  assert.equal((await sync(ctx, 'busy', feed(3000))).status, 200);
  let stop = false;
  let patched = 0;
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      const id = `r${String((i * 37) % 3000).padStart(5, '0')}`;
      const response = await server.request('PATCH', `/v1/collections/busy/records/${id}`, {
        key: ctx.key,
        body: { note: i },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      assert.equal(response.status, 200, response.text);
      patched++;
    }
  })();
  while (patched === 0) await sleep(5);
  const declared = await put('busy', { indexes: ['price', 'name'] });
  assert.equal(declared.status, 200, declared.text);
  for (;;) {
    const response = await server.request('GET', '/v1/collections/busy', { key: ctx.key });
    const states: Array<{ state: string }> = response.body.indexStates;
    if (states.every((s) => s.state === 'ready')) break;
    await sleep(5);
  }
  // The writer keeps going across the build (before, during, after): every PATCH succeeded.
  const atReady = patched;
  while (patched < atReady + 3) await sleep(5);
  stop = true;
  await writer;
  assert.equal(
    (await list('busy', `filter=${encodeURIComponent('{"name":{"_eq":"n3"}}')}&limit=1`)).status,
    200,
  );
});

test('names come from ids: the same collection and field in two tenants are two indexes; dropping and deleting remove them', async () => {
  const other = await server.createTenant('other');
  assert.equal((await put('big', { indexes: ['price'] }, other.key)).status, 201);
  await settled('big', other.key);
  const names = await indexNames();
  assert.equal(new Set(names).size, names.length);
  const before = names.length;
  assert.equal((await put('big', {}, other.key)).status, 200);
  await settled('big', other.key);
  // The drop runs in the background too: wait for the builder to finish with it.
  while ((await indexNames()).length !== before - 1) await sleep(20);
  const deleted = await server.request('DELETE', '/v1/collections/busy', { key: ctx.key });
  assert.equal(deleted.status, 204);
  while ((await indexNames()).length !== before - 3) await sleep(20);
});

test('a build interrupted by a killed server is finished (or its invalid index replaced) by the next start', async () => {
  const [row] = await server.db.query<{ id: string }>(
    `SELECT i.id FROM collection_indexes i JOIN collections c ON c.id = i.collection_id
      WHERE c.name = 'big' AND c.tenant_id = $1`,
    [tenantId],
  );
  const name = `records_field_${row!.id}`;
  // What a kill leaves: the row still 'building' and, on PostgreSQL, an INVALID index of that name
  // (made here by a concurrent unique build that fails on duplicates).
  await server.db.exec(`DROP INDEX IF EXISTS ${name}`);
  await server.db.query(`UPDATE collection_indexes SET state = 'building' WHERE id = $1`, [row!.id]);
  if (server.db.kind === 'postgres') {
    await server.db
      .exec(`CREATE UNIQUE INDEX CONCURRENTLY ${name} ON records (collection_id)`)
      .catch(() => {});
    const [invalid] = await server.db.query<{ valid: boolean }>(
      `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = $1::regclass`,
      [name],
    );
    assert.equal(invalid!.valid, false);
  }
  const states = await server.request('GET', '/v1/collections/big', { key: ctx.key });
  assert.deepEqual(states.body.indexStates, [{ field: 'price', state: 'building', error: null }]);
  // The next start, on the same database.
  const next = await buildApp({ config: server.config, db: server.db, logRequests: false });
  await next.ready();
  for (;;) {
    const [state] = await server.db.query<{ state: string }>(
      `SELECT state FROM collection_indexes WHERE id = $1`,
      [row!.id],
    );
    if (state!.state !== 'building') break;
    await sleep(20);
  }
  await next.close();
  const [rebuilt] = await server.db.query<{ valid: boolean; def: string }>(
    `SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE indexrelid = $1::regclass`,
    [name],
  );
  assert.equal(rebuilt!.valid, true);
  assert.match(rebuilt!.def, /effective_value|CASE/);
  assert.equal((await list('big', 'sort=price&limit=1')).status, 200);
});

test('a listing never trusts a collection it found before: dropped index → 422, re-made collection → its own records, deleted → 404', async () => {
  const filter = `filter=${encodeURIComponent('{"price":{"_eq":5}}')}`;
  const ids = async (query: string) => {
    const response = await list('kept', query);
    assert.equal(response.status, 200, response.text);
    return response.body.items.map((i: { id: string }) => i.id);
  };
  assert.equal((await put('kept', { indexes: ['price'] })).status, 201);
  assert.equal((await sync(ctx, 'kept', feed(120))).status, 200);
  await settled('kept');
  assert.deepEqual(await ids(filter), ['r00005', 'r00102']);
  assert.deepEqual(await ids(`filter=${encodeURIComponent('{"price":{"_eq":500}}')}`), []);

  // The index goes: the same filter is refused, not run as a scan.
  assert.equal((await put('kept', {})).status, 200);
  await settled('kept');
  const unserved = await list('kept', filter);
  assert.equal(unserved.status, 422, unserved.text);
  assert.equal(unserved.body.code, 'index_required');
  assert.equal((await put('kept', { indexes: ['price'] })).status, 200);
  await settled('kept');
  assert.deepEqual(await ids(filter), ['r00005', 'r00102']);

  // Deleted and made again under the same name, with the same index: the new records only.
  assert.equal((await server.request('DELETE', '/v1/collections/kept', { key: ctx.key })).status, 204);
  assert.equal((await put('kept', { indexes: ['price'] })).status, 201);
  assert.equal((await sync(ctx, 'kept', [{ id: 'new', price: 5, name: 'x' }])).status, 200);
  await settled('kept');
  assert.deepEqual(await ids(filter), ['new']);

  assert.equal((await server.request('DELETE', '/v1/collections/kept', { key: ctx.key })).status, 204);
  const gone = await list('kept', filter);
  assert.equal(gone.status, 404, gone.text);
  assert.equal(gone.body.code, 'collection_not_found');
});
