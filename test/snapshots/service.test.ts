import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AppError } from '../../src/errors.ts';
import { SnapshotService } from '../../src/features/snapshots/snapshots.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { ABSENT, expandCopy, Writer } from './fixture.ts';

const DAY = 24 * 60 * 60 * 1000;
let database: TestDatabase;
let time = Date.parse('2026-01-01T00:00:00Z');
const clock = () => new Date(time);
let snapshots: SnapshotService;

before(async () => {
  database = await createTestDatabase();
  snapshots = new SnapshotService(database.db, { retentionDays: 30, now: clock });
});
after(() => database.close());

function tick(ms = 1000): void {
  time += ms;
}

async function versionCount(w: Writer, collectionId: string): Promise<number> {
  const [row] = await database.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM record_versions WHERE tenant_id = $1 AND collection_id = $2',
    [w.tenantId, collectionId],
  );
  return row!.n;
}

test('create, list, get, relabel, pin, unpin and delete snapshots', async () => {
  const w = await Writer.create(database.db, 'crud', clock);
  const first = await snapshots.create(w.tenantId, { label: 'first' });
  tick();
  const second = await snapshots.create(w.tenantId, { pinned: true });
  assert.equal(first.label, 'first');
  assert.equal(first.auto, false);
  assert.equal(first.expiresAt, new Date(time - 1000 + 30 * DAY).toISOString());
  assert.equal(second.pinned, true);
  assert.equal(second.expiresAt, null);
  assert.ok(BigInt(second.changeId) > BigInt(first.changeId));

  const listed = await snapshots.list(w.tenantId, null, 10);
  assert.deepEqual(
    listed.map((s) => s.id),
    [second.id, first.id],
  );
  const page = await snapshots.list(w.tenantId, second.changeId, 10);
  assert.deepEqual(
    page.map((s) => s.id),
    [first.id],
  );

  const pinned = await snapshots.update(w.tenantId, first.id, { pinned: true, label: 'kept' });
  assert.equal(pinned.pinned, true);
  assert.equal(pinned.label, 'kept');
  assert.equal(pinned.expiresAt, null);
  const unpinned = await snapshots.update(w.tenantId, first.id, { pinned: false });
  assert.equal(unpinned.label, 'kept');
  assert.equal(unpinned.expiresAt, first.expiresAt);
  const unlabelled = await snapshots.update(w.tenantId, first.id, { label: null });
  assert.equal(unlabelled.label, null);

  await snapshots.delete(w.tenantId, first.id);
  await assert.rejects(snapshots.get(w.tenantId, first.id), (e: AppError) => e.code === 'snapshot_not_found');
  // Another tenant's snapshot is not found either.
  const other = await Writer.create(database.db, 'crud-other', clock);
  await assert.rejects(
    snapshots.get(other.tenantId, second.id),
    (e: AppError) => e.code === 'snapshot_not_found',
  );
  await assert.rejects(
    snapshots.update(other.tenantId, second.id, { pinned: false }),
    (e: AppError) => e.code === 'snapshot_not_found',
  );
});

test('restore after syncs, patches and deletes brings back the earlier values, overrides and deletions', async () => {
  const w = await Writer.create(database.db, 'restore', clock);
  const products = await w.collection('products');
  await w.sync(products, {
    a: { name: 'A', price: 1 },
    b: { name: 'B', price: 2 },
    c: { name: 'C', price: 3 },
  });
  tick();
  await w.patch(products, 'a', 'price', 10);
  tick();
  await w.remove(products, 'c');
  tick();
  const copy = await w.states(products);
  const snapshot = await snapshots.create(w.tenantId, { label: 'before the bad day' });
  tick();

  await w.sync(products, {
    a: { name: 'A2', price: 1 },
    b: { name: 'B', price: 20 },
    d: { name: 'D', price: 4 },
  });
  tick();
  await w.patch(products, 'b', 'name', 'Bee');
  tick();
  await w.remove(products, 'a');
  tick();
  await w.patch(products, 'd', 'price', 40);
  tick();
  const beforeRestore = await w.states(products);
  assert.notDeepEqual(beforeRestore, copy);

  const result = await snapshots.restore(w.tenantId, snapshot.id, { apiKeyId: null });
  const restored = await w.states(products);
  assert.deepEqual(restored, expandCopy(copy, Object.keys(restored)));
  assert.deepEqual(restored.d, ABSENT);
  assert.equal(result.collections.length, 1);
  // a comes back, d goes, b changes; c stays deleted but its source and upstream state come back.
  assert.deepEqual(result.collections[0]!.restored, { created: 1, changed: 2, deleted: 1 });

  // The restore is a new set of versions: restoring the snapshot taken just before undoes it.
  tick();
  const undo = await snapshots.get(w.tenantId, result.undoSnapshotId);
  assert.equal(undo.auto, true);
  await snapshots.restore(w.tenantId, undo.id, { apiKeyId: null });
  assert.deepEqual(await w.states(products), beforeRestore);
});

test('restoring one collection leaves the others untouched', async () => {
  const w = await Writer.create(database.db, 'one-collection', clock);
  const products = await w.collection('products');
  const events = await w.collection('events');
  await w.sync(products, { p1: { v: 1 } });
  await w.sync(events, { e1: { v: 1 } });
  tick();
  const snapshot = await snapshots.create(w.tenantId, {});
  tick();
  await w.sync(products, { p1: { v: 2 } });
  await w.sync(events, { e1: { v: 2 }, e2: { v: 1 } });
  tick();
  const eventsBefore = await w.states(events);
  const eventVersions = await versionCount(w, events);

  await snapshots.restore(w.tenantId, snapshot.id, { apiKeyId: null, collections: ['products'] });
  assert.deepEqual((await w.effective(products)).p1, { v: 1 });
  assert.deepEqual(await w.states(events), eventsBefore);
  assert.equal(await versionCount(w, events), eventVersions);

  // A collection that does not exist fails the whole restore: nothing changes.
  const productsNow = await w.states(products);
  await assert.rejects(
    snapshots.restore(w.tenantId, snapshot.id, { apiKeyId: null, collections: ['events', 'nope'] }),
    (e: AppError) => e.code === 'collection_not_found',
  );
  assert.deepEqual(await w.states(events), eventsBefore);
  assert.deepEqual(await w.states(products), productsNow);
});

test('restore writes only the records changed since the snapshot', async () => {
  const w = await Writer.create(database.db, 'proportional', clock);
  const big = await w.collection('big');
  const feed: Record<string, { n: number }> = {};
  for (let i = 0; i < 200; i++) feed[`r${String(i).padStart(3, '0')}`] = { n: i };
  await w.sync(big, feed);
  tick();
  const snapshot = await snapshots.create(w.tenantId, {});
  tick();
  await w.sync(big, { ...feed, r001: { n: -1 }, r002: { n: -2 } });
  tick();
  const versions = await versionCount(w, big);
  const result = await snapshots.restore(w.tenantId, snapshot.id, { apiKeyId: null });
  assert.deepEqual(result.collections[0]!.restored, { created: 0, changed: 2, deleted: 0 });
  assert.equal(await versionCount(w, big), versions + 2);
  // A second restore to the same point finds nothing to write.
  const again = await snapshots.restore(w.tenantId, snapshot.id, { apiKeyId: null });
  assert.deepEqual(again.collections[0]!.restored, { created: 0, changed: 0, deleted: 0 });
});

test('asOf (snapshot id or timestamp) reads exactly what was read at that time', async () => {
  const w = await Writer.create(database.db, 'as-of', clock);
  const products = await w.collection('products');
  await w.sync(products, { a: { n: 1 }, b: { n: 2 } });
  tick(60_000);
  const readAtT1 = await w.effective(products);
  const t1 = clock();
  const snapshot = await snapshots.create(w.tenantId, {});
  tick(60_000);
  await w.patch(products, 'a', 'n', 100);
  await w.remove(products, 'b');
  await w.sync(products, { a: { n: 1 }, b: { n: 2 }, c: { n: 3 } });
  tick(60_000);
  const readAtT2 = await w.effective(products);
  const t2 = clock();
  tick(60_000);
  await w.sync(products, { c: { n: 30 } });

  const bySnapshot = await snapshots.listRecordsAt(w.tenantId, 'products', snapshot.id, null, 100);
  assert.deepEqual(toObject(bySnapshot!), readAtT1);
  const byTime1 = await snapshots.listRecordsAt(w.tenantId, 'products', t1.toISOString(), null, 100);
  assert.deepEqual(toObject(byTime1!), readAtT1);
  const byTime2 = await snapshots.listRecordsAt(w.tenantId, 'products', t2.toISOString(), null, 100);
  assert.deepEqual(toObject(byTime2!), readAtT2);
  // Paging in record id order.
  const firstPage = await snapshots.listRecordsAt(w.tenantId, 'products', t2.toISOString(), null, 1);
  const secondPage = await snapshots.listRecordsAt(
    w.tenantId,
    'products',
    t2.toISOString(),
    firstPage![0]!.id,
    10,
  );
  assert.deepEqual(toObject([...firstPage!, ...secondPage!]), readAtT2);

  const one = await snapshots.readRecordAt(w.tenantId, 'products', 'a', t2.toISOString());
  assert.deepEqual(JSON.parse(one!.dataText!), readAtT2.a);
  await assert.rejects(
    snapshots.readRecordAt(w.tenantId, 'products', 'c', snapshot.id),
    (e: AppError) => e.code === 'record_not_found',
  );
  // Now (or later) means the current rows: the caller reads them itself.
  assert.equal(
    await snapshots.listRecordsAt(w.tenantId, 'products', new Date(time + DAY).toISOString(), null, 9),
    null,
  );
  await assert.rejects(
    snapshots.listRecordsAt(w.tenantId, 'products', 'yesterday', null, 9),
    (e: AppError) => e.code === 'validation_failed',
  );
  await assert.rejects(
    snapshots.listRecordsAt(w.tenantId, 'products', new Date(time - 31 * DAY).toISOString(), null, 9),
    (e: AppError) => e.code === 'as_of_out_of_retention',
  );
});

test('diff lists records created, changed (field by field) and deleted since the snapshot', async () => {
  const w = await Writer.create(database.db, 'diff', clock);
  const products = await w.collection('products');
  const events = await w.collection('events');
  await w.sync(products, { a: { name: 'A', price: 1 }, b: { name: 'B' }, c: { name: 'C' } });
  const snapshot = await snapshots.create(w.tenantId, {});
  tick();
  await w.sync(products, { a: { name: 'A', price: 2 }, b: { name: 'B' }, d: { name: 'D' } });
  await w.patch(products, 'b', 'name', 'B'); // an override equal to the value: no effective change

  const diff = await snapshots.diff(w.tenantId, snapshot.id, { limit: 100 });
  assert.equal(diff.nextCursor, null);
  const byName = Object.fromEntries(diff.collections.map((c) => [c.name, c]));
  assert.deepEqual(byName.events!.counts, { created: 0, changed: 0, deleted: 0 });
  assert.deepEqual(byName.products!.counts, { created: 1, changed: 1, deleted: 1 });
  assert.deepEqual(byName.products!.records, [
    { id: 'a', change: 'changed', changes: [{ path: '/price', op: 'replace', from: 1, to: 2 }] },
    { id: 'c', change: 'deleted', changes: [{ path: '', op: 'remove', from: { name: 'C' } }] },
    { id: 'd', change: 'created', changes: [{ path: '', op: 'add', to: { name: 'D' } }] },
  ]);

  // Paged, one record at a time, across collections.
  await w.sync(events, { e: { x: 1 } });
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await snapshots.diff(w.tenantId, snapshot.id, { limit: 1, ...(cursor ? { cursor } : {}) });
    for (const c of page.collections) for (const r of c.records) seen.push(`${c.name}/${r.id}`);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  assert.deepEqual(seen, ['products/a', 'products/c', 'products/d', 'events/e']);
  void events;
});

test('retention: unpinned snapshots older than the window expire, and only unneeded versions go', async () => {
  const w = await Writer.create(database.db, 'retention', clock);
  const products = await w.collection('products');
  await w.sync(products, { a: { n: 0 }, b: { n: 0 } });
  tick(DAY);
  const old = await snapshots.create(w.tenantId, { label: 'old' });
  tick(DAY);
  const pinned = await snapshots.create(w.tenantId, { label: 'pinned', pinned: true });
  const pinnedCopy = await w.states(products);
  for (let i = 1; i <= 5; i++) {
    tick(DAY);
    await w.sync(products, { a: { n: i }, b: { n: 0 } });
  }
  tick(40 * DAY);
  const recent = await snapshots.create(w.tenantId, { label: 'recent' });
  const recentCopy = await w.states(products);
  tick(DAY);
  await w.sync(products, { a: { n: 99 }, b: { n: 0 } });
  const recordsBefore = await w.states(products);
  const versionsBefore = await versionCount(w, products);

  const dry = await snapshots.prune(w.tenantId, { dryRun: true });
  assert.deepEqual(
    dry.expired.map((s) => s.label),
    ['old'],
  );
  assert.deepEqual(
    dry.kept.map((s) => [s.label, s.reason]),
    [
      ['pinned', 'pinned'],
      ['recent', 'inside the window'],
    ],
  );
  // a@1..a@4 are needed by nothing; a@0 by the pinned snapshot, a@5 by the recent one.
  assert.deepEqual(dry.versions, [{ collection: 'products', pruned: 4, kept: versionsBefore - 4 }]);
  assert.equal(await versionCount(w, products), versionsBefore);
  await snapshots.get(w.tenantId, old.id);

  const report = await snapshots.prune(w.tenantId, { dryRun: false });
  assert.deepEqual(report.versions, dry.versions);
  await assert.rejects(snapshots.get(w.tenantId, old.id), (e: AppError) => e.code === 'snapshot_not_found');
  assert.equal(await versionCount(w, products), versionsBefore - 4);
  assert.deepEqual(await w.states(products), recordsBefore);

  await snapshots.restore(w.tenantId, pinned.id, { apiKeyId: null });
  assert.deepEqual(await w.states(products), expandCopy(pinnedCopy, ['a', 'b']));
  await snapshots.restore(w.tenantId, recent.id, { apiKeyId: null });
  assert.deepEqual(await w.states(products), expandCopy(recentCopy, ['a', 'b']));
});

test('pruneAll covers every tenant', async () => {
  const reports = await snapshots.pruneAll({ dryRun: true });
  assert.ok(reports.size >= 6);
});

function toObject(rows: Array<{ id: string; dataText: string }>): Record<string, unknown> {
  return Object.fromEntries(rows.map((row) => [row.id, JSON.parse(row.dataText)]));
}
