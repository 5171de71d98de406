import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pageReads } from '../../src/features/records/batched-reads.ts';
import { counted } from '../helpers/counted.ts';
import { addTenantWithCollection, createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The page reads of concurrent requests go to the database together (src/features/records/batched-reads.ts,
// src/db/functions.sql), one tenant a statement, each answered with its own page.
let t: TestDatabase;
let tenants: string[];

before(async () => {
  t = await createTestDatabase();
  tenants = [];
  for (const slug of ['pages-a', 'pages-b']) {
    const { tenantId, collectionId } = await addTenantWithCollection(t.db, slug);
    // r1…r5 live, r6 deleted: a page never shows it, and it is no reason for "more".
    await t.db.query(
      `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
       INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
       SELECT $1, $2, 'r' || i, jsonb_build_object('id', 'r' || i, 'of', $3::text),
              CASE WHEN i = 6 THEN NULL ELSE 'true'::jsonb END, ch.id
         FROM ch, generate_series(1, 6) i`,
      [tenantId, collectionId, slug],
    );
    tenants.push(tenantId);
  }
});
after(() => t.close());

test('pages of one turn go as one statement a tenant (5 at most), each its own page', async () => {
  const [a, b] = tenants as [string, string];
  const { db, statements } = counted(t.db);
  const pages = pageReads(db);
  const read = (tenantId: string, after: string | null, limit: number, collection = 'items') =>
    pages.read({ tenantId, collection, after, limit });
  const results = await Promise.all([
    read(a, null, 2),
    read(a, 'r2', 2),
    read(a, 'r4', 5),
    read(a, 'r5', 5),
    read(a, null, 2, 'nothing'),
    read(b, 'r1', 1),
  ]);
  assert.equal(statements(), 2);
  const shown = results.map(
    (page) =>
      page && [
        JSON.parse(`[${page.items ?? ''}]`).map(
          (value: { id: string; of: string }) => `${value.of} ${value.id}`,
        ),
        page.last_id,
        page.more,
      ],
  );
  assert.deepEqual(shown, [
    [['pages-a r1', 'pages-a r2'], 'r2', true],
    [['pages-a r3', 'pages-a r4'], 'r4', true],
    [['pages-a r5'], 'r5', false],
    [[], null, false],
    undefined,
    [['pages-b r2'], 'r2', true],
  ]);
});

test('a batch holds at most 5 pages; the rest go in the next', async () => {
  const [a] = tenants as [string];
  const { db, statements } = counted(t.db);
  const pages = pageReads(db, { maxInFlight: 1 });
  const results = await Promise.all(
    Array.from({ length: 12 }, () => pages.read({ tenantId: a, collection: 'items', after: null, limit: 1 })),
  );
  assert.equal(statements(), 3);
  for (const page of results) assert.equal(page?.last_id, 'r1');
});
