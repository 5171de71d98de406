import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { JSON_PATCH, MERGE, type RecordsFixture, startRecordsFixture } from './fixture.ts';

let f: RecordsFixture;
let n = 0;
before(async () => {
  f = await startRecordsFixture();
});
after(() => f.close());

/** PUTs `target` as a fresh record, PATCHes it, returns the response and the record read back. */
async function patchThrough(target: object, patch: unknown, headers: Record<string, string>) {
  const id = `r${++n}`;
  const put = await f.call('PUT', f.records(id), { body: { id, ...target } });
  assert.equal(put.status, 201, put.text);
  const response = await f.call('PATCH', f.records(id), { body: patch, headers });
  const after = await f.call('GET', f.records(id));
  return { id, response, stored: after.body, etag: after.headers.get('etag') };
}

// RFC 7396 Appendix A, every example whose target and result are objects (a record always is one).
const MERGE_EXAMPLES: Array<[object, unknown, object]> = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

for (const [i, [target, patch, result]] of MERGE_EXAMPLES.entries()) {
  test(`RFC 7396 A, example ${i + 1}: ${JSON.stringify(target)} + ${JSON.stringify(patch)}`, async () => {
    const { id, response, stored } = await patchThrough(target, patch, MERGE);
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { id, ...result });
    assert.deepEqual(stored, { id, ...result });
  });
}

test('plain application/json PATCH is a merge patch', async () => {
  const { id, response } = await patchThrough(
    { a: 'b', c: 1 },
    { a: null, d: 2 },
    { 'content-type': 'application/json' },
  );
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, { id, c: 1, d: 2 });
});

// RFC 7396 examples whose result is not an object: refused, the record unchanged.
for (const patch of [['c', 'd'], ['c'], null, 'bar']) {
  test(`RFC 7396 A: merge patch ${JSON.stringify(patch)} would make a non-object → 422, unchanged`, async () => {
    const { id, response, stored, etag } = await patchThrough({ a: 'foo' }, patch, MERGE);
    assert.equal(response.status, 422, response.text);
    assert.equal(response.body.code, 'invalid_record');
    assert.deepEqual(stored, { id, a: 'foo' });
    assert.equal(etag, '"1"');
  });
}

// RFC 6902 Appendix A.
const JSON_PATCH_EXAMPLES: Array<[string, object, unknown[], object]> = [
  [
    'A.1 add an object member',
    { foo: 'bar' },
    [{ op: 'add', path: '/baz', value: 'qux' }],
    { baz: 'qux', foo: 'bar' },
  ],
  [
    'A.2 add an array element',
    { foo: ['bar', 'baz'] },
    [{ op: 'add', path: '/foo/1', value: 'qux' }],
    { foo: ['bar', 'qux', 'baz'] },
  ],
  [
    'A.3 remove an object member',
    { baz: 'qux', foo: 'bar' },
    [{ op: 'remove', path: '/baz' }],
    { foo: 'bar' },
  ],
  [
    'A.4 remove an array element',
    { foo: ['bar', 'qux', 'baz'] },
    [{ op: 'remove', path: '/foo/1' }],
    { foo: ['bar', 'baz'] },
  ],
  [
    'A.5 replace a value',
    { baz: 'qux', foo: 'bar' },
    [{ op: 'replace', path: '/baz', value: 'boo' }],
    { baz: 'boo', foo: 'bar' },
  ],
  [
    'A.6 move a value',
    { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
    [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
    { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
  ],
  [
    'A.7 move an array element',
    { foo: ['all', 'grass', 'cows', 'eat'] },
    [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
    { foo: ['all', 'cows', 'eat', 'grass'] },
  ],
  [
    'A.8 test a value (success)',
    { baz: 'qux', foo: ['a', 2, 'c'] },
    [
      { op: 'test', path: '/baz', value: 'qux' },
      { op: 'test', path: '/foo/1', value: 2 },
    ],
    { baz: 'qux', foo: ['a', 2, 'c'] },
  ],
  [
    'A.10 add a nested member object',
    { foo: 'bar' },
    [{ op: 'add', path: '/child', value: { grandchild: {} } }],
    { foo: 'bar', child: { grandchild: {} } },
  ],
  [
    'A.11 ignore unrecognised elements',
    { foo: 'bar' },
    [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }],
    { foo: 'bar', baz: 'qux' },
  ],
  [
    'A.14 ~ escape ordering',
    { '/': 9, '~1': 10 },
    [{ op: 'test', path: '/~01', value: 10 }],
    { '/': 9, '~1': 10 },
  ],
  [
    'A.16 add an array value',
    { foo: ['bar'] },
    [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
    { foo: ['bar', ['abc', 'def']] },
  ],
  ['copy (§4.5)', { a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: 1 }, c: { b: 1 } }],
];

for (const [name, target, patch, result] of JSON_PATCH_EXAMPLES) {
  test(`RFC 6902 ${name}`, async () => {
    const { id, response, stored } = await patchThrough(target, patch, JSON_PATCH);
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { id, ...result });
    assert.deepEqual(stored, { id, ...result });
  });
}

const FAILING: Array<[string, object, unknown, number, string]> = [
  [
    'A.9 test a value (error)',
    { baz: 'qux' },
    [{ op: 'test', path: '/baz', value: 'bar' }],
    409,
    'patch_test_failed',
  ],
  [
    'A.12 add to a nonexistent target',
    { foo: 'bar' },
    [{ op: 'add', path: '/baz/bat', value: 'qux' }],
    422,
    'patch_failed',
  ],
  [
    'A.15 comparing strings and numbers',
    { '/': 9, '~1': 10 },
    [{ op: 'test', path: '/~01', value: '10' }],
    409,
    'patch_test_failed',
  ],
  ['an unknown op', { foo: 'bar' }, [{ op: 'frobnicate', path: '/foo' }], 400, 'invalid_patch'],
  ['not an array', { foo: 'bar' }, { op: 'add', path: '/x', value: 1 }, 400, 'invalid_patch'],
  ['an out-of-range index', { foo: [1] }, [{ op: 'add', path: '/foo/5', value: 1 }], 422, 'patch_failed'],
];

for (const [name, target, patch, status, code] of FAILING) {
  test(`RFC 6902 ${name} → ${status} ${code}, record unchanged`, async () => {
    const { id, response, stored, etag } = await patchThrough(target, patch, JSON_PATCH);
    assert.equal(response.status, status, response.text);
    assert.equal(response.body.code, code);
    assert.match(response.headers.get('content-type') ?? '', /problem\+json/);
    assert.deepEqual(stored, { id, ...target });
    assert.equal(etag, '"1"');
  });
}

test('a failing test op after a successful replace changes nothing and names the operation', async () => {
  const { id, response, stored, etag } = await patchThrough(
    { name: 'Lamp', price: 10 },
    [
      { op: 'replace', path: '/price', value: 1 },
      { op: 'add', path: '/new', value: true },
      { op: 'test', path: '/name', value: 'Chair' },
    ],
    JSON_PATCH,
  );
  assert.equal(response.status, 409);
  assert.equal(response.body.operation.index, 2);
  assert.equal(response.body.operation.op, 'test');
  assert.equal(response.body.operation.path, '/name');
  assert.match(response.body.detail, /test/);
  assert.deepEqual(stored, { id, name: 'Lamp', price: 10 });
  assert.equal(etag, '"1"');
  const history = await f.call('GET', `${f.records(id)}/history`);
  assert.equal(history.body.items.length, 1);
});
