import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeCollection, stored, sync, tenantServer } from '../sync/sync-helpers.ts';
import { threeSources } from './owned-fields-fixture.ts';

const fixture = tenantServer();

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
