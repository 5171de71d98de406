import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { EditStore } from '../../src/features/records/edits/edit-store.ts';
import type { NewState, StoredRecord } from '../../src/features/records/edits/plan-series.ts';
import type { MetaRow } from '../../src/features/records/record-meta.ts';
import { counted } from '../helpers/counted.ts';
import {
  addTenantWithCollection,
  BACKEND,
  createTestDatabase,
  type TestDatabase,
} from '../helpers/database.ts';

// Optimistic writes of concurrent edits go to the database together (src/features/records/edits/edit-store.ts,
// write_series_as_tenant in src/db/functions.sql), each decided on its own.
let t: TestDatabase;
let tenants: string[];
let collectionOf: Map<string, string>;

before(async () => {
  t = await createTestDatabase();
  tenants = [];
  collectionOf = new Map();
  for (const slug of ['batch-a', 'batch-b']) {
    const { tenantId, collectionId } = await addTenantWithCollection(t.db, slug);
    await t.db.query(
      `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
       INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
       SELECT $1, $2, 'r' || i, jsonb_build_object('id', 'r' || i), jsonb_build_object('id', 'r' || i), ch.id
         FROM ch, generate_series(1, 20) i`,
      [tenantId, collectionId],
    );
    tenants.push(tenantId);
    collectionOf.set(tenantId, collectionId);
  }
});
after(() => t.close());

/** A state of record `recordId` that sets `n`. */
function state(recordId: string, n: unknown, apiKeyId: string | null = null): NewState {
  return {
    apiKeyId,
    overrides: JSON.stringify({ '/n': { value: n, by: null, at: '2026-12-03T00:00:00.000Z' } }),
    manualDelete: null,
    data: JSON.stringify({ id: recordId, n }),
  };
}

/** Writes `states` (by default one that sets `n`) on the record as read at `version`. */
function write(
  store: EditStore,
  tenantId: string,
  recordId: string,
  version: number,
  n: unknown,
  options: { apiKeyId?: string | null; deletePolicy?: 'delete' | 'keep'; states?: NewState[] } = {},
) {
  const record: StoredRecord = {
    collection: {
      id: collectionOf.get(tenantId)!,
      idField: 'id',
      deletePolicy: options.deletePolicy ?? 'delete',
    },
    recordId,
    row: { version } as MetaRow,
  };
  const states = options.states ?? [state(recordId, n, options.apiKeyId)];
  return store.writeAtVersion(tenantId, record, { states, steps: [] });
}

async function stored(tenantId: string, recordId: string) {
  const [row] = await t.db.query<{ data: unknown; version: number; kind: string }>(
    `SELECT r.data, r.version, ch.kind FROM records r JOIN changes ch ON ch.tenant_id = r.tenant_id AND ch.id = r.change_id
      WHERE r.tenant_id = $1 AND r.record_id = $2`,
    [tenantId, recordId],
  );
  return { ...row };
}

test('writes of one turn go as one statement, each decided on its own', async () => {
  const [a] = tenants as [string];
  const { db, statements } = counted(t.db);
  const store = new EditStore(db);
  const results = await Promise.all([
    write(store, a, 'r1', 1, 1),
    write(store, a, 'r2', 1, 2),
    write(store, a, 'r2', 1, 'second edit of r2, planned from the same version'),
    write(store, a, 'r3', 7, 'stale version'),
    write(store, a, 'r4', 1, 'planned under another delete policy', { deletePolicy: 'keep' }),
    write(store, a, 'missing', 1, 'no such record'),
  ]);
  assert.equal(statements(), 1);
  assert.deepEqual(
    results.map((written) => written?.version),
    [2, 2, undefined, undefined, undefined, undefined],
  );
  assert.deepEqual(await stored(a, 'r1'), { data: { id: 'r1', n: 1 }, version: 2, kind: 'api' });
  assert.deepEqual(await stored(a, 'r2'), { data: { id: 'r2', n: 2 }, version: 2, kind: 'api' });
  assert.deepEqual(await stored(a, 'r3'), { data: { id: 'r3' }, version: 1, kind: 'sync' });
  assert.deepEqual(await stored(a, 'r4'), { data: { id: 'r4' }, version: 1, kind: 'sync' });
  // Each written edit has its own change, and the version it replaced went to history.
  const changes = await t.db.query<{ n: number }>(
    `SELECT count(DISTINCT change_id)::int AS n FROM records WHERE tenant_id = $1 AND record_id IN ('r1', 'r2')`,
    [a],
  );
  assert.equal(changes[0]!.n, 2);
  const history = await t.db.query(
    `SELECT record_id FROM record_versions WHERE tenant_id = $1 ORDER BY record_id`,
    [a],
  );
  assert.deepEqual(
    history.map((row) => row.record_id),
    ['r1', 'r2'],
  );
});

test('one tenant a batch: the writes of two tenants in one turn go as two statements', async () => {
  const [a, b] = tenants as [string, string];
  const { db, statements } = counted(t.db);
  const store = new EditStore(db);
  const intoB: StoredRecord = {
    collection: { id: collectionOf.get(b)!, idField: 'id', deletePolicy: 'delete' },
    recordId: 'r6',
    row: { version: 1 } as MetaRow,
  };
  const results = await Promise.all([
    write(store, a, 'r5', 1, 'a'),
    write(store, b, 'r5', 1, 'b'),
    write(store, a, 'r6', 1, 'a'),
    // Tenant a's write of tenant b's collection: its row is not tenant a's to write.
    store.writeAtVersion(a, intoB, { states: [state('r6', 'a into b')], steps: [] }),
  ]);
  assert.equal(statements(), 2);
  assert.deepEqual(
    results.map((written) => written?.version),
    [2, 2, 2, undefined],
  );
  assert.deepEqual((await stored(a, 'r5')).data, { id: 'r5', n: 'a' });
  assert.deepEqual((await stored(b, 'r5')).data, { id: 'r5', n: 'b' });
  assert.deepEqual((await stored(b, 'r6')).data, { id: 'r6' });
});

test('a batch the database refuses is tried one write at a time: only the bad write fails', async () => {
  const [a] = tenants as [string];
  const { db, statements } = counted(t.db);
  const store = new EditStore(db);
  const results = await Promise.allSettled([
    write(store, a, 'r7', 1, 7),
    write(store, a, 'r8', 1, 8, { apiKeyId: 'not-a-uuid' }),
    write(store, a, 'r9', 1, 9),
  ]);
  assert.equal(statements(), 4);
  assert.equal(results[0]!.status, 'fulfilled');
  assert.equal(results[1]!.status, 'rejected');
  assert.equal(results[2]!.status, 'fulfilled');
  assert.equal((await stored(a, 'r7')).version, 2);
  assert.equal((await stored(a, 'r8')).version, 1);
  assert.equal((await stored(a, 'r9')).version, 2);
});

test('a record another transaction holds locked is passed over at once, not waited for', {
  skip: BACKEND === 'pglite' ? 'PGlite has one connection' : false,
}, async () => {
  const [a] = tenants as [string];
  const other = postgres(t.url!, { max: 1, onnotice: () => {} });
  try {
    const store = new EditStore(t.db);
    const results = await other.begin(async (tx) => {
      await tx.unsafe(`SELECT 1 FROM records WHERE tenant_id = $1 AND record_id = 'r10' FOR UPDATE`, [a]);
      // Were it waited for, this would wait for the transaction that waits for it: a deadlock.
      return Promise.all([write(store, a, 'r10', 1, 10), write(store, a, 'r11', 1, 11)]);
    });
    assert.deepEqual(
      results.map((written) => written?.version),
      [undefined, 2],
    );
    assert.equal((await stored(a, 'r10')).version, 1);
  } finally {
    await other.end();
  }
});

test('a series writes each of its states as its own version, change and key', async () => {
  const [a] = tenants as [string];
  const { db, statements } = counted(t.db);
  const store = new EditStore(db);
  const keys = ['00000000-0000-4000-8000-000000000001', null, '00000000-0000-4000-8000-000000000003'];
  const states = keys.map((key, n) => state('r12', n, key));
  const [written, stale] = await Promise.all([
    write(store, a, 'r12', 1, 0, { states }),
    // Planned from a version the record is not at: none of its states is written.
    write(store, a, 'r13', 4, 0, { states: [state('r13', 0), state('r13', 1)] }),
  ]);
  assert.equal(statements(), 1);
  assert.equal(written?.version, 4);
  assert.equal(stale, undefined);
  assert.deepEqual(await stored(a, 'r12'), { data: { id: 'r12', n: 2 }, version: 4, kind: 'api' });
  assert.equal((await stored(a, 'r13')).version, 1);
  const versions = await t.db.query<{ version: number; data: unknown; api_key_id: string | null }>(
    `SELECT v.version, v.data, ch.api_key_id FROM record_versions v
       LEFT JOIN changes ch ON ch.tenant_id = v.tenant_id AND ch.id = v.valid_to
      WHERE v.tenant_id = $1 AND v.record_id = 'r12' ORDER BY v.version`,
    [a],
  );
  // Each version ends with the change that replaced it: the first state's, then the next ones'.
  assert.deepEqual(
    [...versions],
    [
      { version: 1, data: { id: 'r12' }, api_key_id: keys[0] },
      { version: 2, data: { id: 'r12', n: 0 }, api_key_id: keys[1] },
      { version: 3, data: { id: 'r12', n: 1 }, api_key_id: keys[2] },
    ],
  );
});
