import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyJsonPatch,
  JsonPatchError,
  type JsonPatchOperation,
  type JsonPatchWork,
  type JsonValue,
  jsonByteLength,
  MAX_JSON_PATCH_OPERATIONS,
} from '../../src/json/index.ts';
import { deepFreeze } from './deep-freeze.ts';

/** The entries copied into working copies by a patch of `count` operations made by `make`. */
function workOf(count: number, make: (i: number) => JsonPatchOperation[]): number {
  const doc = deepFreeze({ id: 'r', items: [1, 2, 3], nested: { list: [] as number[], deep: { a: 1 } } });
  const patch: JsonPatchOperation[] = [];
  for (let i = 0; patch.length < count; i++) patch.push(...make(i));
  patch.length = count;
  const work: JsonPatchWork = { copiedEntries: 0 };
  applyJsonPatch(doc, patch, { work });
  assert.ok(work.copiedEntries > 0, 'the patch copied the containers it changed');
  return work.copiedEntries;
}

// Linear work: 4x the operations may cost at most ~4x the copying (a copy per operation made it 16x).
for (const [name, make] of [
  ['adds to one object', (i: number) => [{ op: 'add', path: `/k${i}`, value: i }]],
  ['appends to a nested array', (i: number) => [{ op: 'add', path: '/nested/list/-', value: i }]],
  [
    'replaces and removes in a nested object',
    (i: number) => [
      { op: 'add', path: `/nested/deep/k${i}`, value: i },
      { op: 'replace', path: `/nested/deep/k${i}`, value: -i },
      { op: 'remove', path: '/nested/deep/a' },
      { op: 'add', path: '/nested/deep/a', value: i },
    ],
  ],
  [
    'moves between two objects',
    (i: number) => [
      { op: 'add', path: `/nested/deep/m${i}`, value: { v: i } },
      { op: 'move', from: `/nested/deep/m${i}`, path: `/m${i}` },
    ],
  ],
] as const) {
  test(`JSON Patch work grows linearly with the operations: ${name}`, () => {
    const small = workOf(1000, make as (i: number) => JsonPatchOperation[]);
    const large = workOf(4000, make as (i: number) => JsonPatchOperation[]);
    assert.ok(large <= 4 * small + 16, `1k operations copied ${small} entries, 4k copied ${large}`);
  });
}

test('a copied subtree is shared, never edited through the other location', () => {
  const doc = deepFreeze({ a: { list: [1] } });
  const result = applyJsonPatch(doc, [
    { op: 'add', path: '/a/list/-', value: 2 },
    { op: 'copy', from: '/a', path: '/b' },
    { op: 'add', path: '/b/list/-', value: 3 },
    { op: 'add', path: '/a/x', value: 'only a' },
    { op: 'copy', from: '/b/list', path: '/c' },
    { op: 'remove', path: '/c/0' },
  ]);
  assert.deepEqual(result, {
    a: { list: [1, 2], x: 'only a' },
    b: { list: [1, 2, 3] },
    c: [2, 3],
  });
  assert.deepEqual(doc, { a: { list: [1] } });
});

test(`a patch of more than ${MAX_JSON_PATCH_OPERATIONS} operations is refused before anything applies`, () => {
  const patch = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, (_, i) => ({
    op: 'add',
    path: `/k${i}`,
    value: i,
  }));
  assert.throws(
    () => applyJsonPatch({}, patch),
    (error: unknown) => error instanceof JsonPatchError && error.code === 'too-many-operations',
  );
  const applied = applyJsonPatch({}, patch.slice(1)) as object;
  assert.equal(Object.keys(applied).length, MAX_JSON_PATCH_OPERATIONS);
});

test('jsonByteLength is the UTF-8 length of the compact text, and stops past the limit', () => {
  const values: JsonValue[] = [
    { a: [1, 'é', null, true, { b: '\n"' }], '€': -1.5e-7, '': [] },
    [],
    {},
    'x',
    12,
  ];
  for (const value of values) {
    assert.equal(jsonByteLength(value), Buffer.byteLength(JSON.stringify(value)));
  }
  // 40 levels of a subtree copied twice per level: 2^40 leaves as text, a few dozen objects in memory.
  let doubled: unknown = 'x'.repeat(100);
  for (let level = 0; level < 40; level++) doubled = [doubled, doubled];
  assert.ok(jsonByteLength(doubled as never, 1 << 20) > 1 << 20);
  // Nesting deeper than any recursion could go.
  let deep: unknown = [];
  for (let level = 0; level < 200_000; level++) deep = [deep];
  assert.equal(jsonByteLength(deep as never), 2 * 200_001);
});
