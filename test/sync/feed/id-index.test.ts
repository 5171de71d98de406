import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdIndex } from '../../../src/sync/feed/id-index.ts';

test('IdIndex finds every repeat across growths, and no false repeats', () => {
  const ids = new IdIndex(16);
  const count = 200_000;
  for (let row = 1; row <= count; row++) assert.equal(ids.add(`p${row}`), true, `p${row} is new`);
  assert.equal(ids.size, count);
  for (const row of [1, 17, 4_096, 65_537, count]) assert.equal(ids.add(`p${row}`), false, `p${row} again`);
  assert.equal(ids.add(''), true);
  assert.equal(ids.add('é'), true);
  assert.equal(ids.add('é'), false);
  assert.equal(ids.size, count + 2);
});
