import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppError } from '../../src/errors.ts';
import {
  answersOf,
  type EditRequest,
  planSeries,
  type StoredRecord,
} from '../../src/features/records/edits/plan-series.ts';
import type { JsonObject } from '../../src/json/index.ts';

// The planner is pure (src/features/records/edits/plan-series.ts): a turn's edits planned one after the
// other, each from the state the one before it leaves; a single edit is a series of one.
const collection = { id: '1', idField: 'id', deletePolicy: 'delete' as const };
const merge = (patch: object, ifMatch?: string): EditRequest => ({
  edit: { kind: 'merge-patch', patch },
  by: null,
  preconditions: ifMatch === undefined ? {} : { ifMatch },
});
const synced = (data: JsonObject, version: number): StoredRecord => ({
  collection,
  recordId: 'r1',
  row: {
    record_id: 'r1',
    source: data,
    upstream_gone: false,
    overrides: {},
    manual_delete: null,
    data,
    version,
    updated_at: new Date(0),
  },
});
const summary = (answers: ReturnType<typeof answersOf>) =>
  answers.map((answer) =>
    'error' in answer
      ? (answer.error as AppError).code
      : `${answer.value.changed ? 'wrote' : 'unchanged'} ${answer.value.version}`,
  );

test('a single edit of a record not made yet is a series of one create, at version 1', () => {
  const record: StoredRecord = { collection, recordId: 'r1', row: null };
  const series = planSeries(record, [{ edit: { kind: 'put', body: { n: 1 } }, by: null, preconditions: {} }]);
  assert.equal(series.states.length, 1);
  assert.equal(series.states[0]!.data, '{"n":1,"id":"r1"}');
  const [answer] = answersOf(record, series, { version: 1, updated_at: new Date(1) });
  assert.ok(answer && 'value' in answer);
  assert.equal(answer.value.created, true);
  assert.deepEqual(answer.value.meta.data, { n: 1, id: 'r1' });
});

test('each edit is planned and answered from the state the writes before it leave', () => {
  const record = synced({ id: 'r1', a: 0 }, 3);
  const series = planSeries(record, [
    merge({ a: 1 }), // version 4
    merge({ b: 1 }, '"3"'), // stale by then: 412
    merge({ a: 1 }), // nothing to change: still 4
    merge({ b: 2 }, '"4"'), // version 5
    { edit: { kind: 'delete' }, by: null, preconditions: {} }, // version 6
    merge({ c: 1 }), // the record is deleted: 404
  ]);
  assert.deepEqual(
    series.states.map((state) => state.data),
    ['{"id":"r1","a":1}', '{"id":"r1","a":1,"b":2}', null],
  );
  const at = new Date(2);
  const answers = answersOf(record, series, { version: 6, updated_at: at });
  assert.deepEqual(summary(answers), [
    'wrote 4',
    'precondition_failed',
    'unchanged 4',
    'wrote 5',
    'wrote 6',
    'record_not_found',
  ]);
  const third = answers[2]!;
  assert.ok('value' in third);
  assert.equal(third.value.meta.updatedAt, at.toISOString());
});

test('a series that writes nothing answers from the record as read', () => {
  const record = synced({ id: 'r1', a: 0 }, 3);
  const series = planSeries(record, [merge({ a: 0 }), merge({ a: 1 }, '"2"')]);
  assert.equal(series.states.length, 0);
  assert.deepEqual(summary(answersOf(record, series)), ['unchanged 3', 'precondition_failed']);
});

test('a series stops past 1 MB of JSON; the edits after it are left for the next turn', () => {
  const record = synced({ id: 'r1', text: 'x'.repeat(600_000) }, 1);
  const series = planSeries(record, [merge({ n: 1 }), merge({ n: 2 }), merge({ n: 3 })]);
  assert.equal(series.states.length, 2);
  assert.equal(series.steps.length, 2);
});
