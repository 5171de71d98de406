import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  findImpreciseNumbers,
  findUnsafeJson,
  MAX_JSON_DEPTH,
  mayHaveImpreciseNumbers,
  precisionProblem,
} from '../../src/json/index.ts';

// Builds `levels` nested arrays: nested(2) is [[]].
function nested(levels: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

describe('findUnsafeJson', () => {
  test('a clean document has no reports', () => {
    assert.deepEqual(
      findUnsafeJson({ a: [1, 'x', null, true, { b: 'é😀' }], constructor: 1, toString: 'x' }),
      [],
    );
    assert.deepEqual(findUnsafeJson(nested(MAX_JSON_DEPTH)), []);
  });

  test('too deep is reported once, at the first container past the limit', () => {
    assert.equal(MAX_JSON_DEPTH, 64);
    // The root object is level 1 and /a level 2, so /a holds 63 levels at most; /b goes past the limit
    // at its 64th level (the container 64 tokens deep), and deeper levels are not reported again.
    const reports = findUnsafeJson({ a: nested(MAX_JSON_DEPTH - 1), b: nested(MAX_JSON_DEPTH + 5), c: 1 });
    assert.deepEqual(reports, [{ pointer: '/b' + '/0'.repeat(MAX_JSON_DEPTH - 1), reason: 'too-deep' }]);
    assert.equal(findUnsafeJson({ a: nested(MAX_JSON_DEPTH) }).length, 1);
    assert.deepEqual(findUnsafeJson(nested(MAX_JSON_DEPTH + 1)), [
      { pointer: '/0'.repeat(MAX_JSON_DEPTH), reason: 'too-deep' },
    ]);
    assert.deepEqual(findUnsafeJson({ a: [[1]] }, { maxDepth: 2 }), [
      { pointer: '/a/0', reason: 'too-deep' },
    ]);
    // Very deep input does not overflow the stack: the walk stops at the limit.
    assert.equal(findUnsafeJson(nested(100_000)).length, 1);
  });

  test('NUL and lone surrogates in strings and keys, with exact pointers', () => {
    const value = JSON.parse(
      '{"a": "x\\u0000y", "b": ["ok", "\\ud800"], "k\\u0000": 1, "s\\udc00": 2, "pair": "\\ud83d\\ude00",' +
        ' "c/d": {"e~f": "\\udc00\\ud800"}}',
    );
    assert.deepEqual(findUnsafeJson(value), [
      { pointer: '/a', reason: 'nul-in-string' },
      { pointer: '/b/1', reason: 'lone-surrogate-in-string' },
      { pointer: '/k\u0000', reason: 'nul-in-key' },
      { pointer: '/s\udc00', reason: 'lone-surrogate-in-key' },
      { pointer: '/c~1d/e~0f', reason: 'lone-surrogate-in-string' },
    ]);
  });

  test('non-finite numbers, __proto__ keys and non-JSON values', () => {
    const value = JSON.parse('{"x": {"__proto__": {"polluted": true}}}') as Record<string, unknown>;
    value['n'] = [1, Number.NaN, Number.POSITIVE_INFINITY, -Number.MAX_VALUE];
    value['u'] = undefined;
    value['d'] = new Date(0);
    assert.deepEqual(findUnsafeJson(value), [
      { pointer: '/x/__proto__', reason: 'proto-key' },
      { pointer: '/n/1', reason: 'non-finite-number' },
      { pointer: '/n/2', reason: 'non-finite-number' },
      { pointer: '/u', reason: 'not-json' },
      { pointer: '/d', reason: 'not-json' },
    ]);
    assert.deepEqual(findUnsafeJson(Number.NEGATIVE_INFINITY), [
      { pointer: '', reason: 'non-finite-number' },
    ]);
  });

  test('the list is capped (default 20)', () => {
    const many = Array.from({ length: 100 }, () => '\u0000');
    assert.equal(findUnsafeJson(many).length, 20);
    assert.deepEqual(findUnsafeJson(many, { maxReports: 2 }), [
      { pointer: '/0', reason: 'nul-in-string' },
      { pointer: '/1', reason: 'nul-in-string' },
    ]);
    assert.deepEqual(findUnsafeJson(many, { maxReports: 0 }), []);
  });
});

describe('findImpreciseNumbers', () => {
  const problem = (literal: string) => findImpreciseNumbers(`[${literal}]`)[0]?.reason ?? null;

  test('the cases JSON.parse gets wrong', () => {
    assert.equal(problem('12345678901234567890'), 'rounded');
    assert.equal(problem('9007199254740993'), 'rounded');
    assert.equal(problem('-9007199254740993'), 'rounded');
    assert.equal(problem('1e400'), 'overflow');
    assert.equal(problem('-1e400'), 'overflow');
    assert.equal(problem('1e-400'), 'underflow');
    assert.equal(problem('0.1000000000000000000001'), 'rounded');
    assert.equal(problem('1234567.8901234568'), 'rounded');
    assert.equal(problem('0.12345678901234567'), 'rounded');
    assert.equal(problem('1.234567e-320'), 'rounded');
  });

  test('the cases it gets right', () => {
    for (const literal of [
      '0.1',
      '9007199254740992',
      '-9007199254740992',
      '12345678901234567000',
      '1.0',
      '1E2',
      '0.10',
      '0',
      '-0',
      '0e400',
      '0.000000000000000',
      '1.5e300',
      '1e-320',
      '1234567.8901234567',
      '123456789012345',
      '1.7976931348623157e308',
      '100000000000000000000000000000.000',
    ]) {
      assert.equal(problem(literal), null, literal);
      assert.equal(precisionProblem(literal), null, literal);
    }
  });

  test('reports offsets and literals; numbers inside strings are ignored', () => {
    const text = '{"id": "12345678901234567890", "a\\"1e400": 1, "n": 12345678901234567890, "e": [1e400]}';
    assert.deepEqual(findImpreciseNumbers(text), [
      { offset: text.indexOf('12345678901234567890,'), literal: '12345678901234567890', reason: 'rounded' },
      { offset: text.indexOf('1e400]'), literal: '1e400', reason: 'overflow' },
    ]);
    // An escaped backslash right before the closing quote ends the string.
    assert.deepEqual(findImpreciseNumbers('["\\\\", 9007199254740993, "\\"9007199254740993"]'), [
      { offset: 7, literal: '9007199254740993', reason: 'rounded' },
    ]);
    assert.deepEqual(findImpreciseNumbers('["unterminated 1e400'), []);
    assert.equal(findImpreciseNumbers(`[${'1e400,'.repeat(50)}1]`).length, 20);
  });

  test('mayHaveImpreciseNumbers says yes whenever findImpreciseNumbers would report', () => {
    assert.equal(
      mayHaveImpreciseNumbers('{"id": 1, "price": 12.5, "at": "2024-01-01T00:00:00.000Z"}'),
      false,
    );
    for (const literal of [
      '12345678901234567890',
      '9007199254740993',
      '1e400',
      '-1e400',
      '1e-400',
      '1E+400',
      '1234567.8901234568',
      '0.1000000000000000000001',
      `0.${'0'.repeat(400)}1`,
    ]) {
      assert.equal(mayHaveImpreciseNumbers(`{"v": ${literal}}`), true, literal);
      assert.equal(findImpreciseNumbers(`{"v": ${literal}}`).length, 1, literal);
    }
  });

  test('the pre-check never misses: random literals agree with a full scan', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const digits = (n: number) => Array.from({ length: n }, () => String(random(10))).join('');
    let imprecise = 0;
    for (let i = 0; i < 5000; i++) {
      const whole = String(1 + random(9)) + digits(random(20));
      const fraction = random(2) ? `.${digits(1 + random(20))}` : '';
      const exponent = random(2) ? `e${random(2) ? '-' : ''}${random(400)}` : '';
      const text = `[${random(2) ? '-' : ''}${whole}${fraction}${exponent}]`;
      if (findImpreciseNumbers(text).length === 0) continue;
      imprecise++;
      assert.equal(mayHaveImpreciseNumbers(text), true, text);
    }
    assert.ok(imprecise > 500, `only ${imprecise} imprecise literals generated`);
  });
});
