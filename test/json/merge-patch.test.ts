import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyMergePatch, type JsonValue } from '../../src/json/index.ts';
import { deepFreeze, frozenJson } from './deep-freeze.ts';

// Inputs are deep-frozen: any mutation of target or patch would throw.
function check(target: JsonValue, patch: JsonValue, expected: JsonValue): void {
  assert.deepEqual(applyMergePatch(deepFreeze(target), deepFreeze(patch)), expected);
}

describe('RFC 7396 Appendix A', () => {
  test('1: {"a":"b"} + {"a":"c"}', () => check({ a: 'b' }, { a: 'c' }, { a: 'c' }));
  test('2: {"a":"b"} + {"b":"c"}', () => check({ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }));
  test('3: {"a":"b"} + {"a":null}', () => check({ a: 'b' }, { a: null }, {}));
  test('4: {"a":"b","b":"c"} + {"a":null}', () => check({ a: 'b', b: 'c' }, { a: null }, { b: 'c' }));
  test('5: {"a":["b"]} + {"a":"c"}', () => check({ a: ['b'] }, { a: 'c' }, { a: 'c' }));
  test('6: {"a":"c"} + {"a":["b"]}', () => check({ a: 'c' }, { a: ['b'] }, { a: ['b'] }));
  test('7: {"a":{"b":"c"}} + {"a":{"b":"d","c":null}}', () =>
    check({ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }));
  test('8: {"a":[{"b":"c"}]} + {"a":[1]}', () => check({ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }));
  test('9: ["a","b"] + ["c","d"]', () => check(['a', 'b'], ['c', 'd'], ['c', 'd']));
  test('10: {"a":"b"} + ["c"]', () => check({ a: 'b' }, ['c'], ['c']));
  test('11: {"a":"foo"} + null', () => check({ a: 'foo' }, null, null));
  test('12: {"a":"foo"} + "bar"', () => check({ a: 'foo' }, 'bar', 'bar'));
  test('13: {"e":null} + {"a":1}', () => check({ e: null }, { a: 1 }, { e: null, a: 1 }));
  test('14: [1,2] + {"a":"b","c":null}', () => check([1, 2], { a: 'b', c: null }, { a: 'b' }));
  test('15: {} + {"a":{"bb":{"ccc":null}}}', () =>
    check({}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }));
});

describe('applyMergePatch', () => {
  test('the example of RFC 7396 §3', () => {
    check(
      {
        title: 'Goodbye!',
        author: { givenName: 'John', familyName: 'Doe' },
        tags: ['example', 'sample'],
        content: 'x',
      },
      { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] },
      {
        title: 'Hello!',
        author: { givenName: 'John' },
        tags: ['example'],
        content: 'x',
        phoneNumber: '+01-123-456-7890',
      },
    );
  });

  test('shares untouched subtrees instead of copying them', () => {
    const target = deepFreeze({ big: { deep: [1, 2, 3] }, n: 1 });
    const result = applyMergePatch(target, { n: 2 }) as Record<string, JsonValue>;
    assert.equal(result['big'], target.big);
    assert.notEqual(result, target);
  });

  test('__proto__ in a patch becomes a plain member and pollutes nothing', () => {
    const patch = frozenJson<JsonValue>(
      '{"__proto__": {"polluted": true}, "a": {"__proto__": {"polluted": 1}}}',
    );
    const result = applyMergePatch(deepFreeze({ a: {} }), patch) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(Object.getPrototypeOf(result['a']), Object.prototype);
    assert.deepEqual(Object.keys(result), ['a', '__proto__']);
    assert.equal(Object.hasOwn(result, '__proto__'), true);
    assert.equal((result as { polluted?: unknown }).polluted, undefined);
    assert.equal(JSON.stringify(result), '{"a":{"__proto__":{"polluted":1}},"__proto__":{"polluted":true}}');
  });

  test('inherited names are absent: constructor, prototype, toString, hasOwnProperty', () => {
    const names = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
    for (const name of names) {
      // Merging into an absent member that the prototype happens to have must start from {}.
      const patch = JSON.parse(`{${JSON.stringify(name)}: {"x": 1}}`) as JsonValue;
      const result = applyMergePatch({}, patch) as Record<string, unknown>;
      assert.deepEqual(result[name], { x: 1 }, name);
      assert.equal(Object.hasOwn(result, name), true, name);
      // Deleting a name the target does not own leaves nothing behind and changes nothing shared.
      const removed = applyMergePatch({ a: 1 }, JSON.parse(`{${JSON.stringify(name)}: null}`) as JsonValue);
      assert.deepEqual(Object.keys(removed as object), ['a'], name);
    }
    assert.equal(typeof Object.prototype.toString, 'function');
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });
});
