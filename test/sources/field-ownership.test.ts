import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeCollection, stored, sync, tenantServer } from '../sync/sync-helpers.ts';
import { defineSource, erp, scraper, supplier, threeSources } from './owned-fields-fixture.ts';

const fixture = tenantServer();

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

  test('an Idempotency-Key names the source too: the same body for another source is another request', async () => {
    const { ctx } = fixture;
    const headers = { 'idempotency-key': 'stock-1' };
    const body = [{ id: 'p1', stock: 5, name: 'x', price: 1 }];
    const first = await sync(ctx, 'cat', body, 'source=supplier&mode=partial', headers);
    assert.equal(first.status, 200, first.text);
    const other = await sync(ctx, 'cat', body, 'source=erp&mode=partial', headers);
    assert.equal(other.status, 422, other.text);
    assert.equal(other.body.code, 'idempotency_key_reused');
  });
});
