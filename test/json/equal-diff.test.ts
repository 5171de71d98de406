import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffFields, type JsonObject, type JsonValue, jsonEqual } from '../../src/json/index.ts';
import { deepFreeze } from './deep-freeze.ts';

describe('jsonEqual', () => {
  test('object member order does not matter, array order does', () => {
    assert.equal(jsonEqual({ a: 1, b: { c: [1, { d: 2 }] } }, { b: { c: [1, { d: 2 }] }, a: 1 }), true);
    assert.equal(jsonEqual([1, 2], [2, 1]), false);
  });

  test('different shapes and values are unequal', () => {
    const values: JsonValue[] = [null, true, false, 0, 1, '', '1', [], [null], {}, { a: null }, { b: null }];
    for (let i = 0; i < values.length; i++) {
      for (let j = 0; j < values.length; j++) {
        assert.equal(jsonEqual(values[i] as JsonValue, values[j] as JsonValue), i === j, `${i} vs ${j}`);
      }
    }
    assert.equal(jsonEqual({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(jsonEqual({ a: 1, b: 2 }, { a: 1 }), false);
    assert.equal(jsonEqual({}, []), false);
    assert.equal(jsonEqual(1, 1.0), true);
  });

  test('inherited members do not count', () => {
    assert.equal(jsonEqual({}, Object.create({ a: 1 }) as JsonObject), true);
    assert.equal(jsonEqual(JSON.parse('{"__proto__": 1}') as JsonValue, {}), false);
    assert.equal(
      jsonEqual(JSON.parse('{"__proto__": 1}') as JsonValue, JSON.parse('{"__proto__": 1}')),
      true,
    );
  });
});

describe('diffFields', () => {
  test('create and delete of a whole record are one change at ""', () => {
    assert.deepEqual(diffFields(null, { a: 1 }), [{ path: '', op: 'add', to: { a: 1 } }]);
    assert.deepEqual(diffFields({ a: 1 }, null), [{ path: '', op: 'remove', from: { a: 1 } }]);
    assert.deepEqual(diffFields(null, null), []);
  });

  test('recurses into objects, treats arrays as atomic, sorts by key', () => {
    const before = deepFreeze({ z: 1, a: { x: 1, y: 2 }, tags: ['a', 'b'], same: [1], gone: null });
    const after = deepFreeze({ a: { x: 1, y: 3, w: {} }, tags: ['a', 'c'], same: [1], z: 1, new: 'n' });
    assert.deepEqual(diffFields(before, after), [
      { path: '/a/w', op: 'add', to: {} },
      { path: '/a/y', op: 'replace', from: 2, to: 3 },
      { path: '/gone', op: 'remove', from: null },
      { path: '/new', op: 'add', to: 'n' },
      { path: '/tags', op: 'replace', from: ['a', 'b'], to: ['a', 'c'] },
    ]);
  });

  test('a type change is a replace; equal records give no changes', () => {
    assert.deepEqual(diffFields({ a: { b: 1 } }, { a: [1] }), [
      { path: '/a', op: 'replace', from: { b: 1 }, to: [1] },
    ]);
    assert.deepEqual(diffFields({ a: { b: 1 }, c: [] }, { c: [], a: { b: 1 } }), []);
  });

  test('paths are escaped pointers; inherited names are ordinary keys', () => {
    assert.deepEqual(diffFields({ 'a/b': 1 }, { 'a/b': 2, 'm~n': 1 }), [
      { path: '/a~1b', op: 'replace', from: 1, to: 2 },
      { path: '/m~0n', op: 'add', to: 1 },
    ]);
    assert.deepEqual(diffFields({}, JSON.parse('{"constructor": 1, "__proto__": 2}') as JsonObject), [
      { path: '/__proto__', op: 'add', to: 2 },
      { path: '/constructor', op: 'add', to: 1 },
    ]);
  });
});
