import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_RECORD_BYTES } from '../../src/json/index.ts';
import { JSON_PATCH, MERGE, type RecordsFixture, startRecordsFixture } from './fixture.ts';

let f: RecordsFixture;
before(async () => {
  f = await startRecordsFixture();
});
after(() => f.close());

async function putRecord(id: string, body: object) {
  const put = await f.call('PUT', f.records(id), { body: { id, ...body } });
  assert.equal(put.status, 201, put.text);
  return (await f.call('GET', f.records(id))).text;
}

test('a JSON Patch that doubles a subtree per level until it is huge → 422 record_too_large, nothing stored', async () => {
  const before = await putRecord('amp', { name: 'small' });
  // 24 levels of a 1 KB string copied twice per level would be ~16 GB of JSON text.
  const patch: object[] = [{ op: 'add', path: '/d0', value: 'x'.repeat(1000) }];
  for (let level = 0; level < 24; level++) {
    patch.push(
      { op: 'add', path: `/d${level + 1}`, value: [] },
      { op: 'copy', from: `/d${level}`, path: `/d${level + 1}/-` },
      { op: 'copy', from: `/d${level}`, path: `/d${level + 1}/-` },
      { op: 'remove', path: `/d${level}` },
    );
  }
  const response = await f.call('PATCH', f.records('amp'), { body: patch, headers: JSON_PATCH });
  assert.equal(response.status, 422, response.text);
  assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal(response.body.code, 'record_too_large');
  assert.equal(response.body.limit, MAX_RECORD_BYTES);
  assert.equal((await f.call('GET', f.records('amp'))).text, before);
});

test('a merge patch whose result is over the record limit → 422 record_too_large, nothing stored', async () => {
  const before = await putRecord('merge', { a: 'a'.repeat(600_000) });
  const response = await f.call('PATCH', f.records('merge'), {
    body: { b: 'b'.repeat(600_000) },
    headers: MERGE,
  });
  assert.equal(response.status, 422, response.text);
  assert.equal(response.body.code, 'record_too_large');
  assert.equal((await f.call('GET', f.records('merge'))).text, before);
});

test('a JSON Patch of 10,000 adds applies; 10,001 operations → 413, nothing stored', async () => {
  const before = await putRecord('many', { name: 'many' });
  const adds = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ op: 'add', path: `/k${i}`, value: i }));
  const refused = await f.call('PATCH', f.records('many'), { body: adds(10_001), headers: JSON_PATCH });
  assert.equal(refused.status, 413, refused.text);
  assert.equal(refused.body.code, 'payload_too_large');
  assert.match(refused.body.detail, /at most 10000 operations/);
  assert.equal((await f.call('GET', f.records('many'))).text, before);
  const applied = await f.call('PATCH', f.records('many'), { body: adds(10_000), headers: JSON_PATCH });
  assert.equal(applied.status, 200, applied.text);
  assert.equal(Object.keys(applied.body).length, 10_002);
});

test('a sync feed record over the record limit is a feed error with its row, nothing stored', async () => {
  const big = JSON.stringify({ id: 'big', text: 'x'.repeat(MAX_RECORD_BYTES) });
  for (const [contentType, body] of [
    ['application/x-ndjson', `{"id":"ok"}\n${big}\n`],
    ['application/json', `[{"id":"ok"},${big}]`],
  ]) {
    const response = await f.call('POST', '/v1/collections/products/syncs?mode=partial', {
      rawBody: body,
      headers: { 'content-type': contentType as string },
    });
    assert.equal(response.status, 422, response.text);
    assert.equal(response.body.code, 'feed_invalid');
    assert.deepEqual(
      response.body.errors.map((error: { row: number; code: string }) => [error.row, error.code]),
      [[2, 'record_too_large']],
    );
  }
  assert.equal((await f.call('GET', f.records('ok'))).status, 404);
});

test('a JSON Patch that nests the record 10,000 levels deep → 422 unsafe_json, not a stack overflow', async () => {
  const before = await putRecord('nest', { name: 'nest' });
  // Each copy of the whole record into its own member nests it one level deeper.
  const patch = Array.from({ length: 10_000 }, () => ({ op: 'copy', from: '', path: '/inner' }));
  const response = await f.call('PATCH', f.records('nest'), { body: patch, headers: JSON_PATCH });
  assert.equal(response.status, 422, response.text);
  assert.equal(response.body.code, 'unsafe_json');
  assert.match(response.body.detail, /deeper than 64/);
  assert.equal((await f.call('GET', f.records('nest'))).text, before);
  // Adds along an ever longer path: refused as too deep as well.
  const nested: object[] = [];
  let path = '';
  for (let i = 0; i < 100; i++) {
    nested.push({ op: 'add', path: `${path}/n`, value: {} });
    path += '/n';
  }
  const deep = await f.call('PATCH', f.records('nest'), { body: nested, headers: JSON_PATCH });
  assert.equal(deep.status, 422, deep.text);
  assert.equal(deep.body.code, 'unsafe_json');
  assert.equal((await f.call('GET', f.records('nest'))).text, before);
});
