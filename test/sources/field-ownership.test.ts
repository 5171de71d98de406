import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Ctx, makeCollection, stored, sync, tenantServer } from '../sync/sync-helpers.ts';

const fixture = tenantServer();

async function defineSource(ctx: Ctx, collection: string, name: string, body: Record<string, unknown>) {
  const response = await ctx.server.request('PUT', `/v1/collections/${collection}/sources/${name}`, {
    key: ctx.key,
    body,
  });
  assert.ok(response.status === 200 || response.status === 201, response.text);
  return response;
}

/** ERP owns names and prices, a supplier the stock, a scraper the description. */
async function threeSources(ctx: Ctx, collection: string, settings: Record<string, unknown> = {}) {
  await makeCollection(ctx, collection, settings);
  await defineSource(ctx, collection, 'erp', { fields: ['/name', '/price'], priority: 10 });
  await defineSource(ctx, collection, 'supplier', { fields: ['/stock'], priority: 5 });
  await defineSource(ctx, collection, 'scraper', {
    fields: ['/description'],
    priority: 1,
    ignoreEmpty: true,
  });
}

const erp = [
  { id: 'p1', name: 'Chair', price: 40, stock: 999 },
  { id: 'p2', name: 'Table', price: 90 },
];
const supplier = [
  { id: 'p1', stock: 4, name: 'supplier name' },
  { id: 'p2', stock: 0 },
];
const scraper = [{ id: 'p1', description: 'A chair' }];

describe('several sources on one collection', () => {
  test('each feed writes only its fields; unowned fields are ignored and counted', async () => {
    const { ctx, tenantId } = fixture;
    await threeSources(ctx, 'cat');
    const a = await sync(ctx, 'cat', erp, 'source=erp');
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.source, 'erp');
    assert.equal(a.body.counts.created, 2);
    assert.equal(a.body.counts.ignoredFields, 1);
    const b = await sync(ctx, 'cat', supplier, 'source=supplier&mode=partial');
    assert.equal(b.status, 200, b.text);
    assert.deepEqual([b.body.counts.updated, b.body.counts.ignoredFields], [2, 1]);
    const c = await sync(ctx, 'cat', scraper, 'source=scraper&mode=partial');
    assert.equal(c.status, 200, c.text);
    const rows = await stored(ctx, tenantId, 'cat');
    assert.deepEqual(rows.get('p1')!.data, {
      id: 'p1',
      name: 'Chair',
      price: 40,
      stock: 4,
      description: 'A chair',
    });
    assert.deepEqual(rows.get('p2')!.data, { id: 'p2', name: 'Table', price: 90, stock: 0 });

    // The ERP again, a price changed: stock and description stay.
    const again = await sync(ctx, 'cat', [{ ...erp[0], price: 45 }, erp[1]], 'source=erp');
    assert.deepEqual([again.body.counts.updated, again.body.counts.unchanged], [1, 1]);
    const after = await stored(ctx, tenantId, 'cat');
    assert.deepEqual(after.get('p1')!.data, {
      id: 'p1',
      name: 'Chair',
      price: 45,
      stock: 4,
      description: 'A chair',
    });
  });

  test('an unchanged feed of one source writes nothing', async () => {
    const { ctx, tenantId } = fixture;
    const before = await stored(ctx, tenantId, 'cat');
    const versions = async () =>
      (await ctx.server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM record_versions'))[0]!.n;
    const versionsBefore = await versions();
    const again = await sync(ctx, 'cat', supplier, 'source=supplier&mode=partial');
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(
      [again.body.counts.unchanged, again.body.counts.updated, again.body.counts.created],
      [2, 0, 0],
    );
    assert.equal(again.body.changeId !== null, true);
    const after = await stored(ctx, tenantId, 'cat');
    for (const [id, row] of before) assert.equal(after.get(id)!.change_id, row.change_id);
    assert.equal(await versions(), versionsBefore);
  });

  test('full mode of the supplier drops only its fields and deletes nothing the ERP still has', async () => {
    const { ctx, tenantId } = fixture;
    const full = await sync(ctx, 'cat', [supplier[1]], 'source=supplier&mode=full');
    assert.equal(full.status, 200, full.text);
    assert.equal(full.body.counts.deleted, 0);
    const rows = await stored(ctx, tenantId, 'cat');
    assert.deepEqual(rows.get('p1')!.data, { id: 'p1', name: 'Chair', price: 45, description: 'A chair' });
    assert.deepEqual(rows.get('p2')!.data, { id: 'p2', name: 'Table', price: 90, stock: 0 });
  });

  test('a record is gone upstream only when no source has it any more', async () => {
    const { ctx, tenantId } = fixture;
    await threeSources(ctx, 'gone');
    await sync(ctx, 'gone', erp, 'source=erp');
    await sync(ctx, 'gone', supplier, 'source=supplier');
    const erpDrops = await sync(ctx, 'gone', [erp[1]], 'source=erp&force=true');
    assert.equal(erpDrops.body.counts.deleted, 0, erpDrops.text);
    let rows = await stored(ctx, tenantId, 'gone');
    assert.deepEqual(rows.get('p1')!.data, { id: 'p1', stock: 4 });
    const supplierDrops = await sync(ctx, 'gone', [supplier[1]], 'source=supplier&force=true');
    assert.equal(supplierDrops.body.counts.deleted, 1, supplierDrops.text);
    rows = await stored(ctx, tenantId, 'gone');
    assert.equal(rows.get('p1')!.data, null);
    assert.equal(rows.get('p1')!.upstream_gone, true);
    // Back from one source: revived.
    const back = await sync(ctx, 'gone', supplier, 'source=supplier&mode=partial');
    assert.deepEqual([back.body.counts.created, back.body.counts.revived], [1, 1]);
  });

  test('the delete guard counts what the run would really delete', async () => {
    const { ctx } = fixture;
    await threeSources(ctx, 'guard', { maxDeleteRatio: 0.1 });
    await sync(ctx, 'guard', erp, 'source=erp');
    await sync(ctx, 'guard', supplier, 'source=supplier');
    // The supplier drops both records, but the ERP still has them: nothing is deleted, no guard.
    const drops = await sync(ctx, 'guard', [{ id: 'p9', stock: 1 }], 'source=supplier');
    assert.equal(drops.status, 200, drops.text);
    assert.equal(drops.body.counts.deleted, 0);
    const erpDrops = await sync(ctx, 'guard', [erp[1]], 'source=erp');
    assert.equal(erpDrops.status, 409, erpDrops.text);
    assert.equal(erpDrops.body.code, 'delete_guard');
  });

  test('priorities decide a field two sources own; ignoreEmpty keeps a value', async () => {
    const { ctx, tenantId } = fixture;
    await makeCollection(ctx, 'prio');
    await defineSource(ctx, 'prio', 'low', { fields: ['/'], priority: 1 });
    await defineSource(ctx, 'prio', 'high', { fields: ['/price', '/note'], priority: 2, ignoreEmpty: true });
    await sync(ctx, 'prio', [{ id: 'a', price: 1, name: 'x', note: 'low note' }], 'source=low');
    await sync(ctx, 'prio', [{ id: 'a', price: 2, note: '' }], 'source=high');
    let rows = await stored(ctx, tenantId, 'prio');
    assert.deepEqual(rows.get('a')!.data, { id: 'a', price: 2, name: 'x', note: 'low note' });
    // The lower source changes the price: the higher one still wins it.
    await sync(ctx, 'prio', [{ id: 'a', price: 3, name: 'y', note: 'low note' }], 'source=low');
    rows = await stored(ctx, tenantId, 'prio');
    assert.deepEqual(rows.get('a')!.data, { id: 'a', price: 2, name: 'y', note: 'low note' });
  });

  test('sources are listed, read, replaced and deleted; an unknown source is 404', async () => {
    const { ctx } = fixture;
    const list = await ctx.server.request('GET', '/v1/collections/cat/sources', { key: ctx.key });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((s: { name: string }) => s.name),
      ['default', 'erp', 'scraper', 'supplier'],
    );
    const one = await ctx.server.request('GET', '/v1/collections/cat/sources/supplier', { key: ctx.key });
    assert.deepEqual([one.body.fields, one.body.priority, one.body.stored], [['/stock'], 5, true]);
    const missing = await sync(ctx, 'cat', supplier, 'source=nobody');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'source_not_found');
    const bad = await ctx.server.request('PUT', '/v1/collections/cat/sources/x', {
      key: ctx.key,
      body: { fields: ['price'] },
    });
    assert.equal(bad.status, 400, bad.text);
    const gone = await ctx.server.request('DELETE', '/v1/collections/cat/sources/scraper', { key: ctx.key });
    assert.equal(gone.status, 204);
    const again = await ctx.server.request('DELETE', '/v1/collections/cat/sources/scraper', { key: ctx.key });
    assert.equal(again.status, 404);
  });
});

describe('blame', () => {
  test('after syncs from two sources, a manual edit and a restore, each leaf names who set it', async () => {
    const { ctx } = fixture;
    await threeSources(ctx, 'blamed');
    const first = await sync(ctx, 'blamed', erp, 'source=erp');
    const stock = await sync(ctx, 'blamed', supplier, 'source=supplier');
    const snapshot = await ctx.server.request('POST', '/v1/snapshots', { key: ctx.key, body: {} });
    assert.equal(snapshot.status, 201, snapshot.text);
    const edit = await ctx.server.request('PATCH', '/v1/collections/blamed/records/p1', {
      key: ctx.key,
      body: { price: 39 },
    });
    assert.equal(edit.status, 200, edit.text);
    const blameOf = async () => {
      const response = await ctx.server.request('GET', '/v1/collections/blamed/records/p1/blame', {
        key: ctx.key,
      });
      assert.equal(response.status, 200, response.text);
      return new Map(
        (response.body.leaves as { path: string; value: unknown; setBy: Record<string, unknown> }[]).map(
          (leaf) => [leaf.path, leaf],
        ),
      );
    };
    let leaves = await blameOf();
    assert.deepEqual(leaves.get('/name')!.setBy, { kind: 'source', source: 'erp', syncRunId: first.body.id });
    assert.deepEqual(leaves.get('/stock')!.setBy, {
      kind: 'source',
      source: 'supplier',
      syncRunId: stock.body.id,
    });
    assert.equal(leaves.get('/price')!.value, 39);
    assert.equal(leaves.get('/price')!.setBy.kind, 'api');
    assert.ok(leaves.get('/price')!.setBy.apiKeyId);

    const restore = await ctx.server.request('POST', `/v1/snapshots/${snapshot.body.id}/restore`, {
      key: ctx.key,
      body: { collections: ['blamed'] },
    });
    assert.equal(restore.status, 200, restore.text);
    leaves = await blameOf();
    assert.equal(leaves.get('/price')!.value, 40);
    assert.deepEqual(leaves.get('/price')!.setBy, { kind: 'restore', snapshotId: snapshot.body.id });
    assert.equal(leaves.get('/stock')!.setBy.source, 'supplier');

    // The restore brought back each source's part: an unchanged supplier feed still writes nothing.
    const again = await sync(ctx, 'blamed', supplier, 'source=supplier');
    assert.equal(again.body.counts.unchanged, 2, again.text);
    const missing = await ctx.server.request('GET', '/v1/collections/blamed/records/nope/blame', {
      key: ctx.key,
    });
    assert.equal(missing.status, 404);
  });
});

describe('a small partial feed into a larger collection', () => {
  const many = (n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => ({ id: `m${i}`, name: `${tag} ${i}`, price: i }));

  test('skips the stored index and still tells new, changed and unchanged apart (one source)', async () => {
    const { ctx, tenantId } = fixture;
    await makeCollection(ctx, 'big');
    await sync(ctx, 'big', many(300, 'v1'));
    const small = [
      { id: 'm1', name: 'v1 1', price: 1 },
      { id: 'm2', name: 'changed', price: 2 },
      { id: 'new', name: 'new', price: 0 },
    ];
    const run = await sync(ctx, 'big', small, 'mode=partial');
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.timings.indexSkipped, 1);
    assert.deepEqual(
      [run.body.counts.created, run.body.counts.updated, run.body.counts.unchanged],
      [1, 1, 1],
    );
    const rows = await stored(ctx, tenantId, 'big');
    assert.equal(rows.size, 301);
    assert.equal(rows.get('m2')!.data!.name, 'changed');
    const dup = await sync(ctx, 'big', [small[0], small[0]], 'mode=partial');
    assert.equal(dup.status, 422);
    // The next full sync reads the index again, and sees the stored hashes as before.
    const full = await sync(ctx, 'big', [
      ...many(300, 'v1').map((r) => (r.id === 'm2' ? small[1] : r)),
      small[2],
    ]);
    assert.equal(full.body.timings.indexSkipped, undefined);
    assert.deepEqual([full.body.counts.unchanged, full.body.counts.updated], [301, 0]);
  });

  test('skips the stored index with several sources too', async () => {
    const { ctx, tenantId } = fixture;
    await threeSources(ctx, 'bigmulti');
    await sync(ctx, 'bigmulti', many(300, 'v1'), 'source=erp');
    await sync(
      ctx,
      'bigmulti',
      many(300, 'v1').map((r) => ({ id: r.id, stock: 1 })),
      'source=supplier',
    );
    const run = await sync(
      ctx,
      'bigmulti',
      [
        { id: 'm1', stock: 1 },
        { id: 'm2', stock: 7 },
        { id: 'new', stock: 3 },
      ],
      'source=supplier&mode=partial',
    );
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.timings.indexSkipped, 1);
    assert.deepEqual(
      [run.body.counts.created, run.body.counts.updated, run.body.counts.unchanged],
      [1, 1, 1],
    );
    const rows = await stored(ctx, tenantId, 'bigmulti');
    assert.deepEqual(rows.get('m2')!.data, { id: 'm2', name: 'v1 2', price: 2, stock: 7 });
    assert.deepEqual(rows.get('new')!.data, { id: 'new', stock: 3 });
  });
});
