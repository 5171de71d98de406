import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database, Statement } from '../../src/db/database.ts';
import type { AppError } from '../../src/errors.ts';
import { RecordQueue } from '../../src/features/records/edits/record-queue.ts';
import { RecordService } from '../../src/features/records/records.service.ts';
import { addTenantWithCollection, createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// Edits of one record in one process queue and go in turns (src/features/records/edits/record-queue.ts):
// the edits that waited for one are planned one after the other and written in one call
// (edits/plan-series.ts, write_series_as_tenant in src/db/functions.sql), each its own version, instead
// of contending for the row.
let t: TestDatabase;
let tenantId: string;
let collectionId: string;

before(async () => {
  t = await createTestDatabase();
  ({ tenantId, collectionId } = await addTenantWithCollection(t.db, 'turns'));
});
after(() => t.close());

async function addRecord(recordId: string): Promise<void> {
  await t.db.query(
    `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
     INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
     SELECT $1, $2, $3, jsonb_build_object('id', $3::text), 'true', ch.id FROM ch`,
    [tenantId, collectionId, recordId],
  );
}

/** The database with its statements counted by the function they call, and its transactions. */
function watched(fail?: (text: string) => Error | undefined) {
  const calls = { reads: 0, writes: 0, transactions: 0 };
  const query = (textOrStatement: string | Statement, values?: readonly unknown[]) => {
    const text = typeof textOrStatement === 'string' ? textOrStatement : textOrStatement.text;
    if (text.includes('read_records_as_tenant')) calls.reads++;
    if (text.includes('write_series_as_tenant')) calls.writes++;
    const error = fail?.(text);
    if (error) return Promise.reject(error);
    return typeof textOrStatement === 'string'
      ? t.db.query(textOrStatement, values)
      : t.db.query(textOrStatement);
  };
  const db: Database = {
    ...t.db,
    query: query as Database['query'],
    transaction: (fn, options) => {
      calls.transactions++;
      return t.db.transaction(fn, options);
    },
  };
  return { db, calls };
}

const merge = (patch: object) => ({ kind: 'merge-patch' as const, patch });

async function stored(recordId: string) {
  const [row] = await t.db.query<{ data: Record<string, unknown>; version: number }>(
    `SELECT effective_value(data, source) AS data, version FROM records WHERE tenant_id = $1 AND record_id = $2`,
    [tenantId, recordId],
  );
  return row!;
}

/** The record's versions before the current one, oldest first, with their change's key and id. */
async function history(recordId: string) {
  return t.db.query<{ version: number; data: Record<string, unknown>; change_id: string }>(
    `SELECT version, effective_value(data, source) AS data, valid_from::text AS change_id FROM record_versions WHERE tenant_id = $1 AND record_id = $2 ORDER BY version`,
    [tenantId, recordId],
  );
}

test('50 concurrent edits of one record: two turns, each its own version, none lost', async () => {
  await addRecord('hot');
  const { db, calls } = watched();
  const records = new RecordService(db);
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      records.edit(tenantId, 'items', 'hot', merge({ [`f${i}`]: i }), null),
    ),
  );
  // Each answer is the state its own edit left: the fields of the edits before it, and its own.
  for (const [i, result] of results.entries()) {
    assert.equal(result.meta.data?.[`f${i}`], i);
    assert.equal(Object.keys(result.meta.data!).length, result.version);
  }
  assert.deepEqual(
    results.map((result) => result.version),
    Array.from({ length: 50 }, (_, i) => i + 2),
  );
  // The first edit reads the record and writes alone; the 49 that waited for it read once and go in
  // one call.
  assert.equal(calls.reads, 2);
  assert.equal(calls.writes, 2);
  assert.equal(calls.transactions, 0);
  assert.equal(records.queuedRecords, 0);
  const now = await stored('hot');
  assert.equal(now.version, 51);
  for (let i = 0; i < 50; i++) assert.equal(now.data[`f${i}`], i);
  // Every version went to history, each with its own change, in order.
  const versions = await history('hot');
  assert.deepEqual(
    versions.map((row) => row.version),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  for (const [i, row] of versions.entries()) assert.equal(Object.keys(row.data).length, i + 1);
  const changeIds = versions.map((row) => BigInt(row.change_id));
  for (let i = 1; i < changeIds.length; i++) assert.ok(changeIds[i]! > changeIds[i - 1]!);
});

test('in a series, each edit is decided against the state the ones before it leave', async () => {
  await addRecord('series');
  const { db, calls } = watched();
  const records = new RecordService(db);
  await records.edit(tenantId, 'items', 'series', merge({ a: 0 }), null); // version 2
  calls.writes = 0;
  const edit = (change: Parameters<RecordService['edit']>[3], ifMatch?: string) =>
    records.edit(tenantId, 'items', 'series', change, null, { ifMatch });
  const results = await Promise.allSettled([
    edit(merge({ a: 1 })), // alone: version 3
    edit(merge({ b: 1 })), // the series starts: version 4
    edit(merge({ c: 1 }), '"4"'), // If-Match of the version the edit before it makes: 5
    edit(merge({ d: 1 }), '"3"'), // stale by then: 412
    edit({ kind: 'json-patch', patch: [{ op: 'test', path: '/b', value: 2 }] }), // b is 1: refused
    edit(merge({ a: 1 })), // nothing to change: version 5, nothing written
    edit(merge({ e: 1 })), // version 6
  ]);
  const summary = results.map((result) =>
    result.status === 'fulfilled'
      ? `${result.value.changed ? 'wrote' : 'unchanged'} ${result.value.version}`
      : (result.reason as AppError).code,
  );
  assert.deepEqual(summary, [
    'wrote 3',
    'wrote 4',
    'wrote 5',
    'precondition_failed',
    'patch_test_failed',
    'unchanged 5',
    'wrote 6',
  ]);
  assert.equal(calls.writes, 2);
  const now = await stored('series');
  assert.deepEqual(now, { data: { id: 'series', a: 1, b: 1, c: 1, e: 1 }, version: 6 });
  assert.deepEqual(
    (await history('series')).map((row) => row.version),
    [1, 2, 3, 4, 5],
  );
});

test('edits after another writer’s are planned from its state, nothing lost', async () => {
  await addRecord('moved');
  const mine = new RecordService(t.db);
  const other = new RecordService(t.db);
  await mine.edit(tenantId, 'items', 'moved', merge({ mine: 0 }), null); // version 2
  await other.edit(tenantId, 'items', 'moved', merge({ theirs: 1 }), null); // version 3
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => mine.edit(tenantId, 'items', 'moved', merge({ [`f${i}`]: i }), null)),
  );
  assert.deepEqual(
    results.map((result) => result.version),
    [4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual((await stored('moved')).data, {
    id: 'moved',
    mine: 0,
    theirs: 1,
    f0: 0,
    f1: 1,
    f2: 2,
    f3: 3,
    f4: 4,
    f5: 5,
  });
});

test('a series whose call is lost fails every edit in it, and none is sent again', async () => {
  await addRecord('lost');
  let lose = false;
  const lost = Object.assign(new Error('connection lost'), { code: 'ECONNRESET' });
  const { db, calls } = watched((text) =>
    lose && text.includes('write_series_as_tenant') ? lost : undefined,
  );
  const records = new RecordService(db);
  await records.edit(tenantId, 'items', 'lost', merge({ a: 0 }), null);
  // The first edit of the burst goes alone and is let through; the series after it is lost.
  const burst = Array.from({ length: 5 }, (_, i) =>
    records.edit(tenantId, 'items', 'lost', merge({ [`f${i}`]: i }), null),
  );
  await burst[0];
  lose = true;
  calls.writes = 0;
  const results = await Promise.allSettled(burst.slice(1));
  assert.deepEqual(
    results.map((result) => result.status === 'rejected' && result.reason),
    [lost, lost, lost, lost],
  );
  assert.equal(calls.writes, 1);
  assert.equal((await stored('lost')).version, 3);
});

test('a turn that fails does not hold up the next; edits it left undecided wait for the next turn', async () => {
  const turns: string[][] = [];
  const queue = new RecordQueue<string, string>();
  const decide = async (requests: string[]) => {
    turns.push(requests);
    if (requests[0] === 'a') throw new Error('refused');
    // Decides only the first of each turn.
    return [{ value: `did ${requests[0]}` }];
  };
  const results = await Promise.allSettled(['a', 'b', 'c'].map((request) => queue.run('k', request, decide)));
  assert.equal(results[0]!.status, 'rejected');
  assert.deepEqual(
    results.slice(1).map((result) => result.status === 'fulfilled' && result.value),
    ['did b', 'did c'],
  );
  assert.deepEqual(turns, [['a'], ['b', 'c'], ['c']]);
  assert.equal(queue.size, 0);
});

test('a turn that throws fails every edit it took, and the record’s queue goes on', async () => {
  const queue = new RecordQueue<string, string>();
  let turns = 0;
  const decide = async (requests: string[]) => {
    turns++;
    if (turns === 2) throw new Error(`lost ${requests.join('')}`);
    return requests.map((request) => ({ value: `did ${request}` }));
  };
  const first = queue.run('k', 'a', decide); // its turn starts at once, alone
  const rest = ['b', 'c'].map((request) => queue.run('k', request, decide)); // the next turn, together
  assert.equal(await first, 'did a');
  const results = await Promise.allSettled(rest);
  assert.deepEqual(
    results.map((result) => result.status === 'rejected' && (result.reason as Error).message),
    ['lost bc', 'lost bc'],
  );
  assert.equal(await queue.run('k', 'd', decide), 'did d');
  assert.equal(queue.size, 0);
});
