// The per-record half of a sync (src/sync/merge.ts), without a database: PRODUCT.md §2 rule 3 (a changed
// source value: overrides rebased, conflicts per policy, overrides retired when upstream catches up),
// rule 5 (a manual delete wins over the feed), records made by hand meeting the feed for the first time,
// and the `_deleted` tombstone test the staging step runs on every feed row.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonObject, Override, OverrideSet } from '../../src/json/index.ts';
import { type ConflictPolicy, isTombstone, type MergeResult, mergeRecord } from '../../src/sync/merge.ts';
import { deepFreeze, frozenJson } from '../json/deep-freeze.ts';

const AT = '2024-01-01T00:00:00.000Z';
const POLICIES: ConflictPolicy[] = ['keep-manual', 'take-source'];

/** An override made when the source had `sourceValue` at its path (absent: the source lacked it). */
function manual(value: unknown, sourceValue?: unknown): Override {
  const override: Override = { value: value as Override['value'], by: 'key1', at: AT };
  if (sourceValue === undefined) override.sourceMissing = true;
  else override.sourceValue = sourceValue as Override['value'];
  return override;
}

/** A member deleted by hand where the source had `sourceValue`. */
function removal(sourceValue: unknown): Override {
  return { removed: true, by: 'key1', at: AT, sourceValue: sourceValue as Override['value'] };
}

/** mergeRecord over frozen inputs: any attempt to mutate the stored state or the feed value throws. */
function merge(
  source: JsonObject | null,
  overrides: OverrideSet,
  newSource: JsonObject,
  policy: ConflictPolicy = 'keep-manual',
  manualDelete: unknown = null,
): MergeResult {
  return mergeRecord(deepFreeze({ source, overrides, manualDelete }), deepFreeze(newSource), policy);
}

describe('a changed source value without overrides', () => {
  test('becomes the effective value, with no conflict and nothing retired', () => {
    for (const policy of POLICIES) {
      const result = merge({ id: 'a', price: 5 }, {}, { id: 'a', price: 6, name: 'n' }, policy);
      assert.deepEqual(result, {
        source: { id: 'a', price: 6, name: 'n' },
        overrides: {},
        data: { id: 'a', price: 6, name: 'n' },
        conflicts: [],
        retired: [],
      });
    }
  });
});

describe('overrides on fields upstream did not touch', () => {
  test('stay, and lie over the new source value', () => {
    for (const policy of POLICIES) {
      const overrides = { '/name': manual('Better name', 'name') };
      const result = merge(
        { id: 'a', name: 'name', price: 5 },
        overrides,
        { id: 'a', name: 'name', price: 6 },
        policy,
      );
      assert.deepEqual(result.overrides, overrides);
      assert.deepEqual(result.data, { id: 'a', name: 'Better name', price: 6 });
      assert.deepEqual(result.conflicts, []);
      assert.deepEqual(result.retired, []);
    }
  });

  test('a nested override stays while upstream changes its siblings', () => {
    const overrides = { '/seo/title': manual('Manual title', 'title') };
    const result = merge({ id: 'a', seo: { title: 'title', description: 'd1' } }, overrides, {
      id: 'a',
      seo: { title: 'title', description: 'd2', keywords: ['k'] },
    });
    assert.deepEqual(result.data, {
      id: 'a',
      seo: { title: 'Manual title', description: 'd2', keywords: ['k'] },
    });
    assert.deepEqual(result.conflicts, []);
    assert.deepEqual(result.overrides, overrides);
  });

  test('a member added by hand that upstream still lacks stays, with no conflict', () => {
    const overrides = { '/badge': manual('sale') };
    const result = merge({ id: 'a', price: 5 }, overrides, { id: 'a', price: 6 });
    assert.deepEqual(result.data, { id: 'a', price: 6, badge: 'sale' });
    assert.deepEqual(result.conflicts, []);
  });
});

describe('keep-manual: upstream moved under an override', () => {
  test('the override stays and an open conflict says manual, new source and previous source', () => {
    const overrides = { '/price': manual(4, 5) };
    const result = merge({ id: 'a', price: 5 }, overrides, { id: 'a', price: 6 });
    assert.deepEqual(result.data, { id: 'a', price: 4 });
    assert.deepEqual(result.overrides, overrides);
    assert.deepEqual(result.source, { id: 'a', price: 6 });
    assert.deepEqual(result.conflicts, [
      {
        path: '/price',
        manualValue: 4,
        sourceValue: 6,
        previousSourceValue: 5,
        status: 'open',
        changedInThisSync: true,
      },
    ]);
    assert.deepEqual(result.retired, []);
  });

  test('a conflict that upstream left alone in this sync is reported again, flagged as not new', () => {
    // The override was made against 5; the last sync moved it to 6 (conflict); this one changes another field.
    const overrides = { '/price': manual(4, 5) };
    const result = merge({ id: 'a', price: 6, stock: 1 }, overrides, { id: 'a', price: 6, stock: 2 });
    assert.deepEqual(result.data, { id: 'a', price: 4, stock: 2 });
    assert.deepEqual(result.conflicts, [
      {
        path: '/price',
        manualValue: 4,
        sourceValue: 6,
        previousSourceValue: 5,
        status: 'open',
        changedInThisSync: false,
      },
    ]);
  });

  test('compares with what the source had when the override was made, not with the last source', () => {
    // Upstream went 5 → 6 (conflict) → back to 5: the override's baseline again, so no conflict.
    const result = merge({ id: 'a', price: 6 }, { '/price': manual(4, 5) }, { id: 'a', price: 5 });
    assert.deepEqual(result.conflicts, []);
    assert.deepEqual(result.data, { id: 'a', price: 4 });
  });

  test('an override stored without its baseline falls back to the previous source value', () => {
    const bare: Override = { value: 4, by: null, at: AT };
    const moved = merge({ id: 'a', price: 5 }, { '/price': bare }, { id: 'a', price: 6 });
    assert.equal(moved.conflicts.length, 1);
    assert.equal(moved.conflicts[0]!.previousSourceValue, 5);
    const still = merge({ id: 'a', price: 5, x: 1 }, { '/price': bare }, { id: 'a', price: 5, x: 2 });
    assert.deepEqual(still.conflicts, []);
  });

  test('upstream removing the overridden field: conflict with source null, the manual value stays', () => {
    const result = merge({ id: 'a', price: 5 }, { '/price': manual(4, 5) }, { id: 'a' });
    assert.deepEqual(result.data, { id: 'a', price: 4 });
    assert.equal(result.conflicts.length, 1);
    assert.equal(result.conflicts[0]!.sourceValue, null);
    assert.equal(result.conflicts[0]!.previousSourceValue, 5);
  });

  test('upstream adding a field that was added by hand with another value: conflict', () => {
    const result = merge({ id: 'a' }, { '/badge': manual('sale') }, { id: 'a', badge: 'new' });
    assert.deepEqual(result.data, { id: 'a', badge: 'sale' });
    assert.deepEqual(result.conflicts, [
      {
        path: '/badge',
        manualValue: 'sale',
        sourceValue: 'new',
        previousSourceValue: null,
        status: 'open',
        changedInThisSync: true,
      },
    ]);
  });

  test('one conflict per moved override; unmoved overrides on the same record stay quiet', () => {
    const overrides = { '/a': manual('A', 'a'), '/b': manual('B', 'b'), '/c': manual('C', 'c') };
    const result = merge({ a: 'a', b: 'b', c: 'c' }, overrides, { a: 'a2', b: 'b', c: 'c2' });
    assert.deepEqual(
      result.conflicts.map((conflict) => conflict.path),
      ['/a', '/c'],
    );
    assert.deepEqual(result.data, { a: 'A', b: 'B', c: 'C' });
  });
});

describe('take-source: upstream moved under an override', () => {
  test('the override is dropped, upstream shows, and the loss is recorded as a resolved conflict', () => {
    const overrides = { '/price': manual(4, 5), '/name': manual('N', 'n') };
    const result = merge(
      { id: 'a', price: 5, name: 'n' },
      overrides,
      { id: 'a', price: 6, name: 'n' },
      'take-source',
    );
    assert.deepEqual(result.data, { id: 'a', price: 6, name: 'N' });
    assert.deepEqual(result.overrides, { '/name': overrides['/name'] });
    assert.deepEqual(result.conflicts, [
      {
        path: '/price',
        manualValue: 4,
        sourceValue: 6,
        previousSourceValue: 5,
        status: 'resolved',
        changedInThisSync: true,
      },
    ]);
    assert.deepEqual(result.retired, []);
  });

  test('upstream removing the field drops the override: the field is gone from the effective value', () => {
    const result = merge({ id: 'a', price: 5 }, { '/price': manual(4, 5) }, { id: 'a' }, 'take-source');
    assert.deepEqual(result.data, { id: 'a' });
    assert.deepEqual(result.overrides, {});
    assert.equal(result.conflicts[0]!.status, 'resolved');
  });

  test('a conflict left open from keep-manual days is not settled by a sync that did not move it', () => {
    // The collection switched to take-source while a conflict on /price was open: a person settles it.
    const overrides = { '/price': manual(4, 5) };
    const result = merge({ id: 'a', price: 6, x: 1 }, overrides, { id: 'a', price: 6, x: 2 }, 'take-source');
    assert.deepEqual(result.overrides, overrides);
    assert.deepEqual(result.data, { id: 'a', price: 4, x: 2 });
    assert.deepEqual(result.conflicts, []);
  });
});

describe('retirement: upstream caught up with the manual change', () => {
  test('an override equal to the new source value is retired under either policy, with no conflict', () => {
    for (const policy of POLICIES) {
      const result = merge({ id: 'a', price: 5 }, { '/price': manual(4, 5) }, { id: 'a', price: 4 }, policy);
      assert.deepEqual(result.retired, ['/price']);
      assert.deepEqual(result.overrides, {});
      assert.deepEqual(result.conflicts, []);
      assert.deepEqual(result.data, { id: 'a', price: 4 });
    }
  });

  test('equality is by JSON value: member order does not matter, 1.0 equals 1', () => {
    const result = merge(
      { id: 'a', dims: { w: 1, h: 2 }, n: 1 },
      { '/dims': manual({ w: 3, h: 4 }, { w: 1, h: 2 }), '/n': manual(2, 1) },
      JSON.parse('{ "id": "a", "dims": { "h": 4, "w": 3 }, "n": 2.0 }'),
    );
    assert.deepEqual(result.retired, ['/dims', '/n']);
    assert.deepEqual(result.overrides, {});
  });

  test('a member deleted by hand is retired once upstream drops it too', () => {
    const result = merge(
      { id: 'a', promo: 'x', price: 1 },
      { '/promo': removal('x') },
      { id: 'a', price: 2 },
    );
    assert.deepEqual(result.retired, ['/promo']);
    assert.deepEqual(result.data, { id: 'a', price: 2 });
    assert.deepEqual(result.overrides, {});
  });

  test('only the caught-up overrides go; the others stay', () => {
    const overrides = { '/a': manual('A', 'a'), '/b': manual('B', 'b') };
    const result = merge({ a: 'a', b: 'b' }, overrides, { a: 'A', b: 'b' });
    assert.deepEqual(result.retired, ['/a']);
    assert.deepEqual(result.overrides, { '/b': overrides['/b'] });
    assert.deepEqual(result.data, { a: 'A', b: 'B' });
  });
});

describe('members deleted by hand', () => {
  test('stay deleted while upstream leaves the member alone', () => {
    const result = merge(
      { id: 'a', promo: 'x', price: 1 },
      { '/promo': removal('x') },
      { id: 'a', promo: 'x', price: 2 },
    );
    assert.deepEqual(result.data, { id: 'a', price: 2 });
    assert.deepEqual(result.conflicts, []);
    assert.deepEqual(result.retired, []);
  });

  test('keep-manual: upstream changing the member opens a conflict with manual value null; it stays deleted', () => {
    const result = merge({ id: 'a', promo: 'x' }, { '/promo': removal('x') }, { id: 'a', promo: 'y' });
    assert.deepEqual(result.data, { id: 'a' });
    assert.deepEqual(result.conflicts, [
      {
        path: '/promo',
        manualValue: null,
        sourceValue: 'y',
        previousSourceValue: 'x',
        status: 'open',
        changedInThisSync: true,
      },
    ]);
  });

  test('take-source: upstream changing the member brings it back', () => {
    const result = merge(
      { id: 'a', promo: 'x' },
      { '/promo': removal('x') },
      { id: 'a', promo: 'y' },
      'take-source',
    );
    assert.deepEqual(result.data, { id: 'a', promo: 'y' });
    assert.deepEqual(result.overrides, {});
    assert.equal(result.conflicts[0]!.status, 'resolved');
  });

  test('a nested member deleted by hand, its parent replaced upstream by a scalar: retired', () => {
    const result = merge({ seo: { title: 't', d: 1 } }, { '/seo/title': removal('t') }, { seo: 'none' });
    assert.deepEqual(result.retired, ['/seo/title']);
    assert.deepEqual(result.data, { seo: 'none' });
  });
});

describe('nested pointers', () => {
  test('upstream moved a nested field: conflict at the full pointer', () => {
    const result = merge(
      { seo: { title: 't1', description: 'd' } },
      { '/seo/title': manual('T', 't1') },
      { seo: { title: 't2', description: 'd' } },
    );
    assert.deepEqual(result.data, { seo: { title: 'T', description: 'd' } });
    assert.deepEqual(
      result.conflicts.map(({ path, sourceValue, previousSourceValue }) => ({
        path,
        sourceValue,
        previousSourceValue,
      })),
      [{ path: '/seo/title', sourceValue: 't2', previousSourceValue: 't1' }],
    );
  });

  test('upstream removed the parent object: conflict, and keep-manual rebuilds the parent for the override', () => {
    const overrides = { '/seo/title': manual('T', 't1') };
    const kept = merge({ id: 'a', seo: { title: 't1' } }, overrides, { id: 'a' });
    assert.deepEqual(kept.data, { id: 'a', seo: { title: 'T' } });
    assert.equal(kept.conflicts[0]!.sourceValue, null);
    const dropped = merge({ id: 'a', seo: { title: 't1' } }, overrides, { id: 'a' }, 'take-source');
    assert.deepEqual(dropped.data, { id: 'a' });
  });

  test('upstream turned the parent into a scalar: conflict; keep-manual puts the override back in an object', () => {
    const result = merge({ seo: { title: 't1' } }, { '/seo/title': manual('T', 't1') }, { seo: 'plain' });
    assert.equal(result.conflicts.length, 1);
    assert.equal(result.conflicts[0]!.sourceValue, null, 'there is no /seo/title upstream any more');
    assert.deepEqual(result.data, { seo: { title: 'T' } });
  });

  test('escaped pointer tokens (~0, ~1) address members whose names hold "~" and "/"', () => {
    const overrides = { '/a~1b/c~0d': manual('M', 1) };
    const moved = merge({ 'a/b': { 'c~d': 1 } }, overrides, { 'a/b': { 'c~d': 2 } });
    assert.deepEqual(moved.data, { 'a/b': { 'c~d': 'M' } });
    assert.equal(moved.conflicts[0]!.path, '/a~1b/c~0d');
    const caughtUp = merge({ 'a/b': { 'c~d': 1 } }, overrides, { 'a/b': { 'c~d': 'M' } });
    assert.deepEqual(caughtUp.retired, ['/a~1b/c~0d']);
  });
});

describe('arrays are atomic values', () => {
  test('any change inside an overridden array is a conflict on the whole array', () => {
    const overrides = { '/tags': manual(['a', 'b'], ['a']) };
    const result = merge({ tags: ['a'] }, overrides, { tags: ['a', 'c'] });
    assert.deepEqual(result.data, { tags: ['a', 'b'] });
    assert.deepEqual(
      result.conflicts.map(({ path, manualValue, sourceValue }) => ({ path, manualValue, sourceValue })),
      [{ path: '/tags', manualValue: ['a', 'b'], sourceValue: ['a', 'c'] }],
    );
  });

  test('the same elements in another order are another value: conflict, not retirement', () => {
    const result = merge({ tags: ['a'] }, { '/tags': manual(['a', 'b'], ['a']) }, { tags: ['b', 'a'] });
    assert.deepEqual(result.retired, []);
    assert.equal(result.conflicts.length, 1);
  });

  test('upstream delivering exactly the manual array retires the override', () => {
    const result = merge(
      { tags: ['a'] },
      { '/tags': manual(['a', { x: 1 }], ['a']) },
      { tags: ['a', { x: 1 }] },
    );
    assert.deepEqual(result.retired, ['/tags']);
    assert.deepEqual(result.data, { tags: ['a', { x: 1 }] });
  });

  test('an override is never merged into an array element: the whole manual array shows', () => {
    const result = merge(
      { items: [{ n: 1 }, { n: 2 }] },
      { '/items': manual([{ n: 9 }], [{ n: 1 }, { n: 2 }]) },
      { items: [{ n: 1 }, { n: 2 }], other: true },
    );
    assert.deepEqual(result.data, { items: [{ n: 9 }], other: true });
    assert.deepEqual(result.conflicts, []);
  });
});

describe('manual delete wins over the feed (rule 5)', () => {
  test('the effective value stays null while the source follows the feed and overrides are rebased', () => {
    for (const policy of POLICIES) {
      const overrides = { '/name': manual('N', 'n'), '/price': manual(4, 5) };
      const result = merge(
        { id: 'a', name: 'n', price: 5 },
        overrides,
        { id: 'a', name: 'N', price: 6 },
        policy,
        { by: 'key1', at: AT },
      );
      assert.equal(result.data, null, policy);
      assert.deepEqual(result.source, { id: 'a', name: 'N', price: 6 });
      assert.deepEqual(result.retired, ['/name']);
      assert.deepEqual(
        result.conflicts.map((conflict) => conflict.path),
        ['/price'],
      );
      assert.deepEqual(Object.keys(result.overrides), policy === 'keep-manual' ? ['/price'] : []);
    }
  });

  test('a record deleted by hand with no overrides stays deleted whatever the feed says', () => {
    const result = merge({ id: 'a', v: 1 }, {}, { id: 'a', v: 2 }, 'take-source', { by: null, at: AT });
    assert.equal(result.data, null);
    assert.deepEqual(result.source, { id: 'a', v: 2 });
  });
});

describe('a record made by hand (no source value) that the feed delivers for the first time', () => {
  // The records API stores every member of a hand-made record as an override with sourceMissing.
  const handMade = { '/id': manual('a'), '/name': manual('Hand name'), '/note': manual('only here') };

  test('keep-manual: equal members retire, different ones conflict and keep the hand value', () => {
    const result = merge(null, handMade, { id: 'a', name: 'Feed name', price: 3 });
    assert.deepEqual(result.retired, ['/id']);
    assert.deepEqual(result.data, { id: 'a', name: 'Hand name', price: 3, note: 'only here' });
    assert.deepEqual(result.conflicts, [
      {
        path: '/name',
        manualValue: 'Hand name',
        sourceValue: 'Feed name',
        previousSourceValue: null,
        status: 'open',
        changedInThisSync: true,
      },
    ]);
    assert.deepEqual(Object.keys(result.overrides).sort(), ['/name', '/note']);
  });

  test('take-source: the feed wins where it has the member; members only the hand gave stay', () => {
    const result = merge(null, handMade, { id: 'a', name: 'Feed name', price: 3 }, 'take-source');
    assert.deepEqual(result.data, { id: 'a', name: 'Feed name', price: 3, note: 'only here' });
    assert.deepEqual(Object.keys(result.overrides), ['/note']);
    assert.deepEqual(
      result.conflicts.map(({ path, status }) => ({ path, status })),
      [{ path: '/name', status: 'resolved' }],
    );
  });

  test('a hand-made record the feed matches exactly loses every override', () => {
    const result = merge(null, { '/id': manual('a'), '/v': manual(1) }, { id: 'a', v: 1 });
    assert.deepEqual(result.retired.sort(), ['/id', '/v']);
    assert.deepEqual(result.overrides, {});
    assert.deepEqual(result.data, { id: 'a', v: 1 });
  });
});

describe('member names that are Object.prototype properties', () => {
  test('an own "__proto__" member is data: rebased, conflicted and applied without touching prototypes', () => {
    const source = frozenJson<JsonObject>('{"id":"a","__proto__":{"admin":false,"x":1}}');
    const next = frozenJson<JsonObject>('{"id":"a","__proto__":{"admin":false,"x":2}}');
    const result = mergeRecord(
      { source, overrides: deepFreeze({ '/__proto__/admin': manual(true, false) }), manualDelete: null },
      next,
      'keep-manual',
    );
    const data = result.data!;
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.ok(Object.hasOwn(data, '__proto__'));
    assert.deepEqual(
      JSON.parse(JSON.stringify(data)),
      JSON.parse('{"id":"a","__proto__":{"admin":true,"x":2}}'),
    );
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype untouched');
    assert.deepEqual(result.conflicts, []);

    const moved = frozenJson<JsonObject>('{"id":"a","__proto__":{"admin":"maybe","x":2}}');
    const conflicted = mergeRecord(
      { source, overrides: { '/__proto__/admin': manual(true, false) }, manualDelete: null },
      moved,
      'keep-manual',
    );
    assert.deepEqual(
      conflicted.conflicts.map(({ path, sourceValue }) => ({ path, sourceValue })),
      [{ path: '/__proto__/admin', sourceValue: 'maybe' }],
    );
  });

  test('an override of "__proto__" itself is set as an own member when upstream lacks it', () => {
    const result = merge({ id: 'a' }, { '/__proto__': manual({ polluted: true }) }, { id: 'a', v: 2 });
    const data = result.data!;
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.equal((data as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(data).sort(), ['__proto__', 'id', 'v']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('"constructor" or "toString" missing upstream is missing, not an inherited value', () => {
    // An inherited Object.prototype.constructor must not count as upstream having the member.
    const overrides = { '/constructor': manual('x'), '/toString': removal('s') };
    const result = merge({ id: 'a', toString: 's' }, overrides, { id: 'a', toString: 's', v: 1 });
    assert.deepEqual(result.conflicts, []);
    assert.deepEqual(result.retired, []);
    assert.deepEqual(JSON.parse(JSON.stringify(result.data)), { id: 'a', v: 1, constructor: 'x' });
    const caughtUp = merge({ id: 'a', toString: 's' }, overrides, { id: 'a', constructor: 'x' });
    assert.deepEqual(caughtUp.retired.sort(), ['/constructor', '/toString']);
  });
});

describe('isTombstone', () => {
  test('true only for a top-level "_deleted": true', () => {
    const cases: [string, boolean][] = [
      ['{"id":"x","_deleted":true}', true],
      ['{ "_deleted" : true , "id" : 1 }', true],
      ['{"id":"x","_deleted":true,"name":"still sent"}', true],
      ['{"id":"x","_deleted":false}', false],
      ['{"id":"x","_deleted":"true"}', false],
      ['{"id":"x","_deleted":1}', false],
      ['{"id":"x","_deleted":null}', false],
      ['{"id":"x"}', false],
      ['{"id":"x","meta":{"_deleted":true}}', false],
      ['{"id":"x","note":"_deleted"}', false],
      ['{"id":"x","note":"\\"_deleted\\": true"}', false],
      ['{"id":"x","_deleted_at":true}', false],
      ['{"id":"x","list":[{"_deleted":true}]}', false],
      // Duplicate members: the last wins, as for every other reader of the record.
      ['{"id":"x","_deleted":true,"_deleted":false}', false],
      ['{"id":"x","_deleted":false,"_deleted":true}', true],
    ];
    for (const [text, expected] of cases) assert.equal(isTombstone(JSON.parse(text)), expected, text);
  });

  test('a member name written with \\u escapes is the same member', () => {
    // JSON.parse reads "\u005fdeleted" as "_deleted": the feed reader sees the same record, so must this.
    for (const text of [
      '{"id":"x","\\u005fdeleted":true}',
      '{"id":"x","_delet\\u0065d":true}',
      '{"id":"x","\\u005F\\u0064\\u0065\\u006C\\u0065\\u0074\\u0065\\u0064":true}',
    ]) {
      assert.equal(Object.hasOwn(JSON.parse(text), '_deleted'), true, 'the premise');
      assert.equal(isTombstone(JSON.parse(text)), true, text);
    }
    assert.equal(isTombstone(JSON.parse('{"id":"x","\\u005fdeleted":false}')), false);
    assert.equal(isTombstone(JSON.parse('{"id":"x","name":"caf\\u00e9"}')), false);
    assert.equal(isTombstone([{ _deleted: true }]), false);
    assert.equal(isTombstone(Object.create({ _deleted: true })), false, 'only an own member');
  });
});
