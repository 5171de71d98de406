import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  handMade,
  makeCollection,
  manualDelete,
  ndjson,
  setOverride,
  stored,
  sync,
  tenantServer,
} from './sync-helpers.ts';

const fixture = tenantServer();

const items = (n: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({ id: `r${i}`, name: `item ${i}`, price: i, ...extra }));

describe('feeds and counts', () => {
  test('a JSON array creates records; the same feed again writes nothing', async () => {
    await makeCollection(fixture.ctx, 'a');
    const first = await sync(fixture.ctx, 'a', items(5));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.status, 'succeeded');
    assert.deepEqual(
      [
        first.body.counts.created,
        first.body.counts.updated,
        first.body.counts.unchanged,
        first.body.counts.deleted,
      ],
      [5, 0, 0, 0],
    );
    assert.ok(first.body.snapshotId);
    const before = await stored(fixture.ctx, fixture.tenantId, 'a');
    const again = await sync(fixture.ctx, 'a', items(5));
    assert.equal(again.body.counts.unchanged, 5);
    assert.equal(again.body.counts.created + again.body.counts.updated + again.body.counts.deleted, 0);
    const afterRows = await stored(fixture.ctx, fixture.tenantId, 'a');
    for (const [id, row] of before)
      assert.equal(afterRows.get(id)!.change_id, row.change_id, 'no write on no-op');
    const versions = await fixture.server.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM record_versions',
    );
    assert.equal(versions[0]!.n, 0);
  });

  test('{ records: [...] } and NDJSON are accepted; integer ids are kept as strings', async () => {
    await makeCollection(fixture.ctx, 'b');
    const wrapped = await sync(fixture.ctx, 'b', { records: [{ id: 1, a: 1 }] } as unknown as unknown[]);
    assert.equal(wrapped.status, 200, wrapped.text);
    const nd = await sync(
      fixture.ctx,
      'b',
      ndjson([
        { id: 1, a: 2 },
        { id: 2, a: 1 },
      ]),
    );
    assert.equal(nd.status, 200, nd.text);
    assert.equal(nd.body.counts.updated, 1);
    assert.equal(nd.body.counts.created, 1);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'b');
    assert.deepEqual(rows.get('1')!.data, { id: 1, a: 2 });
    assert.equal(rows.get('1')!.version, 2);
  });

  test('a changed record is updated and versioned with the run as origin', async () => {
    await makeCollection(fixture.ctx, 'c');
    await sync(fixture.ctx, 'c', items(3));
    const changed = items(3);
    changed[1]!.price = 99;
    const run = await sync(fixture.ctx, 'c', changed);
    assert.equal(run.body.counts.updated, 1);
    assert.equal(run.body.counts.unchanged, 2);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'c');
    assert.equal(rows.get('r1')!.data!.price, 99);
    assert.equal(rows.get('r1')!.change_id, run.body.changeId);
    const [change] = await fixture.server.db.query<{ kind: string; sync_run_id: string }>(
      'SELECT kind, sync_run_id FROM changes WHERE id = $1',
      [run.body.changeId],
    );
    assert.deepEqual(change, { kind: 'sync', sync_run_id: run.body.id });
    const versions = await fixture.server.db.query<{ record_id: string }>(
      'SELECT record_id FROM record_versions WHERE valid_to = $1',
      [run.body.changeId],
    );
    assert.deepEqual(
      versions.map((v) => v.record_id),
      ['r1'],
    );
  });

  test('a sync that grows a collection by a fifth (100 records or more) leaves fresh table statistics', async () => {
    // Without them the planner takes the collection for one row and the next sync's joins go through
    // every record once per staged row (docs/sync.md "How the apply works").
    await makeCollection(fixture.ctx, 'stats');
    // This file's own database: autovacuum's analyze must not be what makes the statistics fresh.
    await fixture.server.db.query('ALTER TABLE records SET (autovacuum_enabled = false)');
    const grown = await sync(fixture.ctx, 'stats', items(150));
    assert.equal(grown.body.counts.created, 150, grown.text);
    const [row] = await fixture.server.db.query<{ reltuples: number; count: number }>(
      `SELECT (SELECT reltuples FROM pg_class WHERE oid = 'records'::regclass)::int AS reltuples,
        (SELECT count(*) FROM records)::int AS count`,
    );
    assert.equal(row!.reltuples, row!.count);
    // Sampled lightly (sql.sampleStatisticsLightly): a histogram of 10 buckets, not the default 100.
    const [ids] = await fixture.server.db.query<{ bounds: number }>(
      `SELECT array_length(histogram_bounds::text::text[], 1) AS bounds FROM pg_stats
        WHERE tablename = 'records' AND attname = 'record_id'`,
    );
    assert.equal(ids!.bounds, 11);
  });

  test('unsupported content type → 415', async () => {
    await makeCollection(fixture.ctx, 'ct');
    const response = await fixture.server.request('POST', '/v1/collections/ct/syncs', {
      key: fixture.ctx.key,
      rawBody: '[]',
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(response.status, 415);
  });
});

describe('full and partial modes, deletes', () => {
  test('full mode soft-deletes records gone upstream and revives them when they return', async () => {
    await makeCollection(fixture.ctx, 'gone');
    await sync(fixture.ctx, 'gone', items(10));
    const run = await sync(fixture.ctx, 'gone', items(8));
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.counts.deleted, 2);
    let rows = await stored(fixture.ctx, fixture.tenantId, 'gone');
    assert.equal(rows.get('r9')!.data, null);
    assert.equal(rows.get('r9')!.upstream_gone, true);
    const back = await sync(fixture.ctx, 'gone', items(10));
    assert.equal(back.body.counts.created, 2);
    assert.equal(back.body.counts.revived, 2);
    rows = await stored(fixture.ctx, fixture.tenantId, 'gone');
    assert.deepEqual(rows.get('r9')!.data, items(10)[9]);
  });

  test('partial mode infers nothing; _deleted removes one explicitly', async () => {
    await makeCollection(fixture.ctx, 'part');
    await sync(fixture.ctx, 'part', items(4));
    const run = await sync(
      fixture.ctx,
      'part',
      [
        { id: 'r0', name: 'x', price: 1 },
        { id: 'r1', _deleted: true },
      ],
      'mode=partial',
    );
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.counts.updated, 1);
    assert.equal(run.body.counts.deleted, 1);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'part');
    assert.equal(rows.get('r1')!.data, null);
    assert.ok(rows.get('r2')!.data);
    assert.ok(rows.get('r3')!.data);
  });

  test('deletePolicy keep leaves gone records visible', async () => {
    await makeCollection(fixture.ctx, 'keep', { deletePolicy: 'keep' });
    await sync(fixture.ctx, 'keep', items(4));
    const run = await sync(fixture.ctx, 'keep', items(3));
    assert.equal(run.body.counts.deleted, 0);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'keep');
    assert.ok(rows.get('r3')!.data);
    assert.equal(rows.get('r3')!.upstream_gone, true);
    const again = await sync(fixture.ctx, 'keep', items(3));
    assert.equal(again.body.counts.deleted, 0, 'still kept');
    const after = await stored(fixture.ctx, fixture.tenantId, 'keep');
    assert.equal(after.get('r3')!.change_id, rows.get('r3')!.change_id, 'marked once, not again');
  });

  test('a record kept by policy keep is deleted once the policy becomes delete and it is still gone', async () => {
    await makeCollection(fixture.ctx, 'keep2', { deletePolicy: 'keep' });
    await sync(fixture.ctx, 'keep2', items(4));
    await sync(fixture.ctx, 'keep2', items(3)); // r3 gone, kept visible
    await makeCollection(fixture.ctx, 'keep2', { deletePolicy: 'delete' });
    const run = await sync(fixture.ctx, 'keep2', items(3));
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.counts.deleted, 1);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'keep2');
    assert.equal(rows.get('r3')!.data, null);
    assert.equal(rows.get('r3')!.upstream_gone, true);
    const back = await sync(fixture.ctx, 'keep2', items(4));
    assert.equal(back.body.counts.created, 1, 'it comes back as revived when upstream has it again');
    assert.ok((await stored(fixture.ctx, fixture.tenantId, 'keep2')).get('r3')!.data);
  });

  test('records made by hand are never deleted by a sync; manual deletes stay deleted', async () => {
    await makeCollection(fixture.ctx, 'hand');
    await sync(fixture.ctx, 'hand', items(4));
    await handMade(fixture.ctx, fixture.tenantId, 'hand', 'mine', { id: 'mine', name: 'by hand' });
    await manualDelete(fixture.ctx, fixture.tenantId, 'hand', 'r0');
    const changed = items(4);
    changed[0]!.price = 500;
    const run = await sync(fixture.ctx, 'hand', changed.slice(0, 3));
    assert.equal(run.status, 200, run.text);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'hand');
    assert.deepEqual(rows.get('mine')!.data, { id: 'mine', name: 'by hand' });
    assert.equal(rows.get('r0')!.data, null, 'manual delete wins');
    assert.equal(rows.get('r0')!.source!.price, 500, 'the source still follows the feed');
    assert.equal(rows.get('r3')!.data, null);
  });

  test('delete guard: over maxDeleteRatio or an empty full feed is refused unless forced', async () => {
    await makeCollection(fixture.ctx, 'guard');
    await sync(fixture.ctx, 'guard', items(10));
    const before = await stored(fixture.ctx, fixture.tenantId, 'guard');
    const tooMany = await sync(fixture.ctx, 'guard', items(4));
    assert.equal(tooMany.status, 409, tooMany.text);
    assert.equal(tooMany.body.code, 'delete_guard');
    const empty = await sync(fixture.ctx, 'guard', []);
    assert.equal(empty.status, 409);
    assert.deepEqual(await stored(fixture.ctx, fixture.tenantId, 'guard'), before);
    const run = await fixture.server.request('GET', `/v1/syncs/${tooMany.body.syncId}`, {
      key: fixture.ctx.key,
    });
    assert.equal(run.body.status, 'held', 'a tripped delete guard holds the run (docs/run-safety.md)');
    assert.equal(run.body.errors[0].code, 'delete_guard');
    const forced = await sync(fixture.ctx, 'guard', items(4), 'force=true');
    assert.equal(forced.status, 200, forced.text);
    assert.equal(forced.body.counts.deleted, 6);
  });

  test('dryRun returns the plan and counts and changes nothing', async () => {
    await makeCollection(fixture.ctx, 'dry');
    await sync(fixture.ctx, 'dry', items(5));
    const before = await stored(fixture.ctx, fixture.tenantId, 'dry');
    const feed = items(5).slice(1);
    feed[0]!.price = 1000;
    feed.push({ id: 'new', name: 'n', price: 1 });
    const run = await sync(fixture.ctx, 'dry', feed, 'dryRun=true');
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.status, 'planned');
    assert.deepEqual(
      [run.body.counts.created, run.body.counts.updated, run.body.counts.deleted, run.body.counts.unchanged],
      [1, 1, 1, 3],
    );
    assert.deepEqual(run.body.plan, { create: ['new'], update: ['r1'], delete: ['r0'] });
    assert.equal(run.body.snapshotId, null);
    assert.deepEqual(await stored(fixture.ctx, fixture.tenantId, 'dry'), before);
  });
});

describe('overrides and conflicts', () => {
  test('keep-manual: the override stays and a conflict opens; resolve take-source drops it', async () => {
    await makeCollection(fixture.ctx, 'km');
    await sync(fixture.ctx, 'km', items(2));
    await setOverride(fixture.ctx, fixture.tenantId, 'km', 'r1', '/price', 5, 1);
    const moved = items(2);
    moved[1]!.price = 7;
    const run = await sync(fixture.ctx, 'km', moved);
    assert.equal(run.body.counts.conflicts, 1);
    let rows = await stored(fixture.ctx, fixture.tenantId, 'km');
    assert.equal(rows.get('r1')!.data!.price, 5);
    assert.equal(rows.get('r1')!.source!.price, 7);
    const list = await fixture.server.request('GET', '/v1/collections/km/conflicts', {
      key: fixture.ctx.key,
    });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.items.length, 1);
    const conflict = list.body.items[0];
    assert.deepEqual(
      {
        recordId: conflict.recordId,
        path: conflict.path,
        manualValue: conflict.manualValue,
        sourceValue: conflict.sourceValue,
        status: conflict.status,
      },
      { recordId: 'r1', path: '/price', manualValue: 5, sourceValue: 7, status: 'open' },
    );
    const resolved = await fixture.server.request(
      'POST',
      `/v1/collections/km/conflicts/${conflict.id}/resolve`,
      {
        key: fixture.ctx.key,
        body: { resolution: 'take-source' },
      },
    );
    assert.equal(resolved.status, 200, resolved.text);
    assert.equal(resolved.body.status, 'resolved');
    rows = await stored(fixture.ctx, fixture.tenantId, 'km');
    assert.equal(rows.get('r1')!.data!.price, 7);
    assert.deepEqual(rows.get('r1')!.overrides, {});
    const again = await fixture.server.request(
      'POST',
      `/v1/collections/km/conflicts/${conflict.id}/resolve`,
      {
        key: fixture.ctx.key,
        body: { resolution: 'take-source' },
      },
    );
    assert.equal(again.status, 409);
  });

  test('resolve keep-manual keeps the override and the next unchanged-field sync opens no conflict', async () => {
    await makeCollection(fixture.ctx, 'km2');
    await sync(fixture.ctx, 'km2', items(1));
    await setOverride(fixture.ctx, fixture.tenantId, 'km2', 'r0', '/name', 'mine', 'item 0');
    await sync(fixture.ctx, 'km2', [{ id: 'r0', name: 'upstream', price: 0 }]);
    const list = await fixture.server.request('GET', '/v1/collections/km2/conflicts', {
      key: fixture.ctx.key,
    });
    const resolved = await fixture.server.request(
      'POST',
      `/v1/collections/km2/conflicts/${list.body.items[0].id}/resolve`,
      {
        key: fixture.ctx.key,
        body: { resolution: 'keep-manual' },
      },
    );
    assert.equal(resolved.status, 200, resolved.text);
    const next = await sync(fixture.ctx, 'km2', [{ id: 'r0', name: 'upstream', price: 1 }]);
    assert.equal(next.body.counts.conflicts, 0);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'km2');
    assert.deepEqual(rows.get('r0')!.data, { id: 'r0', name: 'mine', price: 1 });
  });

  test('an open conflict closes when upstream comes back to the value the override was made against', async () => {
    await makeCollection(fixture.ctx, 'back');
    await sync(fixture.ctx, 'back', items(2));
    await setOverride(fixture.ctx, fixture.tenantId, 'back', 'r1', '/price', 5, 1);
    const moved = items(2);
    moved[1]!.price = 7;
    assert.equal((await sync(fixture.ctx, 'back', moved)).body.counts.conflicts, 1);
    const open = async () =>
      (
        await fixture.server.request('GET', '/v1/collections/back/conflicts?status=open', {
          key: fixture.ctx.key,
        })
      ).body.items.filter((c: { status: string }) => c.status === 'open');
    assert.equal((await open()).length, 1);
    await sync(fixture.ctx, 'back', items(2)); // price back to 1
    assert.deepEqual(await open(), [], 'the conflict has no premise any more');
    const rows = await stored(fixture.ctx, fixture.tenantId, 'back');
    assert.equal(rows.get('r1')!.data!.price, 5, 'the override stays');
  });

  test('take-source policy drops the override and records the conflict as resolved', async () => {
    await makeCollection(fixture.ctx, 'ts', { conflictPolicy: 'take-source' });
    await sync(fixture.ctx, 'ts', items(1));
    await setOverride(fixture.ctx, fixture.tenantId, 'ts', 'r0', '/price', 5, 0);
    const run = await sync(fixture.ctx, 'ts', [{ id: 'r0', name: 'item 0', price: 9 }]);
    assert.equal(run.body.counts.conflicts, 1);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'ts');
    assert.equal(rows.get('r0')!.data!.price, 9);
    assert.deepEqual(rows.get('r0')!.overrides, {});
    const list = await fixture.server.request('GET', '/v1/collections/ts/conflicts?status=resolved', {
      key: fixture.ctx.key,
    });
    assert.equal(list.body.items.length, 1);
    assert.equal(list.body.items[0].resolution, 'take-source');
  });

  test('an override upstream caught up with retires itself', async () => {
    await makeCollection(fixture.ctx, 'ret');
    await sync(fixture.ctx, 'ret', items(1));
    await setOverride(fixture.ctx, fixture.tenantId, 'ret', 'r0', '/price', 5, 0);
    const run = await sync(fixture.ctx, 'ret', [{ id: 'r0', name: 'item 0', price: 5 }]);
    assert.equal(run.body.counts.conflicts, 0);
    assert.equal(run.body.counts.overridesRetired, 1);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'ret');
    assert.deepEqual(rows.get('r0')!.overrides, {});
    assert.equal(rows.get('r0')!.data!.price, 5);
  });

  test('an upstream change elsewhere keeps the override without a conflict', async () => {
    await makeCollection(fixture.ctx, 'other');
    await sync(fixture.ctx, 'other', items(1));
    await setOverride(fixture.ctx, fixture.tenantId, 'other', 'r0', '/price', 5, 0);
    const run = await sync(fixture.ctx, 'other', [{ id: 'r0', name: 'renamed', price: 0 }]);
    assert.equal(run.body.counts.conflicts, 0);
    const rows = await stored(fixture.ctx, fixture.tenantId, 'other');
    assert.deepEqual(rows.get('r0')!.data, { id: 'r0', name: 'renamed', price: 5 });
  });
});

describe('history', () => {
  test('GET …/syncs lists runs newest first, GET /v1/syncs/{id} has counts, timings and origin', async () => {
    await makeCollection(fixture.ctx, 'hist');
    await sync(fixture.ctx, 'hist', items(2));
    const second = await sync(fixture.ctx, 'hist', items(3));
    const list = await fixture.server.request('GET', '/v1/collections/hist/syncs?limit=1', {
      key: fixture.ctx.key,
    });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.items[0].id, second.body.id);
    assert.ok(list.body.nextCursor);
    const page2 = await fixture.server.request(
      'GET',
      `/v1/collections/hist/syncs?limit=1&cursor=${list.body.nextCursor}`,
      { key: fixture.ctx.key },
    );
    assert.equal(page2.body.items.length, 1);
    assert.notEqual(page2.body.items[0].id, second.body.id);
    const one = await fixture.server.request('GET', `/v1/syncs/${second.body.id}`, { key: fixture.ctx.key });
    assert.equal(one.body.origin.kind, 'api');
    assert.ok(one.body.origin.apiKeyId);
    assert.equal(typeof one.body.timings.totalMs, 'number');
    assert.equal(one.body.counts.created, 1);
    const other = await fixture.server.createTenant('other-tenant');
    const hidden = await fixture.server.request('GET', `/v1/syncs/${second.body.id}`, { key: other.key });
    assert.equal(hidden.status, 404);
  });
});
