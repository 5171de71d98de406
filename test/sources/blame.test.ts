import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sync, tenantServer } from '../sync/sync-helpers.ts';
import { erp, supplier, threeSources } from './owned-fields-fixture.ts';

const fixture = tenantServer();

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
