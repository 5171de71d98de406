import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database, Statement } from '../../src/db/database.ts';
import { RecordService } from '../../src/features/records/records.service.ts';
import { SerialEdits } from '../../src/features/records/serial-edits.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// Edits of one record in one process take turns (src/features/records/serial-edits.ts), so each goes
// straight to its write from the state the last one wrote instead of contending for the row.
let t: TestDatabase;
let tenantId: string;

before(async () => {
  t = await createTestDatabase();
  const [tenant] = await t.db.query<{ id: string }>(
    `INSERT INTO tenants (slug, name) VALUES ('turns', 'turns') RETURNING id`,
  );
  tenantId = tenant!.id;
  const [collection] = await t.db.query<{ id: string }>(
    `INSERT INTO collections (tenant_id, name) VALUES ($1, 'items') RETURNING id`,
    [tenantId],
  );
  await t.db.query(
    `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
     INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
     SELECT $1, $2, 'hot', '{"id": "hot"}', '{"id": "hot"}', ch.id FROM ch`,
    [tenantId, collection!.id],
  );
});
after(() => t.close());

test('50 concurrent edits of one record: one read, then one write each, none lost', async () => {
  let reads = 0;
  let transactions = 0;
  const query = (textOrStatement: string | Statement, values?: readonly unknown[]) => {
    const text = typeof textOrStatement === 'string' ? textOrStatement : textOrStatement.text;
    if (text.includes('read_records_as_tenant')) reads++;
    return typeof textOrStatement === 'string'
      ? t.db.query(textOrStatement, values)
      : t.db.query(textOrStatement);
  };
  const db: Database = {
    ...t.db,
    query: query as Database['query'],
    transaction: (fn, options) => {
      transactions++;
      return t.db.transaction(fn, options);
    },
  };
  const turns = new SerialEdits();
  const records = new RecordService(db, undefined, undefined, turns);
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      records.edit(tenantId, 'items', 'hot', { kind: 'merge-patch', patch: { [`f${i}`]: i } }, null),
    ),
  );
  assert.deepEqual(
    results.map((result) => result.version).sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i + 2),
  );
  // Contending, all 50 read the record, and the 49 that lost the write went on to the row lock's
  // transaction. In turn: the first reads it, each later one writes from the state the last one wrote.
  assert.equal(reads, 1);
  assert.equal(transactions, 0);
  assert.equal(turns.size, 0);
  const [stored] = await t.db.query<{ data: Record<string, unknown>; version: number }>(
    `SELECT data, version FROM records WHERE tenant_id = $1 AND record_id = 'hot'`,
    [tenantId],
  );
  assert.equal(stored!.version, 51);
  for (let i = 0; i < 50; i++) assert.equal(stored!.data[`f${i}`], i);
});

test('an edit that fails does not hold up the next edit of the record', async () => {
  const turns = new SerialEdits();
  const first = turns.run('k', async () => {
    throw new Error('refused');
  });
  const second = turns.run('k', async () => 'ran');
  await assert.rejects(first, /refused/);
  assert.equal(await second, 'ran');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(turns.size, 0);
});
