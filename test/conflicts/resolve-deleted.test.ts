// Resolving a conflict changes overrides, never whether the record exists: a record deleted since the
// conflict opened (gone from a full feed, a `_deleted` tombstone, a manual delete) stays deleted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  makeCollection,
  manualDelete,
  setOverride,
  stored,
  sync,
  tenantServer,
} from '../sync/sync-helpers.ts';

const fixture = tenantServer();

/** A collection whose record `a` has an open conflict on /price, then is deleted by `remove`. */
async function conflictThenDelete(collection: string, remove: () => Promise<void>): Promise<string> {
  await makeCollection(fixture.ctx, collection);
  assert.equal(
    (await sync(fixture.ctx, collection, [{ id: 'a', price: 5 }, { id: 'b' }, { id: 'c' }])).status,
    200,
  );
  await setOverride(fixture.ctx, fixture.tenantId, collection, 'a', '/price', 4, 5);
  const moved = await sync(fixture.ctx, collection, [{ id: 'a', price: 6 }, { id: 'b' }, { id: 'c' }]);
  assert.equal(moved.body.counts.conflicts, 1, moved.text);
  await remove();
  const list = await fixture.server.request('GET', `/v1/collections/${collection}/conflicts`, {
    key: fixture.ctx.key,
  });
  assert.equal(list.body.items.length, 1, list.text);
  return list.body.items[0].id;
}

const removals: Record<string, (collection: string) => Promise<void>> = {
  'gone from a full feed': async (collection) => {
    const run = await sync(fixture.ctx, collection, [{ id: 'b' }, { id: 'c' }]);
    assert.equal(run.body.counts.deleted, 1, run.text);
  },
  'a _deleted tombstone': async (collection) => {
    const run = await sync(fixture.ctx, collection, [{ id: 'a', _deleted: true }], 'mode=partial');
    assert.equal(run.body.counts.deleted, 1, run.text);
  },
  'a manual delete': (collection) => manualDelete(fixture.ctx, fixture.tenantId, collection, 'a'),
};

for (const [how, remove] of Object.entries(removals)) {
  for (const resolution of ['keep-manual', 'take-source']) {
    test(`${resolution} on a record deleted by ${how} leaves it deleted`, async () => {
      const collection = `c${Object.keys(removals).indexOf(how)}-${resolution}`;
      const conflictId = await conflictThenDelete(collection, () => remove(collection));
      const resolved = await fixture.server.request(
        'POST',
        `/v1/collections/${collection}/conflicts/${conflictId}/resolve`,
        { key: fixture.ctx.key, body: { resolution } },
      );
      assert.equal(resolved.status, 200, resolved.text);
      assert.equal(resolved.body.status, 'resolved');
      const read = await fixture.server.request('GET', `/v1/collections/${collection}/records/a`, {
        key: fixture.ctx.key,
      });
      assert.equal(read.status, 404, `the record came back: ${read.text}`);
      const row = (await stored(fixture.ctx, fixture.tenantId, collection)).get('a')!;
      assert.equal(row.data, null);
      // The override itself is settled as asked, for when the record comes back.
      assert.equal(Object.hasOwn(row.overrides, '/price'), resolution === 'keep-manual');
    });
  }
}
