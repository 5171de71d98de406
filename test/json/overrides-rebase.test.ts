import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyOverrides,
  keepManual,
  type Override,
  type OverrideSet,
  overridesFor,
  rebaseOverrides,
  takeSource,
} from '../../src/json/index.ts';
import { deepFreeze } from './deep-freeze.ts';

const T1 = '2024-01-01T00:00:00.000Z';

function set(value: unknown, extra: Partial<Override> = {}): Override {
  return { value: value as Override['value'], by: 'k1', at: T1, ...extra };
}

describe('rebaseOverrides', () => {
  test('retires an override once upstream has the manual value', () => {
    const overrides = deepFreeze<OverrideSet>({ '/price': set(4, { sourceValue: 5 }) });
    assert.deepEqual(rebaseOverrides({ price: 5 }, { price: 4 }, overrides), {
      overrides: {},
      conflicts: [],
      retired: ['/price'],
    });
  });

  test('retires a manual removal once upstream removed the field too', () => {
    const overrides: OverrideSet = { '/promo': { removed: true, by: null, at: T1, sourceValue: 'x' } };
    const result = rebaseOverrides({ promo: 'x', a: 1 }, { a: 2 }, overrides);
    assert.deepEqual(result, { overrides: {}, conflicts: [], retired: ['/promo'] });
  });

  test('reports a conflict when upstream changed the field, and keeps the override', () => {
    const overrides = deepFreeze<OverrideSet>({ '/price': set(4, { sourceValue: 5 }), '/name': set('N') });
    const result = rebaseOverrides({ price: 5, name: 'n' }, { price: 6, name: 'n' }, overrides);
    assert.deepEqual(result.overrides, overrides);
    assert.deepEqual(result.retired, []);
    assert.deepEqual(result.conflicts, [
      { path: '/price', manualValue: 4, sourceValue: 6, previousSourceValue: 5, changedInThisSync: true },
    ]);
  });

  test('leaves unaffected overrides alone', () => {
    const overrides = deepFreeze<OverrideSet>({ '/name': set('N', { sourceValue: 'n' }) });
    assert.deepEqual(rebaseOverrides({ name: 'n', price: 1 }, { name: 'n', price: 2 }, overrides), {
      overrides,
      conflicts: [],
      retired: [],
    });
  });

  test('nested paths: conflicts, retirements and unaffected siblings', () => {
    const overrides: OverrideSet = {
      '/seo/title': set('T', { sourceValue: 't' }),
      '/seo/description': set('D', { sourceValue: 'd' }),
      '/seo/keywords': set('k', { sourceValue: 'x' }),
    };
    const result = rebaseOverrides(
      { seo: { title: 't', description: 'd', keywords: 'x' } },
      { seo: { title: 't2', description: 'd', keywords: 'k' } },
      overrides,
    );
    assert.deepEqual(result.retired, ['/seo/keywords']);
    assert.deepEqual(Object.keys(result.overrides).sort(), ['/seo/description', '/seo/title']);
    assert.deepEqual(result.conflicts, [
      {
        path: '/seo/title',
        manualValue: 'T',
        sourceValue: 't2',
        previousSourceValue: 't',
        changedInThisSync: true,
      },
    ]);
  });

  test('upstream removed the field (or its parent) under a manual value: a conflict', () => {
    const overrides: OverrideSet = {
      '/price': set(4, { sourceValue: 5 }),
      '/seo/title': set('T', { sourceValue: 't' }),
    };
    const result = rebaseOverrides({ price: 5, seo: { title: 't' } }, { seo: 'flat' }, overrides);
    assert.deepEqual(result.conflicts, [
      {
        path: '/price',
        manualValue: 4,
        sourceMissing: true,
        previousSourceValue: 5,
        changedInThisSync: true,
      },
      {
        path: '/seo/title',
        manualValue: 'T',
        sourceMissing: true,
        previousSourceValue: 't',
        changedInThisSync: true,
      },
    ]);
    assert.equal(Object.keys(result.overrides).length, 2);
  });

  test('upstream added a field that was removed by hand, or one the person added: conflicts', () => {
    const overrides: OverrideSet = {
      '/promo': { removed: true, by: null, at: T1, sourceMissing: true },
      '/note': set('mine', { sourceMissing: true }),
    };
    const result = rebaseOverrides({}, { promo: 'new', note: 'theirs' }, overrides);
    assert.deepEqual(result.conflicts, [
      {
        path: '/note',
        manualValue: 'mine',
        sourceValue: 'theirs',
        previousSourceMissing: true,
        changedInThisSync: true,
      },
      {
        path: '/promo',
        manualRemoved: true,
        sourceValue: 'new',
        previousSourceMissing: true,
        changedInThisSync: true,
      },
    ]);
  });

  test('compares with the stored sourceValue, not only the old source', () => {
    // The source moved 5 → 6 in an earlier sync (conflict kept open); this sync changes another field.
    const overrides: OverrideSet = { '/price': set(4, { sourceValue: 5 }) };
    const result = rebaseOverrides({ price: 6, a: 1 }, { price: 6, a: 2 }, overrides);
    assert.deepEqual(result.conflicts, [
      { path: '/price', manualValue: 4, sourceValue: 6, previousSourceValue: 5, changedInThisSync: false },
    ]);
    // Back to the value the override was made on: no conflict, even though it changed in this sync.
    assert.deepEqual(rebaseOverrides({ price: 6 }, { price: 5 }, overrides).conflicts, []);
    // Without a stored sourceValue, the old source is the baseline.
    const legacy: OverrideSet = { '/price': set(4) };
    assert.equal(rebaseOverrides({ price: 6 }, { price: 6, a: 1 }, legacy).conflicts.length, 0);
    assert.equal(rebaseOverrides({ price: 5 }, { price: 6 }, legacy).conflicts.length, 1);
  });

  test('effective value after a rebase keeps the manual edit', () => {
    const source = { price: 5, name: 'n' };
    const overrides = overridesFor(source, { price: 4, name: 'n' }, {}, 'k', T1);
    const next = { price: 6, name: 'm' };
    const { overrides: kept } = rebaseOverrides(source, next, overrides);
    assert.deepEqual(applyOverrides(next, kept), { price: 4, name: 'm' });
  });
});

describe('takeSource and keepManual', () => {
  const overrides = deepFreeze<OverrideSet>({
    '/a': set(1, { sourceValue: 0 }),
    '/b': { removed: true, by: null, at: T1, sourceMissing: true },
  });

  test('takeSource drops the named overrides, ignoring unknown paths', () => {
    assert.deepEqual(takeSource(overrides, ['/a', '/zzz']), { '/b': overrides['/b'] });
    assert.deepEqual(takeSource(overrides, []), overrides);
  });

  test('keepManual re-bases the named overrides on the current source', () => {
    const result = keepManual(overrides, ['/a', '/b', '/zzz'], { a: 7, b: 8 });
    assert.deepEqual(result, {
      '/a': { value: 1, by: 'k1', at: T1, sourceValue: 7 },
      '/b': { removed: true, by: null, at: T1, sourceValue: 8 },
    });
    assert.deepEqual(keepManual(overrides, ['/a'], {})['/a'], {
      value: 1,
      by: 'k1',
      at: T1,
      sourceMissing: true,
    });
    assert.deepEqual(rebaseOverrides({ a: 7, b: 8 }, { a: 7, b: 8, c: 1 }, result).conflicts, []);
  });
});
