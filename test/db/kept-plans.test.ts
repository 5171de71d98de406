import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import {
  addTenantWithCollection,
  BACKEND,
  createTestDatabase,
  type TestDatabase,
} from '../helpers/database.ts';

// The tenant functions on the request path keep one plan per connection (PL/pgSQL's plan cache;
// src/db/functions.sql). A plan made while `records` is small must still be a lookup by key once
// the table is big: this plans them on three records, grows the table without ANALYZE (which would
// make PostgreSQL plan again), and reads the kept plans through auto_explain. PostgreSQL only: PGlite
// has no auto_explain.
let t: TestDatabase;
let tenantId: string;
let collectionId: string;

before(async () => {
  t = await createTestDatabase();
  ({ tenantId, collectionId } = await addTenantWithCollection(t.db, 'plans'));
  await addRecords(1, 3);
});
after(() => t?.close());

async function addRecords(from: number, to: number): Promise<void> {
  await t.db.query(
    `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
     INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
     SELECT $1, $2, 'r' || lpad(i::text, 6, '0'), jsonb_build_object('i', i), 'true', ch.id
       FROM ch, generate_series($3::int, $4::int) i`,
    [tenantId, collectionId, from, to],
  );
}

test('plans kept from a small table stay lookups by key when it grows', {
  skip: BACKEND === 'pglite' ? 'auto_explain is PostgreSQL’s' : false,
}, async () => {
  const notices: string[] = [];
  // One connection, so that every call below uses (and shows) the same kept plans.
  const sql = postgres(t.url!, { max: 1, onnotice: (notice) => notices.push(String(notice.message)) });
  try {
    const write = async (recordId: string) => {
      const [row] = await sql.unsafe<{ version: number }[]>(
        `SELECT version FROM records WHERE tenant_id = $1 AND collection_id = $2 AND record_id = $3`,
        [tenantId, collectionId, recordId],
      );
      const series = {
        i: 0,
        collection_id: collectionId,
        record_id: recordId,
        version: row!.version,
        delete_policy: 'delete',
        // Two states: the function's UPDATE runs once for each (src/db/functions.sql).
        states: [
          { api_key_id: null, overrides: '{}', manual_delete: null, data: JSON.stringify({ id: recordId }) },
          { api_key_id: null, overrides: '{}', manual_delete: null, data: JSON.stringify({ next: true }) },
        ],
      };
      return sql.unsafe(`SELECT * FROM write_series_as_tenant($1, $2::text::jsonb)`, [
        tenantId,
        JSON.stringify([series]),
      ]);
    };
    const page = (after: string | null) =>
      sql.unsafe<{ items: string }[]>(`SELECT items FROM pages_effective_as_tenant($1, $2::text::jsonb)`, [
        tenantId,
        JSON.stringify([{ i: 0, c: 'items', a: after ?? '', l: 10 }]),
      ]);
    const read = (recordId: string) =>
      sql.unsafe<{ record_id: string | null }[]>(
        `SELECT * FROM read_records_as_tenant($1, $2::text::jsonb)`,
        [tenantId, JSON.stringify([{ i: 0, c: 'items', r: recordId }])],
      );
    // Enough calls for PL/pgSQL to settle on its generic plans.
    for (let i = 0; i < 7; i++) {
      assert.equal((await read('r000003'))[0]?.record_id, 'r000003');
      assert.equal((await write('r000002')).length, 1);
      await page(null);
      await page('r000001');
    }
    await addRecords(4, 30_000);
    await sql.unsafe(`LOAD 'auto_explain'`);
    await sql.unsafe(
      `SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
       SET auto_explain.log_level = notice`,
    );
    notices.length = 0;
    assert.equal((await read('r025000'))[0]?.record_id, 'r025000');
    assert.equal((await write('r020000')).length, 1);
    assert.deepEqual(
      JSON.parse(`[${(await page('r020000'))[0]!.items}]`).map((value: { i: number }) => value.i),
      Array.from({ length: 10 }, (_, i) => 20_001 + i),
    );
    await page(null);
    // The functions' own statements (they name the table `records r`), not this test's lookups.
    const plans = notices.filter((notice) => notice.includes('FROM records r'));
    assert.ok(plans.length >= 4, `auto_explain showed ${plans.length} plans`);
    for (const plan of plans) assert.doesNotMatch(plan, /Seq Scan on records/, plan);
    // A page walks the primary key in order; sorting the collection's rows would read them all.
    const pages = plans.filter((plan) => plan.includes('string_agg(p.data_text'));
    assert.equal(pages.length, 2);
    for (const plan of pages) {
      assert.doesNotMatch(plan, /Sort/, plan);
      // From the cursor by the key, not from the collection's start with the cursor as a filter.
      assert.match(
        plan,
        /Index Scan using records_pkey on records r .*\n\s*Index Cond: .*record_id > q\.a/,
        plan,
      );
    }
    const lookup = plans.find((plan) => plan.includes('c.id_field'));
    assert.match(lookup ?? '', /Index Scan using records_pkey/, lookup);
    const updates = notices.filter((notice) => notice.includes('UPDATE records'));
    assert.equal(updates.length, 2, 'one UPDATE a state');
    for (const update of updates) assert.match(update, /Index Scan using records_pkey on records r/, update);
  } finally {
    await sql.end();
  }
});
