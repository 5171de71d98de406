import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyJsonPatch,
  JsonPatchError,
  type JsonPatchErrorCode,
  type JsonValue,
  validateJsonPatch,
} from '../../src/json/index.ts';
import { deepFreeze, frozenJson } from './deep-freeze.ts';

// Documents and patches are deep-frozen, so a passing test also proves neither was mutated.
function check(doc: JsonValue, patch: unknown, expected: JsonValue): void {
  assert.deepEqual(applyJsonPatch(deepFreeze(doc), deepFreeze(patch)), expected);
}

function failure(doc: JsonValue, patch: unknown): JsonPatchError {
  try {
    applyJsonPatch(deepFreeze(doc), deepFreeze(patch));
  } catch (error) {
    assert.ok(error instanceof JsonPatchError, `expected a JsonPatchError, got ${String(error)}`);
    return error;
  }
  assert.fail('the patch was expected to fail');
}

function checkError(doc: JsonValue, patch: unknown, code: JsonPatchErrorCode, index: number): JsonPatchError {
  const error = failure(doc, patch);
  assert.equal(error.code, code, error.message);
  assert.equal(error.index, index);
  return error;
}

describe('RFC 6902 Appendix A', () => {
  test('A.1 adding an object member', () =>
    check({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }));

  test('A.2 adding an array element', () =>
    check({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], {
      foo: ['bar', 'qux', 'baz'],
    }));

  test('A.3 removing an object member', () =>
    check({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }));

  test('A.4 removing an array element', () =>
    check({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }));

  test('A.5 replacing a value', () =>
    check({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], {
      baz: 'boo',
      foo: 'bar',
    }));

  test('A.6 moving a value', () =>
    check(
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ));

  test('A.7 moving an array element', () =>
    check({ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], {
      foo: ['all', 'cows', 'eat', 'grass'],
    }));

  test('A.8 testing a value: success', () =>
    check(
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
      ],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ));

  test('A.9 testing a value: error', () => {
    const error = checkError({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], 'test-failed', 0);
    assert.equal(error.op, 'test');
    assert.equal(error.path, '/baz');
  });

  test('A.10 adding a nested member object', () =>
    check({ foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], {
      foo: 'bar',
      child: { grandchild: {} },
    }));

  test('A.11 ignoring unrecognized elements', () =>
    check({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], { foo: 'bar', baz: 'qux' }));

  test('A.12 adding to a nonexistent target: error', () => {
    const error = checkError(
      { foo: 'bar' },
      [{ op: 'add', path: '/baz/bat', value: 'qux' }],
      'path-not-found',
      0,
    );
    assert.equal(error.path, '/baz/bat');
  });

  test('A.13 invalid JSON Patch document (duplicate "op"): not applied as an add', () => {
    // Duplicate member names are invisible after JSON.parse (the last "op" wins), so this arrives as
    // a "remove" of /baz, which fails on this document: the "add" the first "op" names never happens.
    const patch = frozenJson('[{ "op": "add", "path": "/baz", "value": "qux", "op": "remove" }]');
    const error = checkError({ foo: 'bar' }, patch, 'path-not-found', 0);
    assert.equal(error.op, 'remove');
  });

  test('A.14 ~ escape ordering', () =>
    check({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }));

  test('A.15 comparing strings and numbers: error', () => {
    checkError({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }], 'test-failed', 0);
  });

  test('A.16 adding an array value', () =>
    check({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], {
      foo: ['bar', ['abc', 'def']],
    }));
});

describe('applyJsonPatch atomicity', () => {
  test('a failing test after successful operations leaves the frozen input untouched', () => {
    const doc = deepFreeze({ a: { b: [1, 2] }, c: 'x' });
    const patch = [
      { op: 'add', path: '/a/b/-', value: 3 },
      { op: 'remove', path: '/c' },
      { op: 'test', path: '/a/b/2', value: 4 },
    ];
    assert.throws(
      () => applyJsonPatch(doc, patch),
      (error: unknown) => {
        assert.ok(error instanceof JsonPatchError);
        assert.deepEqual(
          [error.code, error.index, error.op, error.path],
          ['test-failed', 2, 'test', '/a/b/2'],
        );
        return true;
      },
    );
    assert.deepEqual(doc, { a: { b: [1, 2] }, c: 'x' });
  });

  test('operations see the results of earlier ones', () =>
    check(
      { a: 1 },
      [
        { op: 'add', path: '/b', value: { c: [] } },
        { op: 'add', path: '/b/c/0', value: 'x' },
        { op: 'copy', from: '/b', path: '/d' },
        { op: 'add', path: '/b/c/-', value: 'y' },
        { op: 'test', path: '/d', value: { c: ['x'] } },
        { op: 'move', from: '/a', path: '/b/a' },
      ],
      { b: { c: ['x', 'y'], a: 1 }, d: { c: ['x'] } },
    ));

  test('replace and add at the root replace the whole document', () => {
    check({ a: 1 }, [{ op: 'replace', path: '', value: [1] }], [1]);
    check({ a: 1 }, [{ op: 'add', path: '', value: 'x' }], 'x');
  });

  test('move to the same location is a no-op; into its own child is an error', () => {
    check({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a' }], { a: { b: 1 } });
    checkError({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], 'invalid-patch', 0);
    // Token-wise, /ab is not a child of /a.
    check({ a: 1 }, [{ op: 'move', from: '/a', path: '/ab' }], { ab: 1 });
  });
});

describe('applyJsonPatch array index rules', () => {
  const doc = { a: [1, 2] };
  test('"-" appends for add, is an error elsewhere', () => {
    check(doc, [{ op: 'add', path: '/a/-', value: 3 }], { a: [1, 2, 3] });
    checkError(doc, [{ op: 'remove', path: '/a/-' }], 'invalid-index', 0);
    checkError(doc, [{ op: 'replace', path: '/a/-', value: 0 }], 'invalid-index', 0);
    checkError(doc, [{ op: 'test', path: '/a/-', value: 0 }], 'path-not-found', 0);
  });

  test('insert at length is allowed, beyond it is an error', () => {
    check(doc, [{ op: 'add', path: '/a/2', value: 3 }], { a: [1, 2, 3] });
    checkError(doc, [{ op: 'add', path: '/a/3', value: 3 }], 'invalid-index', 0);
    checkError(doc, [{ op: 'remove', path: '/a/2' }], 'invalid-index', 0);
    checkError(doc, [{ op: 'replace', path: '/a/2', value: 0 }], 'invalid-index', 0);
  });

  test('leading zeros and other non-canonical indexes are errors', () => {
    for (const token of ['01', '00', '-1', '1.0', 'x', '']) {
      checkError(doc, [{ op: 'add', path: `/a/${token}`, value: 0 }], 'invalid-index', 0);
    }
  });

  test('an index token on an object is just a member name', () =>
    check({ a: {} }, [{ op: 'add', path: '/a/01', value: 1 }], { a: { '01': 1 } }));
});

describe('applyJsonPatch validates the patch document', () => {
  const cases: [string, unknown, number][] = [
    ['not an array', { op: 'add', path: '/a', value: 1 }, -1],
    ['operation not an object', [null], 0],
    ['missing op', [{ path: '/a', value: 1 }], 0],
    ['unknown op', [{ op: 'merge', path: '/a', value: 1 }], 0],
    ['missing path', [{ op: 'remove' }], 0],
    ['path not a string', [{ op: 'remove', path: 1 }], 0],
    ['missing value (add)', [{ op: 'add', path: '/a' }], 0],
    ['missing value (replace)', [{ op: 'replace', path: '/a' }], 0],
    ['missing value (test)', [{ op: 'test', path: '/a' }], 0],
    ['missing from (move)', [{ op: 'move', path: '/a' }], 0],
    ['missing from (copy)', [{ op: 'copy', path: '/a' }], 0],
    ['malformed path', [{ op: 'remove', path: 'a' }], 0],
    ['bad escape in from', [{ op: 'copy', from: '/a~2', path: '/b' }], 0],
    ['bad second operation', [{ op: 'test', path: '/a', value: 1 }, { op: 'add' }], 1],
  ];
  for (const [name, patch, index] of cases) {
    test(name, () => {
      checkError({ a: 1 }, patch, 'invalid-patch', index);
      assert.throws(() => validateJsonPatch(patch), JsonPatchError);
    });
  }

  test('an invalid later operation is reported before any operation runs', () => {
    // Op 0 would fail its test, but validation sees op 1 first: a malformed patch is always a 400.
    checkError(
      { a: 1 },
      [
        { op: 'test', path: '/a', value: 2 },
        { op: 'nope', path: '' },
      ],
      'invalid-patch',
      1,
    );
  });

  test('"value": null is present; members are not read from the prototype', () => {
    check({ a: 1 }, [{ op: 'replace', path: '/a', value: null }], { a: null });
    const inherited = Object.create({ op: 'remove', path: '/a' }) as object;
    checkError({ a: 1 }, [inherited], 'invalid-patch', 0);
    assert.deepEqual(validateJsonPatch([{ op: 'remove', path: '/a' }]), [{ op: 'remove', path: '/a' }]);
  });
});

describe('applyJsonPatch and prototype pollution', () => {
  test('add /__proto__/polluted fails and pollutes nothing', () => {
    checkError({}, [{ op: 'add', path: '/__proto__/polluted', value: true }], 'path-not-found', 0);
    checkError(
      { a: {} },
      [{ op: 'add', path: '/a/constructor/prototype/polluted', value: 1 }],
      'path-not-found',
      0,
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  test('add /__proto__ creates an own member, not a prototype', () => {
    const result = applyJsonPatch({}, [
      { op: 'add', path: '/__proto__', value: { polluted: true } },
      { op: 'add', path: '/__proto__/more', value: 1 },
    ]) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(Object.hasOwn(result, '__proto__'), true);
    assert.deepEqual(Object.getOwnPropertyDescriptor(result, '__proto__')?.value, {
      polluted: true,
      more: 1,
    });
    assert.equal((result as { polluted?: unknown }).polluted, undefined);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  test('inherited names do not exist for remove, replace, test, move, copy', () => {
    for (const name of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']) {
      const path = `/${name}`;
      checkError({}, [{ op: 'remove', path }], 'path-not-found', 0);
      checkError({}, [{ op: 'replace', path, value: 1 }], 'path-not-found', 0);
      checkError({}, [{ op: 'test', path, value: null }], 'path-not-found', 0);
      checkError({}, [{ op: 'move', from: path, path: '/x' }], 'path-not-found', 0);
      checkError({}, [{ op: 'copy', from: path, path: '/x' }], 'path-not-found', 0);
      check({}, [{ op: 'add', path, value: 1 }], JSON.parse(`{${JSON.stringify(name)}: 1}`));
    }
    assert.equal(typeof Object.prototype.toString, 'function');
  });
});
