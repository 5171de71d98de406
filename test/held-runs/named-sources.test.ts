import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expireHeldRuns } from '../../src/features/held-runs/held-runs.service.ts';
import { defineSource, threeSources } from '../sources/owned-fields-fixture.ts';
import { type Ctx, makeCollection, stored, sync, tenantServer } from '../sync/sync-helpers.ts';
import { call, heldRows } from './held-run-calls.ts';

// Held runs of a named source (docs/run-safety.md, docs/sources.md): the guards check what the merge
// would do, the staged feed is kept, and approving merges exactly it.

const fixture = tenantServer();

const products = (n: number, price: (i: number) => number, name = (i: number) => `item ${i}`) =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, name: name(i), price: price(i) }));
const stocks = (n: number, stock: (i: number) => number) =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, stock: stock(i) }));

/** A collection fed by the ERP (names, prices) and a supplier (stock of the first few), both synced once. */
async function catalog(ctx: Ctx, name: string, settings: Record<string, unknown>, n = 10, stocked = 2) {
  await threeSources(ctx, name, settings);
  const erp = await sync(
    ctx,
    name,
    products(n, () => 1),
    'source=erp',
  );
  assert.equal(erp.status, 200, erp.text);
  const supplier = await sync(
    ctx,
    name,
    stocks(stocked, () => 5),
    'source=supplier&mode=partial',
  );
  assert.equal(supplier.status, 200, supplier.text);
}

test('the delete guard holds a named-source run, counting only records no source has any more', async () => {
  const { ctx, tenantId } = fixture;
  await catalog(ctx, 'deletes', { maxDeleteRatio: 0.3 }, 5, 3);
  const before = await stored(ctx, tenantId, 'deletes');
  // The ERP names p0 only: p1 and p2 keep the supplier's part, p3 and p4 have no source left.
  const feed = [{ id: 'p0', name: 'item 0', price: 41 }];
  const held = await sync(ctx, 'deletes', feed, 'source=erp');
  assert.equal(held.status, 409, held.text);
  assert.equal(held.body.code, 'delete_guard');
  assert.equal(held.body.syncStatus, 'held');
  assert.match(held.body.reasons[0].message, /delete 2 of 5 records/);
  assert.deepEqual(await stored(ctx, tenantId, 'deletes'), before, 'a held run applies nothing');
  assert.ok((await heldRows(ctx, held.body.syncId)) > 0);
  const run = await call(ctx, held.body.syncId, '');
  assert.equal(run.body.status, 'held');
  assert.equal(run.body.source, 'erp');
  assert.deepEqual(run.body.plan, { create: [], update: ['p0', 'p1', 'p2'], delete: ['p3', 'p4'] });

  // A dry run of another feed plans from that feed and writes nothing; the approval applies the
  // staged plan, never a feed read again.
  const dry = await sync(ctx, 'deletes', [{ id: 'p0', name: 'item 0', price: 99 }], 'source=erp&dryRun=true');
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.body.errors[0].code, 'delete_guard');
  const approved = await call(ctx, held.body.syncId, 'approve');
  assert.equal(approved.status, 200, approved.text);
  assert.equal(approved.body.status, 'succeeded');
  assert.deepEqual([approved.body.counts.updated, approved.body.counts.deleted], [3, 2]);
  const after = await stored(ctx, tenantId, 'deletes');
  assert.deepEqual(after.get('p0')!.data, { id: 'p0', name: 'item 0', price: 41, stock: 5 });
  assert.deepEqual(after.get('p1')!.data, { id: 'p1', stock: 5 }, 'the supplier still has it');
  assert.equal(after.get('p3')!.data, null);
  assert.equal(after.get('p3')!.upstream_gone, true);
  assert.equal(await heldRows(ctx, held.body.syncId), 0);
  assert.equal((await call(ctx, held.body.syncId, 'approve')).body.code, 'run_not_held');
});

test('maxChangeRatio holds a named-source run; approving it leaves the other source alone', async () => {
  const { ctx, tenantId } = fixture;
  await catalog(ctx, 'changes', { maxChangeRatio: 0.2 });
  const held = await sync(
    ctx,
    'changes',
    products(10, (i) => (i < 5 ? 2 : 1)),
    'source=erp&mode=partial',
  );
  assert.equal(held.status, 409, held.text);
  assert.equal(held.body.code, 'sync_held');
  assert.deepEqual(
    held.body.reasons.map((reason: { code: string }) => reason.code),
    ['change_guard'],
  );
  assert.match(held.body.reasons[0].message, /update 5 of 10 records/);
  assert.equal((await stored(ctx, tenantId, 'changes')).get('p0')!.data!.price, 1);

  const approved = await call(ctx, held.body.syncId, 'approve');
  assert.equal(approved.status, 200, approved.text);
  assert.deepEqual([approved.body.counts.updated, approved.body.counts.unchanged], [5, 5]);
  const after = await stored(ctx, tenantId, 'changes');
  assert.deepEqual(after.get('p0')!.data, { id: 'p0', name: 'item 0', price: 2, stock: 5 });
  assert.deepEqual(after.get('p9')!.data, { id: 'p9', name: 'item 9', price: 1 });
  // The next unchanged feed of the source writes nothing: the approved parts carry its hashes.
  const again = await sync(
    ctx,
    'changes',
    products(10, (i) => (i < 5 ? 2 : 1)),
    'source=erp&mode=partial',
  );
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.counts.unchanged, 10);
});

test('maxFieldChangeRatio holds when the merged field changes, not when a lower source is outvoted', async () => {
  const { ctx, tenantId } = fixture;
  await catalog(ctx, 'fields', { maxFieldChangeRatio: { '/price': 0.1 } });
  // A feed of the lowest priority that also owns /price: the ERP's price still wins everywhere.
  await defineSource(ctx, 'fields', 'outvoted', { fields: ['/price'], priority: 0 });
  const outvoted = await sync(
    ctx,
    'fields',
    stocks(10, () => 0).map(({ id }) => ({ id, price: 0 })),
    'source=outvoted',
  );
  assert.equal(outvoted.status, 200, outvoted.text);
  assert.equal(outvoted.body.counts.updated, 10);
  const names = await sync(
    ctx,
    'fields',
    products(
      10,
      () => 1,
      (i) => `renamed ${i}`,
    ),
    'source=erp',
  );
  assert.equal(names.status, 200, names.text);
  const prices = await sync(
    ctx,
    'fields',
    products(
      10,
      () => 0,
      (i) => `renamed ${i}`,
    ),
    'source=erp',
  );
  assert.equal(prices.status, 409, prices.text);
  assert.deepEqual(prices.body.reasons, [
    {
      code: 'field_change_guard',
      pointer: '/price',
      message:
        'the sync would change /price in 10 of 10 records (100.0%), more than maxFieldChangeRatio 0.1 allows',
    },
  ]);
  assert.equal((await stored(ctx, tenantId, 'fields')).get('p3')!.data!.price, 1);
  const forced = await sync(
    ctx,
    'fields',
    products(
      10,
      () => 0,
      (i) => `renamed ${i}`,
    ),
    'source=erp&force=true',
  );
  assert.equal(forced.status, 200, forced.text);
  assert.equal((await stored(ctx, tenantId, 'fields')).get('p3')!.data!.price, 0);
});

test('approve after a manual edit or a change of sources is 409; reject and expiry remove the staged rows', async () => {
  const { ctx, tenantId } = fixture;
  await catalog(ctx, 'edits', { maxChangeRatio: 0.2 });
  const feed = products(10, () => 3);
  const held = await sync(ctx, 'edits', feed, 'source=erp');
  assert.equal(held.body.syncStatus, 'held', held.text);
  const edit = await ctx.server.request('PATCH', '/v1/collections/edits/records/p5', {
    key: ctx.key,
    body: { price: 9 },
  });
  assert.equal(edit.status, 200, edit.text);
  const refused = await call(ctx, held.body.syncId, 'approve');
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'collection_changed');
  assert.equal((await stored(ctx, tenantId, 'edits')).get('p9')!.data!.price, 1, 'nothing applied');
  const rejected = await call(ctx, held.body.syncId, 'reject');
  assert.equal(rejected.body.status, 'rejected');
  assert.equal(await heldRows(ctx, held.body.syncId), 0);

  // Sources decide the merge: a plan made with other definitions is not applied.
  const second = await sync(ctx, 'edits', feed, 'source=erp');
  assert.equal(second.body.syncStatus, 'held', second.text);
  await defineSource(ctx, 'edits', 'supplier', { fields: ['/stock', '/price'], priority: 50 });
  const stale = await call(ctx, second.body.syncId, 'approve');
  assert.equal(stale.status, 409, stale.text);
  assert.equal(stale.body.code, 'collection_changed');
  assert.match(stale.body.detail, /sources changed/);

  assert.ok((await heldRows(ctx, second.body.syncId)) > 0);
  await ctx.server.db.query(`UPDATE sync_runs SET held_until = now() - interval '1 second' WHERE id = $1`, [
    second.body.syncId,
  ]);
  assert.equal(await expireHeldRuns(ctx.server.db), 1);
  assert.equal((await call(ctx, second.body.syncId, '')).body.status, 'expired');
  assert.equal(await heldRows(ctx, second.body.syncId), 0);
});

test('a run held on a one-source collection is not applied once the collection has named sources', async () => {
  const { ctx } = fixture;
  await makeCollection(ctx, 'grown', { maxChangeRatio: 0.2 });
  await sync(
    ctx,
    'grown',
    products(10, () => 1),
  );
  const held = await sync(
    ctx,
    'grown',
    products(10, () => 2),
  );
  assert.equal(held.body.syncStatus, 'held', held.text);
  await defineSource(ctx, 'grown', 'supplier', { fields: ['/stock'] });
  const refused = await call(ctx, held.body.syncId, 'approve');
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.body.code, 'collection_changed');
});
