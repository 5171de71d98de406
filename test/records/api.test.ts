import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { JSON_PATCH, type Json, MERGE, type RecordsFixture, startRecordsFixture } from './fixture.ts';

let f: RecordsFixture;
before(async () => {
  f = await startRecordsFixture();
});
after(() => f.close());

test('PUT creates a record by hand (201, ETag), GET returns it', async () => {
  const put = await f.call('PUT', f.records('p1'), { body: { name: 'Lamp', price: 10 } });
  assert.equal(put.status, 201, put.text);
  assert.deepEqual(put.body, { name: 'Lamp', price: 10, id: 'p1' });
  assert.equal(put.headers.get('etag'), '"1"');
  const get = await f.call('GET', f.records('p1'));
  assert.equal(get.status, 200);
  assert.deepEqual(get.body, { id: 'p1', name: 'Lamp', price: 10 });
  assert.equal(get.headers.get('etag'), '"1"');
  assert.match(get.headers.get('content-type') ?? '', /^application\/json/);
});

test('meta shows no source, one override per member with who and when', async () => {
  const meta = await f.call('GET', `${f.records('p1')}?meta=true`);
  assert.equal(meta.status, 200);
  assert.equal(meta.body.id, 'p1');
  assert.equal(meta.body.source, null);
  assert.equal(meta.body.version, 1);
  assert.deepEqual(
    meta.body.overrides.map((o: Json) => [o.path, o.value, o.by]),
    [
      ['/id', 'p1', f.keyId],
      ['/name', 'Lamp', f.keyId],
      ['/price', 10, f.keyId],
    ],
  );
  assert.ok(!Number.isNaN(Date.parse(meta.body.overrides[0].at)));
});

test('PUT with a different id in the body is refused; a matching integer id is kept', async () => {
  const wrong = await f.call('PUT', f.records('p2'), { body: { id: 'other' } });
  assert.equal(wrong.status, 422);
  assert.equal(wrong.body.code, 'invalid_record');
  const asInteger = await f.call('PUT', f.records('42'), { body: { id: 42, name: 'n' } });
  assert.equal(asInteger.status, 201, asInteger.text);
  assert.deepEqual(asInteger.body, { id: 42, name: 'n' });
  const notObject = await f.call('PUT', f.records('p2'), { body: [1, 2] });
  assert.equal(notObject.status, 422);
});

test('ids are URL-decoded strings up to 512 characters', async () => {
  const id = 'a/b c?d#é';
  const put = await f.call('PUT', f.records(id), { body: { v: 1 } });
  assert.equal(put.status, 201, put.text);
  assert.equal(put.body.id, id);
  const get = await f.call('GET', f.records(id));
  assert.equal(get.status, 200);
  const longest = 'é'.repeat(512);
  assert.equal((await f.call('PUT', f.records(longest), { body: {} })).status, 201);
  assert.equal((await f.call('GET', f.records(longest))).status, 200);
  const long = await f.call('GET', f.records('x'.repeat(513)));
  assert.equal(long.status, 400);
});

test('missing collection and record → 404 problem+json', async () => {
  const noCollection = await f.call('GET', '/v1/collections/nope/records/x');
  assert.equal(noCollection.status, 404);
  assert.equal(noCollection.body.code, 'collection_not_found');
  const noRecord = await f.call('GET', f.records('missing'));
  assert.equal(noRecord.status, 404);
  assert.equal(noRecord.body.code, 'record_not_found');
  assert.match(noRecord.headers.get('content-type') ?? '', /application\/problem\+json/);
  const noCollectionPage = await f.call('GET', '/v1/collections/nope/records');
  assert.equal(noCollectionPage.status, 404);
  assert.equal(noCollectionPage.body.code, 'collection_not_found');
});

test('a page of an empty collection, or past the last id, is empty (200), not a 404', async () => {
  const fresh = await startRecordsFixture('empty-one');
  try {
    const empty = await fresh.call('GET', fresh.records());
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.body.items, []);
  } finally {
    await fresh.close();
  }
  const first = await f.call('GET', `${f.records()}?limit=1`);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.items.length, 1);
  let cursor = first.body.nextCursor;
  for (let pages = 0; cursor !== null && pages < 1000; pages++) {
    const next = await f.call('GET', `${f.records()}?limit=100&cursor=${encodeURIComponent(cursor)}`);
    assert.equal(next.status, 200, next.text);
    cursor = next.body.nextCursor;
  }
  assert.equal(cursor, null);
});

test('PATCH merges, bumps the version; a patch that changes nothing writes no version', async () => {
  const patched = await f.call('PATCH', f.records('p1'), { body: { price: 12 }, headers: MERGE });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body, { id: 'p1', name: 'Lamp', price: 12 });
  assert.equal(patched.headers.get('etag'), '"2"');
  const same = await f.call('PATCH', f.records('p1'), { body: { price: 12 }, headers: MERGE });
  assert.equal(same.status, 200);
  assert.equal(same.headers.get('etag'), '"2"');
  const history = await f.call('GET', `${f.records('p1')}/history`);
  assert.equal(history.body.items.length, 2);
});

test('PATCH may not change the id nor make a non-object', async () => {
  const id = await f.call('PATCH', f.records('p1'), { body: { id: 'x' }, headers: MERGE });
  assert.equal(id.status, 422);
  const removeId = await f.call('PATCH', f.records('p1'), {
    body: [{ op: 'remove', path: '/id' }],
    headers: JSON_PATCH,
  });
  assert.equal(removeId.status, 422);
  const scalar = await f.call('PATCH', f.records('p1'), {
    body: [{ op: 'replace', path: '', value: 3 }],
    headers: JSON_PATCH,
  });
  assert.equal(scalar.status, 422);
  assert.equal(scalar.body.code, 'invalid_record');
  const get = await f.call('GET', f.records('p1'));
  assert.equal(get.headers.get('etag'), '"2"');
});

test('PATCH with another content type → 415; PUT only takes application/json', async () => {
  const text = await f.call('PATCH', f.records('p1'), {
    rawBody: 'x',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(text.status, 415);
  assert.equal(text.body.code, 'unsupported_media_type');
  const none = await f.call('PATCH', f.records('p1'));
  assert.equal(none.status, 415);
  const putPatch = await f.call('PUT', f.records('p1'), { body: [], headers: JSON_PATCH });
  assert.equal(putPatch.status, 415);
});

test('If-None-Match → 304; If-Match stale → 412; If-Match current → 200; If-Match on a missing record → 412', async () => {
  const notModified = await f.call('GET', f.records('p1'), { headers: { 'if-none-match': '"2"' } });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.get('etag'), '"2"');
  const weak = await f.call('GET', f.records('p1'), { headers: { 'if-none-match': 'W/"2"' } });
  assert.equal(weak.status, 304);
  const modified = await f.call('GET', f.records('p1'), { headers: { 'if-none-match': '"1"' } });
  assert.equal(modified.status, 200);
  const stale = await f.call('PATCH', f.records('p1'), {
    body: { price: 1 },
    headers: { ...MERGE, 'if-match': '"1"' },
  });
  assert.equal(stale.status, 412);
  assert.equal(stale.body.code, 'precondition_failed');
  const weakMatch = await f.call('PATCH', f.records('p1'), {
    body: { price: 1 },
    headers: { ...MERGE, 'if-match': 'W/"2"' },
  });
  assert.equal(weakMatch.status, 412, 'a weak tag never matches If-Match');
  const fresh = await f.call('PATCH', f.records('p1'), {
    body: { price: 13 },
    headers: { ...MERGE, 'if-match': '"9", "2"' },
  });
  assert.equal(fresh.status, 200);
  assert.equal(fresh.headers.get('etag'), '"3"');
  const missing = await f.call('PATCH', f.records('none'), {
    body: { a: 1 },
    headers: { ...MERGE, 'if-match': '*' },
  });
  assert.equal(missing.status, 412);
  const createOnly = await f.call('PUT', f.records('p1'), {
    body: { a: 1 },
    headers: { 'if-none-match': '*' },
  });
  assert.equal(createOnly.status, 412);
  const star = await f.call('PUT', f.records('p1'), {
    body: { name: 'Lamp', price: 13 },
    headers: { 'if-match': '*' },
  });
  assert.equal(star.status, 200);
});

test('DELETE is a manual delete: 404 after, visible with ?meta=true, revived by PUT', async () => {
  await f.call('PUT', f.records('d1'), { body: { name: 'gone soon' } });
  const del = await f.call('DELETE', f.records('d1'));
  assert.equal(del.status, 204);
  assert.equal(del.headers.get('etag'), '"2"');
  assert.equal((await f.call('GET', f.records('d1'))).status, 404);
  assert.equal((await f.call('PATCH', f.records('d1'), { body: { a: 1 }, headers: MERGE })).status, 404);
  assert.equal((await f.call('DELETE', f.records('d1'))).status, 404);
  const meta = await f.call('GET', `${f.records('d1')}?meta=true`);
  assert.equal(meta.status, 200);
  assert.equal(meta.body.data, null);
  assert.equal(meta.body.manualDelete.by, f.keyId);
  const list = await f.call('GET', f.records());
  assert.ok(!list.body.items.some((r: Json) => r.id === 'd1'));
  const revive = await f.call('PUT', f.records('d1'), { body: { name: 'back' } });
  assert.equal(revive.status, 201);
  assert.equal(revive.headers.get('etag'), '"3"');
});

test('revert on a record made by hand → 409 no_source_value', async () => {
  const revert = await f.call('DELETE', `${f.records('p1')}/overrides`);
  assert.equal(revert.status, 409);
  assert.equal(revert.body.code, 'no_source_value');
});

test('overrides on a record with a source value: listed, reverted one by one, then all', async () => {
  // A record as a sync leaves it: a source value, no overrides, and the effective value stored as the
  // marker for "the source value" (migrations/0001_baseline.sql), which every read must decode.
  await f.server.db.query(
    `WITH ch AS (INSERT INTO changes (tenant_id, id, kind)
                 SELECT c.tenant_id, nextval('change_seq'), 'sync' FROM collections c WHERE c.name = 'products'
                 RETURNING tenant_id, id)
     INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
     SELECT c.tenant_id, c.id, 's1', $1::jsonb, 'true'::jsonb, ch.id FROM collections c JOIN ch USING (tenant_id)
      WHERE c.name = 'products'`,
    [JSON.stringify({ id: 's1', name: 'Chair', price: 50, seo: { title: 't' } })],
  );
  const patch = await f.call('PATCH', f.records('s1'), {
    body: { price: 45, seo: { title: 'Better' }, extra: true },
    headers: MERGE,
  });
  assert.equal(patch.status, 200, patch.text);
  const overrides = await f.call('GET', `${f.records('s1')}/overrides`);
  assert.equal(overrides.status, 200);
  assert.deepEqual(
    overrides.body.items.map((o: Json) => [o.path, o.value, o.sourceValue, o.sourceMissing ?? false]),
    [
      ['/extra', true, undefined, true],
      ['/price', 45, 50, false],
      ['/seo/title', 'Better', 't', false],
    ],
  );
  const one = await f.call('DELETE', `${f.records('s1')}/overrides?path=${encodeURIComponent('/price')}`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.data.price, 50);
  assert.equal(one.body.data.seo.title, 'Better');
  assert.equal(one.body.overrides.length, 2);
  const unknown = await f.call('DELETE', `${f.records('s1')}/overrides?path=/nope`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 'override_not_found');
  await f.call('DELETE', f.records('s1'));
  assert.equal((await f.call('GET', f.records('s1'))).status, 404);
  const all = await f.call('DELETE', `${f.records('s1')}/overrides`);
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.data, { id: 's1', name: 'Chair', price: 50, seo: { title: 't' } });
  assert.equal(all.body.manualDelete, null);
  assert.deepEqual(all.body.overrides, []);
  const get = await f.call('GET', f.records('s1'));
  assert.deepEqual(get.body, { id: 's1', name: 'Chair', price: 50, seo: { title: 't' } });
  const again = await f.call('DELETE', `${f.records('s1')}/overrides`);
  assert.equal(again.status, 200);
  assert.equal(
    again.headers.get('etag'),
    all.headers.get('etag'),
    'a revert that changes nothing writes nothing',
  );
});

test('history: newest first, origin with the API key, field-level changes, paginated', async () => {
  const history = await f.call('GET', `${f.records('s1')}/history`);
  assert.equal(history.status, 200, history.text);
  const items = history.body.items;
  assert.deepEqual(
    items.map((v: Json) => [v.version, v.origin.kind]),
    [
      [5, 'api'],
      [4, 'api'],
      [3, 'api'],
      [2, 'api'],
      [1, 'sync'],
    ],
  );
  assert.equal(items[3].origin.apiKeyId, f.keyId);
  assert.deepEqual(items[3].changes, [
    { path: '/extra', op: 'add', to: true },
    { path: '/price', op: 'replace', from: 50, to: 45 },
    { path: '/seo/title', op: 'replace', from: 't', to: 'Better' },
  ]);
  assert.deepEqual(
    items[1].changes.map((c: Json) => [c.path, c.op]),
    [['', 'remove']],
  );
  assert.deepEqual(
    items[4].changes.map((c: Json) => [c.path, c.op]),
    [['', 'add']],
  );
  const first = await f.call('GET', `${f.records('s1')}/history?limit=2`);
  assert.equal(first.body.items.length, 2);
  const second = await f.call('GET', `${f.records('s1')}/history?limit=2&cursor=${first.body.nextCursor}`);
  assert.deepEqual(
    second.body.items.map((v: Json) => v.version),
    [3, 2],
  );
  assert.deepEqual(second.body.items[1].changes, items[3].changes);
  const third = await f.call('GET', `${f.records('s1')}/history?limit=2&cursor=${second.body.nextCursor}`);
  assert.deepEqual(
    third.body.items.map((v: Json) => v.version),
    [1],
  );
  assert.equal(third.body.nextCursor, null);
  assert.equal((await f.call('GET', `${f.records('never')}/history`)).status, 404);
});

test('listing pages through every live record once, in id order, with a capped limit', async () => {
  for (let i = 0; i < 25; i++)
    await f.call('PUT', f.records(`l${String(i).padStart(2, '0')}`), { body: { i } });
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=7&cursor=${cursor}` : '?limit=7';
    const page = await f.call('GET', f.records() + query);
    assert.equal(page.status, 200, page.text);
    assert.ok(page.body.items.length <= 7);
    seen.push(...page.body.items.map((r: Json) => String(r.id)));
    // Others write while we page: a record inserted before the cursor does not shift the pages.
    if (cursor === null) await f.call('PUT', f.records('a-first'), { body: {} });
    cursor = page.body.nextCursor;
  } while (cursor);
  assert.deepEqual(seen, [...seen].sort());
  assert.equal(new Set(seen).size, seen.length);
  assert.ok(seen.includes('l24'));
  const tooMany = await f.call('GET', `${f.records()}?limit=100000`);
  assert.equal(tooMany.status, 400);
  const badCursor = await f.call('GET', `${f.records()}?cursor=xyz`);
  assert.equal(badCursor.status, 400);
});

test('export streams every effective record, as a JSON array or NDJSON', async () => {
  const list = await f.call('GET', `${f.records()}?limit=1000`);
  const all = list.body.items;
  const json = await f.call('GET', '/v1/collections/products/export');
  assert.equal(json.status, 200);
  assert.deepEqual(json.body, all);
  const ndjson = await f.call('GET', '/v1/collections/products/export?format=ndjson');
  assert.match(ndjson.headers.get('content-type') ?? '', /ndjson/);
  const lines = ndjson.text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(lines, all);
  const viaAccept = await f.call('GET', '/v1/collections/products/export', {
    headers: { accept: 'application/x-ndjson' },
  });
  assert.equal(viaAccept.text, ndjson.text);
  assert.equal((await f.call('GET', '/v1/collections/nope/export')).status, 404);
});

test('a read-only key cannot write; another tenant sees nothing', async () => {
  const tenant = await f.server.createTenant('other');
  const otherList = await f.server.request('GET', '/v1/collections/products/records/p1', { key: tenant.key });
  assert.equal(otherList.status, 404);
  const readOnly = await f.server.createKey(tenant.key, ['read']);
  const write = await f.server.request('PUT', '/v1/collections/products/records/z', {
    key: readOnly.key,
    body: {},
  });
  assert.equal(write.status, 403);
});
