import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addAt,
  appendPointer,
  formatPointer,
  getAt,
  isPointerPrefix,
  JsonPointerError,
  parseArrayIndex,
  parsePointer,
  removeAt,
  replaceAt,
} from '../../src/json/index.ts';
import { deepFreeze } from './deep-freeze.ts';

// The example document of RFC 6901 §5.
const rfcDocument = deepFreeze({
  foo: ['bar', 'baz'],
  '': 0,
  'a/b': 1,
  'c%d': 2,
  'e^f': 3,
  'g|h': 4,
  'i\\j': 5,
  'k"l': 6,
  ' ': 7,
  'm~n': 8,
});

describe('parsePointer / formatPointer', () => {
  test('every pointer of RFC 6901 §5 resolves to the stated value', () => {
    const cases: [string, unknown][] = [
      ['', rfcDocument],
      ['/foo', ['bar', 'baz']],
      ['/foo/0', 'bar'],
      ['/', 0],
      ['/a~1b', 1],
      ['/c%d', 2],
      ['/e^f', 3],
      ['/g|h', 4],
      ['/i\\j', 5],
      ['/k"l', 6],
      ['/ ', 7],
      ['/m~0n', 8],
    ];
    for (const [pointer, expected] of cases) {
      assert.deepEqual(getAt(rfcDocument, parsePointer(pointer)), { found: true, value: expected }, pointer);
    }
  });

  test('unescapes ~1 before ~0, so "~01" is "~1"', () => {
    assert.deepEqual(parsePointer('/~01'), ['~1']);
    assert.deepEqual(parsePointer('/a~1b/m~0n/0'), ['a/b', 'm~n', '0']);
  });

  test('round-trips tokens with "/" and "~"', () => {
    const tokens = ['a/b', 'm~n', '', '~1', '/~0'];
    assert.equal(formatPointer(tokens), '/a~1b/m~0n//~01/~1~00');
    assert.deepEqual(parsePointer(formatPointer(tokens)), tokens);
    assert.equal(appendPointer('/seo', 'a/b'), '/seo/a~1b');
  });

  test('rejects a pointer not starting with "/" and bad "~" escapes', () => {
    for (const bad of ['a', 'a/b', '#/a', '/a~', '/a~2', '/~x/b']) {
      assert.throws(
        () => parsePointer(bad),
        (error: unknown) => error instanceof JsonPointerError && error.code === 'malformed-pointer',
        bad,
      );
    }
  });
});

describe('getAt', () => {
  test('array tokens must be canonical in-range indexes', () => {
    const doc = { a: [10, 20] };
    assert.deepEqual(getAt(doc, ['a', '1']), { found: true, value: 20 });
    for (const token of ['2', '-', '01', '-1', '1.0', '', ' 1']) {
      assert.equal(getAt(doc, ['a', token]).found, false, token);
    }
  });

  test('a present null is found; inherited members are absent', () => {
    assert.deepEqual(getAt({ a: null }, ['a']), { found: true, value: null });
    for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']) {
      assert.equal(getAt({}, [key]).found, false, key);
      assert.equal(getAt({ a: {} }, ['a', key, 'name']).found, false, key);
    }
  });

  test('parseArrayIndex and isPointerPrefix', () => {
    assert.equal(parseArrayIndex('0'), 0);
    assert.equal(parseArrayIndex('00'), null);
    assert.equal(parseArrayIndex('99999999999999999999'), null);
    assert.equal(isPointerPrefix(['a'], ['a', 'b']), true);
    assert.equal(isPointerPrefix(['a'], ['ab']), false);
    assert.equal(isPointerPrefix([], ['a']), true);
  });
});

describe('addAt / removeAt / replaceAt', () => {
  test('return new documents and share untouched subtrees', () => {
    const doc = deepFreeze({ a: { b: 1 }, keep: { deep: [1] } });
    const added = addAt(doc, ['a', 'c'], 2) as Record<string, unknown>;
    assert.deepEqual(added, { a: { b: 1, c: 2 }, keep: { deep: [1] } });
    assert.equal(added['keep'], doc.keep);
    assert.deepEqual(removeAt(doc, ['a', 'b']), { a: {}, keep: { deep: [1] } });
    assert.deepEqual(replaceAt(doc, ['keep', 'deep', '0'], 9), { a: { b: 1 }, keep: { deep: [9] } });
    assert.deepEqual(doc, { a: { b: 1 }, keep: { deep: [1] } });
  });

  test('the root: add and replace swap the document, remove refuses', () => {
    assert.equal(addAt({ a: 1 }, [], 5), 5);
    assert.deepEqual(replaceAt({ a: 1 }, [], [1]), [1]);
    assert.throws(() => removeAt({ a: 1 }, []), JsonPointerError);
  });

  test('error codes', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof JsonPointerError ? error.code : 'other';
      }
      return 'none';
    };
    assert.equal(
      code(() => addAt({}, ['a', 'b'], 1)),
      'path-not-found',
    );
    assert.equal(
      code(() => addAt({ a: 'x' }, ['a', 'b'], 1)),
      'path-not-found',
    );
    assert.equal(
      code(() => addAt({ a: [] }, ['a', '1'], 1)),
      'invalid-index',
    );
    assert.equal(
      code(() => addAt({ a: [1] }, ['a', '01'], 1)),
      'invalid-index',
    );
    assert.equal(
      code(() => removeAt({ a: [1] }, ['a', '-'])),
      'invalid-index',
    );
    assert.equal(
      code(() => removeAt({ a: [1] }, ['a', '1'])),
      'invalid-index',
    );
    assert.equal(
      code(() => removeAt({}, ['toString'])),
      'path-not-found',
    );
    assert.equal(
      code(() => replaceAt({}, ['a'], 1)),
      'path-not-found',
    );
  });
});
