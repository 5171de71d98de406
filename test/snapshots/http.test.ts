// Snapshots through the real API, over history written by the real sync engine and records API.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let tenant: { id: string; slug: string; key: string };
before(async () => {
  server = await startTestServer();
  tenant = await server.createTenant('snap-http');
});
after(() => server.close());

const call = (method: string, path: string, body?: unknown, key = tenant.key) =>
  server.request(method, path, { key, ...(body === undefined ? {} : { body }) });

async function sync(collection: string, feed: unknown[], query = '') {
  const response = await server.request('POST', `/v1/collections/${collection}/syncs${query}`, {
    key: tenant.key,
    rawBody: JSON.stringify(feed),
    headers: { 'content-type': 'application/json' },
  });
  assert.ok(response.status < 300, `sync: ${response.status} ${response.text}`);
  return response.body;
}

async function patch(collection: string, id: string, body: unknown) {
  const response = await server.request('PATCH', `/v1/collections/${collection}/records/${id}`, {
    key: tenant.key,
    rawBody: JSON.stringify(body),
    headers: { 'content-type': 'application/merge-patch+json' },
  });
  assert.ok(response.status < 300, `patch: ${response.status} ${response.text}`);
}

async function remove(collection: string, id: string) {
  const response = await call('DELETE', `/v1/collections/${collection}/records/${id}`);
  assert.ok(response.status < 300, `delete: ${response.status} ${response.text}`);
}

/**
 * Every stored record row (deleted ones included): source, overrides, manual delete, effective value.
 * Not upstream_gone: the sync engine sets it on records already deleted as bookkeeping, without a new
 * version, so history does not hold it (docs/snapshots.md).
 */
async function stored(collection: string) {
  const rows = await server.db.query<Record<string, unknown> & { record_id: string }>(
    `SELECT r.record_id, r.source, r.source_hash, r.upstream_gone, r.overrides, r.manual_delete,
            effective_value(r.data, r.source) AS data
       FROM records r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      WHERE r.tenant_id = $1 AND c.name = $2 ORDER BY r.record_id`,
    [tenant.id, collection],
  );
  return Object.fromEntries(rows.map(({ record_id, ...rest }) => [record_id, rest]));
}

async function list(collection: string, query = '') {
  const response = await call('GET', `/v1/collections/${collection}/records?limit=1000${query}`);
  assert.equal(response.status, 200, response.text);
  return response.body.items as Array<Record<string, unknown>>;
}

test('restore after syncs, patches and deletes, through the API', async () => {
  for (const name of ['products', 'events'])
    assert.ok((await call('PUT', `/v1/collections/${name}`, {})).status < 300);
  const first = await sync('products', [
    { id: 'a', name: 'A', price: 1 },
    { id: 'b', name: 'B', price: 2 },
    { id: 'c', name: 'C', price: 3 },
  ]);
  await sync('events', [{ id: 'e1', title: 'E' }]);
  await patch('products', 'a', { price: 10 });
  await remove('products', 'c');

  // Every applied sync took an automatic snapshot.
  const listed = await call('GET', '/v1/snapshots');
  assert.equal(listed.status, 200);
  const auto = listed.body.items.find((s: { id: string }) => s.id === first.snapshotId);
  assert.equal(auto?.auto, true);

  const copy = await stored('products');
  const readThen = await list('products');
  const oneThen = (await call('GET', '/v1/collections/products/records/a')).body;
  const taken = await call('POST', '/v1/snapshots', { label: 'good' });
  assert.equal(taken.status, 201);
  assert.equal(taken.body.label, 'good');
  const snapshotId = taken.body.id as string;

  await sync('products', [
    { id: 'a', name: 'A2', price: 1 },
    { id: 'b', name: 'B', price: 20 },
    { id: 'd', name: 'D', price: 4 },
  ]);
  await patch('products', 'b', { name: 'Bee' });
  await remove('products', 'a');
  await sync('events', [{ id: 'e1', title: 'E2' }]);
  const eventsBefore = await stored('events');

  const diff = await call('GET', `/v1/snapshots/${snapshotId}/diff`);
  assert.equal(diff.status, 200, diff.text);
  const products = diff.body.collections.find((c: { name: string }) => c.name === 'products');
  assert.deepEqual(products.counts, { created: 1, changed: 1, deleted: 1 });
  assert.deepEqual(
    products.records.map((r: { id: string; change: string }) => [r.id, r.change]),
    [
      ['a', 'deleted'],
      ['b', 'changed'],
      ['d', 'created'],
    ],
  );

  const restored = await call('POST', `/v1/snapshots/${snapshotId}/restore`, { collections: ['products'] });
  assert.equal(restored.status, 200, restored.text);
  const now = await stored('products');
  assert.deepEqual({ ...now, d: undefined }, { ...copy, d: undefined });
  assert.equal(now.d?.data, null);
  assert.deepEqual(await list('products'), readThen);
  assert.deepEqual((await call('GET', '/v1/collections/products/records/a')).body, oneThen);
  assert.deepEqual(
    await stored('events'),
    eventsBefore,
    'restoring one collection leaves the others untouched',
  );

  // The restore can be undone by restoring the snapshot it took first.
  const undo = await call('POST', `/v1/snapshots/${restored.body.undoSnapshotId}/restore`, {});
  assert.equal(undo.status, 200, undo.text);
  assert.equal((await stored('products')).b?.data !== null, true);
  assert.deepEqual((await stored('products')).d?.data, { id: 'd', name: 'D', price: 4 });
});

test('asOf on the records routes reads what was read then', async () => {
  const snapshot = (await call('POST', '/v1/snapshots', { label: 'as-of' })).body;
  const readThen = await list('products');
  await sync('products', [{ id: 'z', name: 'Z' }], '?mode=partial');
  const response = await call('GET', `/v1/collections/products/records?limit=1000&asOf=${snapshot.id}`);
  assert.equal(response.status, 200, response.text);
  assert.deepEqual(response.body.items, readThen);
  const at = encodeURIComponent(snapshot.createdAt);
  assert.deepEqual(
    (await call('GET', `/v1/collections/products/records?limit=1000&asOf=${at}`)).body.items,
    readThen,
  );
  const gone = await call('GET', `/v1/collections/products/records/z?asOf=${snapshot.id}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.code, 'record_not_found');
  const one = await call('GET', `/v1/collections/products/records/b?asOf=${snapshot.id}`);
  assert.deepEqual(
    one.body,
    readThen.find((r) => r.id === 'b'),
  );
  assert.equal((await call('GET', '/v1/collections/products/records?asOf=yesterday')).status, 400);
  const tooOld = await call('GET', '/v1/collections/products/records?asOf=2000-01-01T00:00:00Z');
  assert.equal(tooOld.status, 422);
  assert.equal(tooOld.body.code, 'as_of_out_of_retention');
});

test('pin, relabel, delete; scopes; another tenant sees nothing', async () => {
  const taken = (await call('POST', '/v1/snapshots', {})).body;
  const pinned = await call('PATCH', `/v1/snapshots/${taken.id}`, { pinned: true, label: 'keep' });
  assert.equal(pinned.status, 200);
  assert.equal(pinned.body.pinned, true);
  assert.equal(pinned.body.expiresAt, null);
  assert.equal((await call('PATCH', `/v1/snapshots/${taken.id}`, {})).status, 400);

  const reader = await server.createKey(tenant.key, ['read']);
  assert.equal((await call('GET', `/v1/snapshots/${taken.id}`, undefined, reader.key)).status, 200);
  assert.equal((await call('POST', `/v1/snapshots/${taken.id}/restore`, {}, reader.key)).status, 403);
  assert.equal((await call('POST', '/v1/snapshots', {}, reader.key)).status, 403);

  const other = await server.createTenant('snap-http-other');
  for (const [method, path] of [
    ['GET', `/v1/snapshots/${taken.id}`],
    ['GET', `/v1/snapshots/${taken.id}/diff`],
    ['POST', `/v1/snapshots/${taken.id}/restore`],
    ['DELETE', `/v1/snapshots/${taken.id}`],
  ] as const) {
    const response = await call(method, path, method === 'POST' ? {} : undefined, other.key);
    assert.equal(response.status, 404, `${method} ${path}`);
    assert.equal(response.body.code, 'snapshot_not_found');
  }
  assert.equal((await call('DELETE', `/v1/snapshots/${taken.id}`)).status, 204);
  assert.equal((await call('GET', `/v1/snapshots/${taken.id}`)).status, 404);

  const dry = await call('POST', '/v1/snapshots/prune?dryRun=true');
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.body.dryRun, true);
  assert.ok(dry.body.kept.length > 0);
  assert.ok(
    dry.body.kept.every((s: { reason: string }) => s.reason === 'inside the window' || s.reason === 'pinned'),
  );
});

test('restoring a snapshot that names a deleted collection is refused, and writes nothing', async () => {
  assert.ok((await call('PUT', '/v1/collections/dropped', {})).status < 300);
  await sync('dropped', [{ id: 'q', name: 'Q' }]);
  const snapshot = (await call('POST', '/v1/snapshots', { label: 'with dropped' })).body;
  await patch('products', 'b', { name: 'after the snapshot' });
  assert.equal((await call('DELETE', '/v1/collections/dropped')).status, 204);
  const productsBefore = await stored('products');
  const snapshotsBefore = (await call('GET', '/v1/snapshots?limit=1000')).body.items.length;

  for (const collections of [['dropped'], ['products', 'dropped']]) {
    const refused = await call('POST', `/v1/snapshots/${snapshot.id}/restore`, { collections });
    assert.equal(refused.status, 404, refused.text);
    assert.equal(refused.body.code, 'collection_not_found');
    assert.match(refused.body.detail, /"dropped".*deleted collection is gone with its history/);
  }
  assert.deepEqual(await stored('products'), productsBefore, 'all or nothing: products untouched');
  assert.equal(
    (await call('GET', '/v1/snapshots?limit=1000')).body.items.length,
    snapshotsBefore,
    'no undo snapshot is left behind',
  );

  // The whole tenant restores what exists: the deleted collection is not brought back.
  const whole = await call('POST', `/v1/snapshots/${snapshot.id}/restore`, {});
  assert.equal(whole.status, 200, whole.text);
  assert.ok(!whole.body.collections.some((c: { name: string }) => c.name === 'dropped'));
  assert.equal((await call('GET', '/v1/collections/dropped/records')).status, 404);
});

test('?meta=true&asOf= shows source, overrides and version as they were then', async () => {
  assert.ok((await call('PUT', '/v1/collections/meta', {})).status < 300);
  await sync('meta', [
    { id: 'm', name: 'M', price: 1 },
    { id: 'n', name: 'N', price: 2 },
  ]);
  await patch('meta', 'm', { price: 10 });
  await remove('meta', 'n');
  const readMeta = async (id: string, query = '') => {
    const response = await call('GET', `/v1/collections/meta/records/${id}?meta=true${query}`);
    return { status: response.status, body: response.body, etag: response.headers.get('etag') };
  };
  const mThen = await readMeta('m');
  const nThen = await readMeta('n');
  assert.equal(mThen.status, 200);
  assert.equal(nThen.body.data, null, 'deleted by hand: meta still shows it');
  const snapshot = (await call('POST', '/v1/snapshots', { label: 'meta' })).body;

  await sync('meta', [
    { id: 'm', name: 'M2', price: 1 },
    { id: 'n', name: 'N', price: 2 },
    { id: 'o', name: 'O' },
  ]);
  await patch('meta', 'm', { name: 'Em' });
  const revert = await call('DELETE', '/v1/collections/meta/records/n/overrides');
  assert.ok(revert.status < 300, revert.text);
  assert.notDeepEqual((await readMeta('m')).body, mThen.body);

  for (const asOf of [snapshot.id, encodeURIComponent(snapshot.createdAt)]) {
    const m = await readMeta('m', `&asOf=${asOf}`);
    assert.equal(m.status, 200, JSON.stringify(m.body));
    assert.deepEqual(m.body, mThen.body);
    assert.equal(m.etag, mThen.etag);
    assert.deepEqual((await readMeta('n', `&asOf=${asOf}`)).body, nThen.body);
    const o = await readMeta('o', `&asOf=${asOf}`);
    assert.equal(o.status, 404);
    assert.equal(o.body.code, 'record_not_found');
  }
  // asOf after the last change reads the current meta.
  const later = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
  assert.deepEqual((await readMeta('m', `&asOf=${later}`)).body, (await readMeta('m')).body);
  const tooOld = await readMeta('m', '&asOf=2000-01-01T00:00:00Z');
  assert.equal(tooOld.status, 422);
  assert.equal(tooOld.body.code, 'as_of_out_of_retention');
});

test('restore makes the conflicts match the restored state: closes the moot, reopens the standing', async () => {
  assert.ok((await call('PUT', '/v1/collections/conf', {})).status < 300);
  const feed = (p: Record<string, number>) =>
    sync(
      'conf',
      Object.entries(p).map(([id, value]) => ({ id, p: value })),
      '?mode=partial',
    );
  const conflicts = async (status = 'all') => {
    const response = await call('GET', `/v1/collections/conf/conflicts?status=${status}&limit=1000`);
    assert.equal(response.status, 200, response.text);
    return response.body.items as Array<{
      id: string;
      recordId: string;
      path: string;
      status: string;
      resolution: string | null;
      manualValue: unknown;
      sourceValue: unknown;
      previousSourceValue: unknown;
    }>;
  };
  const open = async () =>
    (await conflicts('open'))
      .map((c) => `${c.recordId}${c.path} ${c.manualValue}/${c.sourceValue}/${c.previousSourceValue}`)
      .sort();
  const resolve = async (recordId: string, resolution: string) => {
    const conflict = (await conflicts('open')).find((c) => c.recordId === recordId)!;
    const response = await call('POST', `/v1/collections/conf/conflicts/${conflict.id}/resolve`, {
      resolution,
    });
    assert.equal(response.status, 200, response.text);
  };

  await feed({ a: 1, b: 1, d: 1, e: 1 });
  for (const id of ['a', 'b', 'd', 'e']) await patch('conf', id, { p: 10 });
  await feed({ a: 2, d: 2, e: 2 }); // conflicts on a, d, e
  await resolve('e', 'keep-manual'); // resolved before the snapshot
  const openThen = await open();
  assert.deepEqual(openThen, ['a/p 10/2/1', 'd/p 10/2/1']);
  const snapshot = (await call('POST', '/v1/snapshots', { label: 'conflicts' })).body;

  await feed({ a: 3, b: 2 }); // a's open conflict refreshed by a later run; b's raised after the snapshot
  await resolve('d', 'keep-manual'); // open at the snapshot, resolved since
  const openAfter = await open();
  assert.deepEqual(openAfter, ['a/p 10/3/1', 'b/p 10/2/1']);

  const restored = await call('POST', `/v1/snapshots/${snapshot.id}/restore`, { collections: ['conf'] });
  assert.equal(restored.status, 200, restored.text);
  assert.equal(restored.body.collections[0].closedConflicts, 1);
  assert.equal(restored.body.collections[0].reopenedConflicts, 1);
  assert.deepEqual(await open(), openThen, 'the open conflicts are those open at the snapshot');
  const all = await conflicts();
  const closedB = all.find((c) => c.recordId === 'b')!;
  assert.equal(closedB.status, 'resolved');
  assert.equal(closedB.resolution, null, 'closed by the restore, not resolved by a person');
  assert.equal(all.find((c) => c.recordId === 'e')!.status, 'resolved', 'resolved before: stays');
  assert.equal(all.filter((c) => c.recordId === 'd').length, 1, 'reopened, not duplicated');

  // Undo: the state after the snapshot comes back, and its conflicts with it.
  const undo = await call('POST', `/v1/snapshots/${restored.body.undoSnapshotId}/restore`, {
    collections: ['conf'],
  });
  assert.equal(undo.status, 200, undo.text);
  assert.deepEqual(await open(), openAfter);
  assert.equal(undo.body.collections[0].closedConflicts, 1, "d's premise is gone again");
  assert.equal(undo.body.collections[0].reopenedConflicts, 1, "b's premise is back");
});

// The sync engine versions its upstream_gone marks (markGone writes the run's change id), so the flag
// set on a record already deleted by hand, or kept by policy, is in history.
test('restore brings back upstream_gone as it was, also where a sync only marked the record gone', async () => {
  assert.ok((await call('PUT', '/v1/collections/gone-hand', {})).status < 300);
  assert.ok((await call('PUT', '/v1/collections/gone-keep', { deletePolicy: 'keep' })).status < 300);
  await sync('gone-hand', [
    { id: 'x', v: 1 },
    { id: 'y', v: 1 },
  ]);
  await sync('gone-keep', [
    { id: 'k', v: 1 },
    { id: 'y', v: 1 },
  ]);
  await remove('gone-hand', 'x'); // deleted by hand: data NULL, upstream_gone false
  const meta = async (collection: string, id: string, query = '') =>
    (await call('GET', `/v1/collections/${collection}/records/${id}?meta=true${query}`)).body;
  const xThen = await meta('gone-hand', 'x');
  const kThen = await meta('gone-keep', 'k');
  assert.equal(xThen.upstreamGone, false);
  assert.equal(kThen.upstreamGone, false);
  const snapshot = (await call('POST', '/v1/snapshots', { label: 'before gone' })).body;

  await sync('gone-hand', [{ id: 'y', v: 1 }]); // x gone upstream: only the flag moves
  await sync('gone-keep', [{ id: 'y', v: 1 }]); // k gone upstream, kept by policy: only the flag
  assert.equal((await meta('gone-hand', 'x')).upstreamGone, true);
  assert.equal((await meta('gone-keep', 'k')).upstreamGone, true);
  await sync('gone-keep', [
    { id: 'k', v: 2 },
    { id: 'y', v: 1 },
  ]); // k comes back changed: its previous version is closed with the flag it had at the end

  // Reading the past and restoring it both give the flag as it was at the snapshot.
  assert.deepEqual(await meta('gone-hand', 'x', `&asOf=${snapshot.id}`), xThen);
  assert.deepEqual(await meta('gone-keep', 'k', `&asOf=${snapshot.id}`), kThen);
  const restored = await call('POST', `/v1/snapshots/${snapshot.id}/restore`, {
    collections: ['gone-hand', 'gone-keep'],
  });
  assert.equal(restored.status, 200, restored.text);
  assert.equal((await meta('gone-hand', 'x')).upstreamGone, false);
  assert.equal((await meta('gone-keep', 'k')).upstreamGone, false);
  assert.equal((await meta('gone-keep', 'k')).data.v, 1);
});
