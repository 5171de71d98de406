import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyOverrides,
  type JsonObject,
  type Override,
  type OverrideSet,
  overridesFor,
} from '../../src/json/index.ts';
import { deepFreeze, frozenJson } from './deep-freeze.ts';

const T1 = '2024-01-01T00:00:00.000Z';
const T2 = '2024-02-02T00:00:00.000Z';

function set(value: unknown, extra: Partial<Override> = {}): Override {
  return { value: value as Override['value'], by: 'k1', at: T1, ...extra };
}

describe('applyOverrides', () => {
  test('applies values and removals over the source without mutating it', () => {
    const source = deepFreeze({ price: 5, name: 'n', seo: { title: 't', description: 'd' }, tags: ['a'] });
    const overrides = deepFreeze<OverrideSet>({
      '/price': set(4),
      '/seo/title': set('T'),
      '/name': { removed: true, by: 'k1', at: T1 },
      '/tags': set(['b']),
    });
    assert.deepEqual(applyOverrides(source, overrides), {
      price: 4,
      seo: { title: 'T', description: 'd' },
      tags: ['b'],
    });
  });

  test('null source, empty overrides, missing removal targets', () => {
    assert.deepEqual(applyOverrides(null, {}), {});
    assert.deepEqual(applyOverrides(null, { '/a': set(1) }), { a: 1 });
    const source = deepFreeze({ a: 1 });
    assert.equal(applyOverrides(source, {}), source);
    assert.deepEqual(applyOverrides(source, { '/b/c': { removed: true, by: null, at: T1 } }), { a: 1 });
  });

  test('creates missing intermediates; replaces a non-object intermediate with an object', () => {
    const source = deepFreeze({ scalar: 'x', list: [1, 2], obj: { keep: 1 } });
    assert.deepEqual(
      applyOverrides(source, {
        '/new/deep/leaf': set(1),
        '/scalar/inner': set(2),
        '/list/0': set(3),
        '/obj/added': set(4),
      }),
      { scalar: { inner: 2 }, list: { '0': 3 }, obj: { keep: 1, added: 4 }, new: { deep: { leaf: 1 } } },
    );
  });

  test('applies parents before children, whatever the key order', () => {
    const overrides: OverrideSet = {
      '/a/b': set(2),
      '/a': set({ x: 1 }),
      '/a/c': { removed: true, by: null, at: T1 },
    };
    assert.deepEqual(applyOverrides({ a: { c: 1 } }, overrides), { a: { x: 1, b: 2 } });
  });

  test('rejects an override of the whole record or with neither value nor removed', () => {
    assert.throws(() => applyOverrides({}, { '': set({}) }));
    assert.throws(() => applyOverrides({}, { '/a': { by: null, at: T1 } }));
  });

  test('__proto__, constructor, toString, prototype, hasOwnProperty overrides pollute nothing', () => {
    const names = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
    const overrides: OverrideSet = {};
    for (const name of names) {
      overrides[`/${name}/polluted`] = set(true);
      overrides[`/x/${name}`] = set({ polluted: true });
    }
    const result = applyOverrides(deepFreeze({ x: {} }), overrides) as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    for (const name of names) {
      assert.equal(Object.hasOwn(result, name), true, name);
      assert.deepEqual(result[name], { polluted: true }, name);
      assert.deepEqual(result['x']?.[name], { polluted: true }, name);
    }
    // And through overridesFor with a parsed body holding __proto__.
    const desired = frozenJson<JsonObject>('{"a": 1, "__proto__": {"polluted": true}}');
    const computed = overridesFor({ a: 1 }, desired, {}, 'k', T1);
    assert.deepEqual(Object.keys(computed), ['/__proto__']);
    const effective = applyOverrides({ a: 1 }, computed);
    assert.deepEqual(effective, desired);
    assert.equal(Object.getPrototypeOf(effective), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

describe('overridesFor', () => {
  test('makes one override per differing leaf, with the source value at the time', () => {
    const source = deepFreeze({ id: '1', price: 5, seo: { title: 't', keep: 1 }, old: 'o', tags: ['a'] });
    const desired = deepFreeze({
      id: '1',
      price: 4,
      seo: { title: 'T', keep: 1, added: 2 },
      tags: ['a', 'b'],
    });
    assert.deepEqual(overridesFor(source, desired, {}, 'k1', T1), {
      '/old': { removed: true, by: 'k1', at: T1, sourceValue: 'o' },
      '/price': { value: 4, by: 'k1', at: T1, sourceValue: 5 },
      '/seo/title': { value: 'T', by: 'k1', at: T1, sourceValue: 't' },
      '/seo/added': { value: 2, by: 'k1', at: T1, sourceMissing: true },
      '/tags': { value: ['a', 'b'], by: 'k1', at: T1, sourceValue: ['a'] },
    });
    assert.deepEqual(overridesFor(source, source, {}, 'k1', T1), {});
  });

  test('a record made by hand: one override per top-level member', () => {
    assert.deepEqual(overridesFor(null, { id: 'x', seo: { title: 't' } }, {}, 'k1', T1), {
      '/id': { value: 'x', by: 'k1', at: T1, sourceMissing: true },
      '/seo': { value: { title: 't' }, by: 'k1', at: T1, sourceMissing: true },
    });
  });

  test('keeps who made an unchanged override; re-stamps changed ones; drops reverted ones', () => {
    const source = { a: 1, b: 2, c: 3, d: 4 };
    const previous = deepFreeze<OverrideSet>({
      '/a': set(10, { sourceValue: 0 }),
      '/b': set(20),
      '/c': set(30),
      '/d': { removed: true, by: 'k1', at: T1, sourceValue: 4 },
    });
    const result = overridesFor(source, { a: 10, b: 21, c: 3 }, previous, 'k2', T2);
    assert.deepEqual(result, {
      '/a': previous['/a'],
      '/b': { value: 21, by: 'k2', at: T2, sourceValue: 2 },
      '/d': previous['/d'],
    });
    // A removal that becomes a value (and back) is a new override.
    const readded = overridesFor(source, { a: 10, b: 21, c: 3, d: 5 }, result, 'k3', T2);
    assert.deepEqual(readded['/d'], { value: 5, by: 'k3', at: T2, sourceValue: 4 });
  });

  test('round trip: applyOverrides(source, overridesFor(source, desired)) equals desired', () => {
    const pairs: [JsonObject | null, JsonObject][] = [
      [null, {}],
      [null, { id: 1, a: { b: [1] } }],
      [{}, { a: null }],
      [{ a: null }, {}],
      [
        { a: 1, b: { c: { d: 1, e: 2 } } },
        { a: 1, b: { c: { d: 2 } } },
      ],
      [{ a: { b: 1 } }, { a: { b: { c: 1 } } }],
      [{ a: { b: { c: 1 } } }, { a: { b: 1 } }],
      [{ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }],
      [{ a: { b: 1 } }, { a: {} }],
      [{ a: {} }, { a: { x: {} } }],
      [{ a: 'x' }, { a: { b: 1 } }],
      [
        { 'a/b': { '~': 1 }, '': 2 },
        { 'a/b': { '~': 2 }, '': 3, ' ': 4 },
      ],
      [{ keep: 1, gone: { deep: 1 } }, { keep: 1 }],
      [
        JSON.parse('{"constructor": 1}'),
        JSON.parse('{"constructor": {"x": 1}, "toString": 2, "__proto__": 3}'),
      ],
    ];
    for (const [source, desired] of pairs) {
      deepFreeze(source);
      deepFreeze(desired);
      const overrides = overridesFor(source, desired, {}, 'k', T1);
      assert.deepEqual(applyOverrides(source, overrides), desired, JSON.stringify({ source, desired }));
      // Recomputing from the result keeps every override as it was.
      assert.deepEqual(overridesFor(source, desired, overrides, 'other', T2), overrides);
    }
  });
});
