import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { recordReads } from '../../src/features/records/batched-reads.ts';
import * as editsSql from '../../src/features/records/edits/edits.sql.ts';
import * as sql from '../../src/features/records/records.sql.ts';
import { counted } from '../helpers/counted.ts';
import { addTenantWithCollection, createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The reads of concurrent edits go to the database together (src/features/records/batched-reads.ts,
// src/db/functions.sql), one tenant a statement, each answered with its own record.
let t: TestDatabase;
let tenants: string[];

interface Read {
  collection_id: string;
  record_id: string | null;
  data: unknown;
  version: number | null;
}

before(async () => {
  t = await createTestDatabase();
  tenants = [];
  for (const slug of ['reads-a', 'reads-b']) {
    const { tenantId, collectionId } = await addTenantWithCollection(t.db, slug);
    // The tenant's slug in each record tells whose record a read found.
    await t.db.query(
      `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
       INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
       SELECT $1, $2, 'r' || i, jsonb_build_object('id', 'r' || i, 'of', $3::text), 'true', ch.id
         FROM ch, generate_series(1, 5) i`,
      [tenantId, collectionId, slug],
    );
    tenants.push(tenantId);
  }
});
after(() => t.close());

test('reads of one turn go as one statement a tenant, each answered with its own record', async () => {
  const [a, b] = tenants as [string, string];
  const { db, statements } = counted(t.db);
  const reads = recordReads<Read>(db, editsSql.readRecordsAsTenant);
  const [r1, r2, none, noCollection, other] = await Promise.all([
    reads.read({ tenantId: a, collection: 'items', recordId: 'r1' }),
    reads.read({ tenantId: a, collection: 'items', recordId: 'r2' }),
    reads.read({ tenantId: a, collection: 'items', recordId: 'missing' }),
    reads.read({ tenantId: a, collection: 'nothing', recordId: 'r1' }),
    reads.read({ tenantId: b, collection: 'items', recordId: 'r1' }),
  ]);
  assert.equal(statements(), 2);
  assert.deepEqual([r1?.data, r1?.version], [{ id: 'r1', of: 'reads-a' }, 1]);
  assert.deepEqual(r2?.data, { id: 'r2', of: 'reads-a' });
  // A collection without the record: its settings, and the record's columns all NULL.
  assert.equal(none?.collection_id, r1?.collection_id);
  assert.deepEqual([none?.record_id, none?.version, none?.data], [null, null, null]);
  assert.equal(noCollection, undefined);
  assert.deepEqual(other?.data, { id: 'r1', of: 'reads-b' });
  assert.notEqual(other?.collection_id, r1?.collection_id);
});

test('a batch holds at most maxBatch reads; the rest go in the next', async () => {
  const [a] = tenants as [string];
  const { db, statements } = counted(t.db);
  const reads = recordReads<Read>(db, editsSql.readRecordsAsTenant, { maxBatch: 2, maxInFlight: 1 });
  const results = await Promise.all(
    ['r1', 'r2', 'r3', 'r4', 'r5'].map((recordId) =>
      reads.read({ tenantId: a, collection: 'items', recordId }),
    ),
  );
  assert.equal(statements(), 3);
  assert.deepEqual(
    results.map((read) => read?.record_id),
    ['r1', 'r2', 'r3', 'r4', 'r5'],
  );
});

test('a read of a lost connection fails, and so does every read of its batch, none sent again', async () => {
  const [a] = tenants as [string];
  let statements = 0;
  const lost = Object.assign(new Error('connection lost'), { code: 'ECONNRESET' });
  const reads = recordReads<Read>(
    {
      ...t.db,
      query: async () => {
        statements++;
        throw lost;
      },
    },
    editsSql.readRecordsAsTenant,
  );
  const results = await Promise.allSettled(
    ['r1', 'r2'].map((recordId) => reads.read({ tenantId: a, collection: 'items', recordId })),
  );
  assert.deepEqual(
    results.map((result) => result.status === 'rejected' && result.reason),
    [lost, lost],
  );
  assert.equal(statements, 1);
});

test('GETs of one turn go as one statement a tenant, each its record’s effective value', async () => {
  const [a, b] = tenants as [string, string];
  const { db, statements } = counted(t.db);
  const reads = recordReads<{ version: number | null; data_text: string | null }>(
    db,
    sql.readEffectivesAsTenant,
  );
  const results = await Promise.all([
    reads.read({ tenantId: a, collection: 'items', recordId: 'r3' }),
    reads.read({ tenantId: b, collection: 'items', recordId: 'r3' }),
    reads.read({ tenantId: a, collection: 'items', recordId: 'missing' }),
    reads.read({ tenantId: a, collection: 'nothing', recordId: 'r3' }),
  ]);
  assert.equal(statements(), 2);
  assert.deepEqual(
    results.map((row) => row && [row.version, row.data_text && JSON.parse(row.data_text)]),
    [[1, { id: 'r3', of: 'reads-a' }], [1, { id: 'r3', of: 'reads-b' }], [null, null], undefined],
  );
});
