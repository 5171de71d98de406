import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeCollection, stored, sync, tenantServer } from '../sync/sync-helpers.ts';
import { defineSource } from './owned-fields-fixture.ts';

const fixture = tenantServer();

describe('overlaps and per-field policy', () => {
  test("overlap 'conflict': the higher source wins and a conflict of kind source opens once, resolvable in the queue", async () => {
    const { ctx, tenantId } = fixture;
    await makeCollection(ctx, 'overlap', { overlap: 'conflict' });
    await defineSource(ctx, 'overlap', 'erp', { fields: ['/price', '/name'], priority: 10 });
    await defineSource(ctx, 'overlap', 'shop', { fields: ['/price'], priority: 1 });
    await sync(ctx, 'overlap', [{ id: 'a', name: 'A', price: 10 }], 'source=erp');
    const shop = await sync(ctx, 'overlap', [{ id: 'a', price: 12 }], 'source=shop');
    assert.equal(shop.body.counts.conflicts, 1, shop.text);
    const rows = await stored(ctx, tenantId, 'overlap');
    assert.deepEqual(rows.get('a')!.data, { id: 'a', name: 'A', price: 10 });
    const list = await ctx.server.request('GET', '/v1/collections/overlap/conflicts', { key: ctx.key });
    assert.equal(list.body.items.length, 1);
    const [conflict] = list.body.items;
    assert.deepEqual(
      [
        conflict.kind,
        conflict.path,
        conflict.source,
        conflict.sourceValue,
        conflict.otherSource,
        conflict.manualValue,
      ],
      ['source', '/price', 'erp', 10, 'shop', 12],
    );
    // The same disagreement again opens nothing new.
    await sync(ctx, 'overlap', [{ id: 'a', name: 'A2', price: 10 }], 'source=erp');
    const again = await ctx.server.request('GET', '/v1/collections/overlap/conflicts', { key: ctx.key });
    assert.equal(again.body.items.length, 1);
    const resolved = await ctx.server.request(
      'POST',
      `/v1/collections/overlap/conflicts/${conflict.id}/resolve`,
      {
        key: ctx.key,
        body: { resolution: 'take-source' },
      },
    );
    assert.equal(resolved.status, 200, resolved.text);
    assert.equal(resolved.body.status, 'resolved');

    // Overlap 'priority' (the default): the same feeds open nothing.
    await makeCollection(ctx, 'quiet');
    await defineSource(ctx, 'quiet', 'erp', { fields: ['/price'], priority: 10 });
    await defineSource(ctx, 'quiet', 'shop', { fields: ['/price'], priority: 1 });
    await sync(ctx, 'quiet', [{ id: 'a', price: 10 }], 'source=erp');
    const quiet = await sync(ctx, 'quiet', [{ id: 'a', price: 12 }], 'source=shop');
    assert.equal(quiet.body.counts.conflicts, 0);
    assert.deepEqual((await stored(ctx, tenantId, 'quiet')).get('a')!.data, { id: 'a', price: 10 });
  });

  test('per-field policy: a take-source field and a keep-manual field in one record', async () => {
    const { ctx, tenantId } = fixture;
    await makeCollection(ctx, 'policy', { conflictPolicy: { '/price': 'take-source', '/': 'keep-manual' } });
    const got = await ctx.server.request('GET', '/v1/collections/policy', { key: ctx.key });
    assert.deepEqual(got.body.conflictPolicy, { '/price': 'take-source', '/': 'keep-manual' });
    await sync(ctx, 'policy', [{ id: 'a', name: 'A', price: 10 }]);
    const edit = await ctx.server.request('PATCH', '/v1/collections/policy/records/a', {
      key: ctx.key,
      body: { name: 'mine', price: 9 },
    });
    assert.equal(edit.status, 200, edit.text);
    const moved = await sync(ctx, 'policy', [{ id: 'a', name: 'B', price: 11 }]);
    assert.equal(moved.body.counts.conflicts, 2, moved.text);
    const row = (await stored(ctx, tenantId, 'policy')).get('a')!;
    assert.deepEqual(row.data, { id: 'a', name: 'mine', price: 11 });
    assert.deepEqual(Object.keys(row.overrides), ['/name']);
    const list = await ctx.server.request('GET', '/v1/collections/policy/conflicts?status=all', {
      key: ctx.key,
    });
    const byPath = new Map(list.body.items.map((c: { path: string; status: string }) => [c.path, c.status]));
    assert.deepEqual([byPath.get('/name'), byPath.get('/price')], ['open', 'resolved']);
  });
});
