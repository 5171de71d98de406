import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineSource } from '../sources/owned-fields-fixture.ts';
import { type Ctx, makeCollection, sync, tenantServer } from '../sync/sync-helpers.ts';

// Reverting a run of one named source on a collection with two (docs/run-safety.md): the run's source
// gets its parts back, the other source's fields and parts stay as they are now.

const fixture = tenantServer();

type Row = {
  record_id: string;
  data: Record<string, unknown> | null;
  source_parts: Record<string, { h: string | null; v: Record<string, unknown> }> | null;
};

async function rows(ctx: Ctx, tenantId: string, collection: string): Promise<Map<string, Row>> {
  const found = await ctx.server.db.query<Row>(
    `SELECT r.record_id, effective_value(r.data, r.source) AS data, r.source_parts
     FROM records r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
     WHERE r.tenant_id = $1 AND c.name = $2 ORDER BY r.record_id`,
    [tenantId, collection],
  );
  return new Map(found.map((row) => [row.record_id, row]));
}

const erpFeed = [
  { id: 'p1', name: 'Chair', price: 5 },
  { id: 'p2', name: 'Table', price: 9 },
  { id: 'p3', name: 'Lamp', price: 3 },
];
const supplierFeed = [
  { id: 'p1', stock: 4 },
  { id: 'p2', stock: 2 },
  { id: 'p3', stock: 1 },
];

test('reverting one source’s run restores its parts and leaves the other source’s fields as they are now', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'two');
  await defineSource(ctx, 'two', 'erp', { fields: ['/name', '/price'], priority: 10 });
  await defineSource(ctx, 'two', 'supplier', { fields: ['/stock'], priority: 5 });
  assert.equal((await sync(ctx, 'two', erpFeed, 'source=erp')).status, 200);
  assert.equal((await sync(ctx, 'two', supplierFeed, 'source=supplier')).status, 200);
  const before = await rows(ctx, tenantId, 'two');

  // The bad run: every ERP price 0.
  const bad = await sync(
    ctx,
    'two',
    erpFeed.map((row) => ({ ...row, price: 0 })),
    'source=erp',
  );
  assert.equal(bad.status, 200, bad.text);
  assert.equal(bad.body.counts.updated, 3);
  // Since: the supplier changes p1's stock, the ERP renames p2 (both rewritten after the run); p3 is
  // untouched.
  const stock = await sync(ctx, 'two', [{ id: 'p1', stock: 3 }], 'source=supplier&mode=partial');
  assert.equal(stock.body.counts.updated, 1, stock.text);
  const rename = await sync(ctx, 'two', [{ id: 'p2', name: 'Desk', price: 0 }], 'source=erp&mode=partial');
  assert.equal(rename.body.counts.updated, 1, rename.text);
  const now = await rows(ctx, tenantId, 'two');

  const reverted = await ctx.server.request('POST', `/v1/syncs/${bad.body.id}/revert`, { key: ctx.key });
  assert.equal(reverted.status, 200, reverted.text);
  assert.deepEqual([reverted.body.counts.records, reverted.body.counts.reverted], [3, 3]);
  assert.deepEqual(
    reverted.body.kept.map((kept: { recordId: string; path: string }) => [kept.recordId, kept.path]),
    [],
    'the run changed prices only; the rename touched another field',
  );
  const after = await rows(ctx, tenantId, 'two');
  // p1: the ERP's part back whole (hash too), the supplier's stock as it is now.
  assert.deepEqual(after.get('p1')!.data, { id: 'p1', name: 'Chair', price: 5, stock: 3 });
  assert.deepEqual(after.get('p1')!.source_parts!.erp, before.get('p1')!.source_parts!.erp);
  assert.deepEqual(after.get('p1')!.source_parts!.supplier, now.get('p1')!.source_parts!.supplier);
  // p2: the ERP's part rewritten since: the price goes back, the later name stays.
  assert.deepEqual(after.get('p2')!.data, { id: 'p2', name: 'Desk', price: 9, stock: 2 });
  assert.deepEqual(after.get('p2')!.source_parts!.erp!.v, { id: 'p2', name: 'Desk', price: 9 });
  assert.deepEqual(after.get('p2')!.source_parts!.supplier, before.get('p2')!.source_parts!.supplier);
  // p3: nobody wrote it since: back whole.
  assert.deepEqual(after.get('p3'), before.get('p3'));

  // The parts carry the hashes of what each source sent: the ERP's feed as before the run, and the
  // supplier's as it is now, change nothing.
  const erpAgain = await sync(ctx, 'two', [erpFeed[0], erpFeed[2]], 'source=erp&mode=partial');
  assert.deepEqual([erpAgain.body.counts.unchanged, erpAgain.body.counts.updated], [2, 0], erpAgain.text);
  const supplierAgain = await sync(
    ctx,
    'two',
    [{ id: 'p1', stock: 3 }, supplierFeed[1], supplierFeed[2]],
    'source=supplier',
  );
  assert.deepEqual([supplierAgain.body.counts.unchanged, supplierAgain.body.counts.updated], [3, 0]);

  // Reverting the revert puts the bad prices back, the supplier's stock still untouched.
  const again = await ctx.server.request('POST', `/v1/syncs/${reverted.body.id}/revert`, { key: ctx.key });
  assert.equal(again.status, 200, again.text);
  const redone = await rows(ctx, tenantId, 'two');
  assert.deepEqual(redone.get('p1')!.data, { id: 'p1', name: 'Chair', price: 0, stock: 3 });
  assert.deepEqual(redone.get('p1')!.source_parts, now.get('p1')!.source_parts);
  assert.deepEqual(redone.get('p3')!.data, { id: 'p3', name: 'Lamp', price: 0, stock: 1 });
});
