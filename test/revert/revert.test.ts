import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Ctx, makeCollection, ndjson, stored, sync, tenantServer } from '../sync/sync-helpers.ts';

const fixture = tenantServer();

const item = (i: number, price: number, extra: Record<string, unknown> = {}) => ({
  id: `r${String(i).padStart(4, '0')}`,
  name: `item ${i}`,
  price,
  ...extra,
});
const range = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));

async function revert(ctx: Ctx, syncId: string, query = '') {
  return ctx.server.request('POST', `/v1/syncs/${syncId}/revert${query}`, { key: ctx.key });
}

async function patch(ctx: Ctx, collection: string, id: string, body: unknown) {
  const response = await ctx.server.request('PATCH', `/v1/collections/${collection}/records/${id}`, {
    key: ctx.key,
    body,
  });
  assert.equal(response.status, 200, response.text);
}

test('reverting a run that changed 1,000 records, 10 edited by hand since, restores 990 and reports 10', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'prices');
  assert.equal((await sync(ctx, 'prices', ndjson(range(1000, (i) => item(i, 1))))).status, 200);
  const bad = await sync(ctx, 'prices', ndjson(range(1000, (i) => item(i, 0))));
  assert.equal(bad.body.counts.updated, 1000);
  for (let i = 0; i < 10; i++) await patch(ctx, 'prices', item(i * 100, 0).id, { price: 7 });

  const dry = await revert(ctx, bad.body.id, '?dryRun=true');
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.body.dryRun, true);
  assert.equal(dry.body.id, null);
  assert.deepEqual(dry.body.counts, {
    records: 1000,
    reverted: 990,
    // The 10 kept prices stay; their source goes back below the manual value.
    written: 1000,
    revived: 0,
    deleted: 0,
    keptFields: 10,
    keptRecords: 10,
  });
  const untouched = await stored(ctx, tenantId, 'prices');
  assert.equal(untouched.get('r0001')!.data!.price, 0, 'a dry run writes nothing');

  const done = await revert(ctx, bad.body.id);
  assert.equal(done.status, 200, done.text);
  assert.deepEqual(done.body.counts, dry.body.counts);
  assert.deepEqual(
    done.body.kept.map((k: { recordId: string; path: string }) => `${k.recordId}${k.path}`),
    range(10, (i) => `${item(i * 100, 0).id}/price`),
  );
  for (const kept of done.body.kept) assert.equal(kept.keptBy.kind, 'manual');
  const after = await stored(ctx, tenantId, 'prices');
  let restored = 0;
  for (const [id, row] of after) {
    if (row.data!.price === 1) restored++;
    else assert.equal(row.data!.price, 7, `${id} keeps its manual price`);
  }
  assert.equal(restored, 990);

  // The revert is a change of its own (kind `revert`, which the change feed serves as origin `revert`)
  // and a run in the history.
  const [change] = await ctx.server.db.query<{ kind: string; sync_run_id: string; records: number }>(
    `SELECT ch.kind, ch.sync_run_id,
       (SELECT count(*)::int FROM records r WHERE r.tenant_id = ch.tenant_id AND r.change_id = ch.id) AS records
     FROM changes ch WHERE ch.tenant_id = $1 AND ch.id = $2`,
    [tenantId, done.body.changeId],
  );
  assert.deepEqual(change, { kind: 'revert', sync_run_id: done.body.id, records: 1000 });
  const run = await ctx.server.request('GET', `/v1/syncs/${done.body.id}`, { key: ctx.key });
  assert.equal(run.body.mode, 'revert');
  assert.equal(run.body.status, 'succeeded');
  const history = await ctx.server.request('GET', '/v1/collections/prices/records/r0001/history', {
    key: ctx.key,
  });
  assert.equal(history.body.items[0].origin.kind, 'revert');
});

test('reverting a run that deleted and created records revives the deleted and removes the created', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'events');
  await sync(ctx, 'events', ndjson(range(10, (i) => item(i, 1))));
  // r0000–r0002 gone upstream, r0100 new.
  const run = await sync(ctx, 'events', ndjson([...range(7, (i) => item(i + 3, 1)), item(100, 5)]));
  assert.equal(run.body.counts.deleted, 3);
  assert.equal(run.body.counts.created, 1);

  const done = await revert(ctx, run.body.id);
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.counts.revived, 3);
  assert.equal(done.body.counts.deleted, 1);
  const after = await stored(ctx, tenantId, 'events');
  for (let i = 0; i < 3; i++) assert.deepEqual(after.get(item(i, 1).id)!.data, item(i, 1));
  assert.equal(after.get('r0100')!.data, null);
  const one = await ctx.server.request('GET', '/v1/collections/events/records/r0000', { key: ctx.key });
  assert.equal(one.status, 200);

  // The next sync of the same feed deletes and creates them again, as if the run had not happened.
  const again = await sync(ctx, 'events', ndjson([...range(7, (i) => item(i + 3, 1)), item(100, 5)]));
  assert.equal(again.body.counts.deleted, 3);
  assert.equal(again.body.counts.created, 1);
});

test('reverting a revert re-applies the run; a second revert of the same run has nothing left to do', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'twice');
  await sync(ctx, 'twice', ndjson(range(5, (i) => item(i, 1))));
  const run = await sync(ctx, 'twice', ndjson(range(5, (i) => item(i, 2, { tag: 'new' }))));
  const first = await revert(ctx, run.body.id);
  assert.equal(first.body.counts.reverted, 5);
  assert.deepEqual((await stored(ctx, tenantId, 'twice')).get('r0003')!.data, item(3, 1));

  // Everything the run changed is already as before it: nothing to write, nothing kept.
  const again = await revert(ctx, run.body.id);
  assert.equal(again.body.counts.written, 0);
  assert.equal(again.body.counts.keptFields, 0);

  const reapplied = await revert(ctx, first.body.id);
  assert.equal(reapplied.status, 200, reapplied.text);
  assert.equal(reapplied.body.counts.reverted, 5);
  assert.deepEqual((await stored(ctx, tenantId, 'twice')).get('r0003')!.data, item(3, 2, { tag: 'new' }));
  // The source is the run's again: the same feed is an unchanged re-sync.
  const same = await sync(ctx, 'twice', ndjson(range(5, (i) => item(i, 2, { tag: 'new' }))));
  assert.equal(same.body.counts.unchanged, 5);
});

test('a field the run changed and a later run changed again stays, reported as kept by that run', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'layers');
  await sync(ctx, 'layers', ndjson([item(1, 1, { stock: 1 })]));
  const run = await sync(ctx, 'layers', ndjson([item(1, 2, { stock: 2 })]));
  const later = await sync(ctx, 'layers', ndjson([item(1, 2, { stock: 3 })]));
  const done = await revert(ctx, run.body.id);
  assert.equal(done.body.counts.reverted, 1);
  assert.deepEqual(done.body.kept, [
    {
      recordId: 'r0001',
      path: '/stock',
      keptBy: {
        kind: 'sync',
        changeId: later.body.changeId,
        at: done.body.kept[0].keptBy.at,
        syncRunId: later.body.id,
      },
    },
  ]);
  assert.deepEqual((await stored(ctx, tenantId, 'layers')).get('r0001')!.data, item(1, 1, { stock: 3 }));
});

test('runs that cannot be reverted: unknown 404, dry run 409, older than the retention 410', async () => {
  const { ctx, server } = fixture;
  await makeCollection(ctx, 'old');
  await sync(ctx, 'old', ndjson([item(1, 1)]));
  const planned = await sync(ctx, 'old', ndjson([item(1, 2)]), 'dryRun=true');
  assert.equal((await revert(ctx, planned.body.id)).body.code, 'run_not_revertable');
  assert.equal((await revert(ctx, '00000000-0000-4000-8000-000000000000')).status, 404);
  const run = await sync(ctx, 'old', ndjson([item(1, 3)]));
  await server.db.query(`UPDATE changes SET at = now() - interval '31 days' WHERE id = $1`, [
    run.body.changeId,
  ]);
  const expired = await revert(ctx, run.body.id);
  assert.equal(expired.status, 410);
  assert.equal(expired.body.code, 'run_history_expired');
  assert.match(expired.body.detail, /30-day history retention/);
});
