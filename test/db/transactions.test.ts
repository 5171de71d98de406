import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { asOwner, readAsTenant, withTenant } from '../../src/db/tenant-scope.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The transaction port's ordering promises, on the database the suite runs on: statements go out in
// the order issued, so a batch's COMMIT never overtakes the statements before it.
let t: TestDatabase;
let tenantId: string;
const SEEN = `SELECT current_user AS role, current_setting('app.tenant_id', true) AS tenant,
  current_setting('transaction_read_only') AS read_only, now() = statement_timestamp() AS own_transaction`;

before(async () => {
  t = await createTestDatabase();
  const [row] = await t.db.query<{ id: string }>(
    `INSERT INTO tenants (slug, name) VALUES ('tx-order', 'tx-order') RETURNING id`,
  );
  tenantId = row!.id;
});
after(() => t.close());

test('a read-only batch runs as the tenant, inside its READ ONLY transaction', async () => {
  const [seen] = await readAsTenant(t.db, tenantId, (tx) => tx.query(SEEN));
  // Before the fix the COMMIT overtook the SELECT on PostgreSQL: it ran as the owner, outside RLS.
  assert.deepEqual(
    { ...seen },
    { role: 'sync_manager_app', tenant: tenantId, read_only: 'on', own_transaction: false },
  );
  await assert.rejects(
    readAsTenant(t.db, tenantId, (tx) =>
      tx.query(`INSERT INTO collections (tenant_id, name) VALUES ($1, 'written')`, [tenantId]),
    ),
    /read-only transaction/,
  );
});

test('asOwner runs as the owner inside a tenant transaction, and the tenant role holds again after it', async () => {
  const ROLE = `SELECT current_user AS role`;
  const [owner] = await t.db.query<{ role: string }>(ROLE);
  const roles = await withTenant(t.db, tenantId, async (tx) => {
    const inside = await asOwner(tx, () => tx.query<{ role: string }>(ROLE));
    const afterwards = await tx.query<{ role: string }>(ROLE);
    // A failure inside: rolling back to a savepoint taken before restores the tenant role.
    await tx.query('SAVEPOINT before_owner');
    await assert.rejects(
      asOwner(tx, () => tx.query('SELECT 1 / 0')),
      /division by zero/,
    );
    await tx.query('ROLLBACK TO SAVEPOINT before_owner');
    const rolledBack = await tx.query<{ role: string }>(ROLE);
    return [inside[0]!.role, afterwards[0]!.role, rolledBack[0]!.role];
  });
  assert.deepEqual(roles, [owner!.role, 'sync_manager_app', 'sync_manager_app']);
});

test('queryLast commits with its statement, and nothing may follow it', async () => {
  const name = 'by-query-last';
  const [made] = await withTenant(t.db, tenantId, (tx) =>
    tx.queryLast<{ name: string }>({
      text: `INSERT INTO collections (tenant_id, name) VALUES ($1, $2) RETURNING name`,
      values: [tenantId, name],
    }),
  );
  assert.equal(made?.name, name);
  const stored = await t.db.query('SELECT 1 FROM collections WHERE tenant_id = $1 AND name = $2', [
    tenantId,
    name,
  ]);
  assert.equal(stored.length, 1);

  await assert.rejects(
    withTenant(t.db, tenantId, async (tx) => {
      await tx.queryLast({ text: 'SELECT 1', values: [] });
      return tx.query('SELECT 2');
    }),
    /after the COMMIT/,
  );
  // A failing last statement commits nothing of the transaction.
  await assert.rejects(
    withTenant(t.db, tenantId, async (tx) => {
      await tx.query(`INSERT INTO collections (tenant_id, name) VALUES ($1, 'first-of-two')`, [tenantId]);
      return tx.queryLast({
        text: `INSERT INTO collections (tenant_id, name) VALUES ($1, $2)`,
        values: [tenantId, name],
      });
    }),
    /duplicate key/,
  );
  const rolledBack = await t.db.query(`SELECT 1 FROM collections WHERE name = 'first-of-two'`);
  assert.equal(rolledBack.length, 0);
});

test('the record-read functions read one tenant only, a row for each read of a collection it has', async () => {
  await handMadeRecord('fn-read', 'r1');
  const reads = JSON.stringify([
    { i: 0, c: 'fn-read', r: 'r1' },
    { i: 1, c: 'fn-read', r: 'no-such-record' },
    { i: 2, c: 'no-such-collection', r: 'r1' },
    { i: 3, c: 'fn-read', r: 'r1' },
  ]);
  // read_records_as_tenant (edits: the stored state) and read_effectives_as_tenant (GET: the text).
  const read = (fn: string, columns: string, tenant: string) =>
    t.db.query(`SELECT i, ${columns} FROM ${fn}($1, $2::jsonb) ORDER BY i`, [tenant, reads]);
  for (const [fn, columns, found] of [
    ['read_records_as_tenant', 'record_id, version', { record_id: 'r1', version: 1 }],
    ['read_effectives_as_tenant', 'data_text, version', { data_text: '{"id": "r1"}', version: 1 }],
  ] as const) {
    const none = Object.fromEntries(Object.keys(found).map((column) => [column, null]));
    assert.deepEqual(
      (await read(fn, columns, tenantId)).map((row) => ({ ...row })),
      [
        { i: 0, ...found },
        { i: 1, ...none },
        { i: 3, ...found },
      ],
      fn,
    );
    assert.equal((await read(fn, columns, '00000000-0000-4000-8000-000000000000')).length, 0, fn);
  }
  await assertNoConnectionLeftSwitched();
});

test('write_series_as_tenant writes as the tenant role with its tenant, only at the version read', async () => {
  const collection = await handMadeRecord('fn-write', 'w1');
  // Who the UPDATE runs as, seen from inside it: a row trigger that notes role and tenant.
  await t.db.exec(`
    CREATE TABLE write_seen (role text, tenant text, version integer);
    GRANT INSERT ON write_seen TO sync_manager_app;
    CREATE FUNCTION note_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO write_seen VALUES (current_user, current_setting('app.tenant_id', true), NEW.version);
      RETURN NULL;
    END $$;
    CREATE TRIGGER note_write AFTER UPDATE ON records FOR EACH ROW EXECUTE FUNCTION note_write();`);
  try {
    const write = (tenant: string, version: number, data: string, deletePolicy = 'delete') =>
      t.db.query<{ version: number }>(`SELECT version FROM write_series_as_tenant($1, $2::jsonb)`, [
        tenant,
        JSON.stringify([
          {
            i: 0,
            collection_id: collection.id,
            record_id: 'w1',
            version,
            delete_policy: deletePolicy,
            states: [{ api_key_id: null, overrides: '{}', manual_delete: null, data }],
          },
        ]),
      ]);
    const changes = async () =>
      (
        await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM changes WHERE tenant_id = $1`, [
          tenantId,
        ])
      )[0]!.n;
    const before = await changes();
    assert.deepEqual(
      (await write(tenantId, 1, '{"id":"w1","n":1}')).map((row) => row.version),
      [2],
    );
    assert.equal(await changes(), before + 1);
    const seen = await t.db.query(`SELECT role, tenant, version FROM write_seen`);
    assert.deepEqual(
      seen.map((row) => ({ ...row })),
      [{ role: 'sync_manager_app', tenant: tenantId, version: 2 }],
    );
    // Stale (the record is at 2 now), planned under another delete policy than the collection's, and
    // another tenant: nothing written, no change made.
    assert.equal((await write(tenantId, 1, '{"id":"w1","n":"stale"}')).length, 0);
    assert.equal((await write(tenantId, 2, '{"id":"w1","n":"policy"}', 'keep')).length, 0);
    assert.equal((await write('00000000-0000-4000-8000-000000000000', 2, '{"id":"w1","n":"x"}')).length, 0);
    assert.equal(await changes(), before + 1);
    const [stored] = await t.db.query<{ data: unknown; version: number }>(
      `SELECT data, version FROM records WHERE tenant_id = $1 AND record_id = 'w1'`,
      [tenantId],
    );
    assert.deepEqual({ ...stored }, { data: { id: 'w1', n: 1 }, version: 2 });
    // The old version went to history through the trigger, closed at the new change.
    const versions = await t.db.query(
      `SELECT v.version, v.valid_to = r.change_id AS closed_by_the_write
         FROM record_versions v JOIN records r USING (tenant_id, collection_id, record_id)
        WHERE v.tenant_id = $1 AND v.record_id = 'w1'`,
      [tenantId],
    );
    assert.deepEqual(
      versions.map((row) => ({ ...row })),
      [{ version: 1, closed_by_the_write: true }],
    );
    await assertNoConnectionLeftSwitched();
  } finally {
    await t.db.exec(`DROP TRIGGER note_write ON records; DROP FUNCTION note_write(); DROP TABLE write_seen;`);
  }
});

test('pages_effective_as_tenant pages in id order from a plan kept while the collection grows', async () => {
  const collection = await handMadeRecord('fn-list', 'a00');
  // A page as [its values, its last id, whether more follow]; no page at all for no collection.
  const page = async (tenant: string, after: string | null, limit: number) =>
    (
      await t.db.query<{ items: string | null; last_id: string | null; more: boolean }>(
        `SELECT items, last_id, more FROM pages_effective_as_tenant($1, $2::jsonb)`,
        [tenant, JSON.stringify([{ i: 0, c: 'fn-list', a: after ?? '', l: limit }])],
      )
    ).map((row) => [JSON.parse(`[${row.items ?? ''}]`), row.last_id, row.more]);
  // Planned on one record (src/db/functions.sql keeps one plan a connection), then read after growth:
  // the same plan must page the grown collection in order, from the start and from a cursor.
  assert.deepEqual(await page(tenantId, null, 10), [[[{ id: 'a00' }], 'a00', false]]);
  assert.deepEqual(await page(tenantId, 'a00', 10), [[[], null, false]]);
  await t.db.query(
    `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'api') RETURNING id)
     INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
     SELECT $1, $2, 'b' || lpad(i::text, 4, '0'), NULL, jsonb_build_object('i', i), ch.id
       FROM ch, generate_series(3000, 1, -1) i`,
    [tenantId, collection.id],
  );
  assert.deepEqual(await page(tenantId, null, 3), [[[{ id: 'a00' }, { i: 1 }, { i: 2 }], 'b0002', true]]);
  assert.deepEqual(await page(tenantId, 'b1499', 2), [[[{ i: 1500 }, { i: 1501 }], 'b1501', true]]);
  assert.deepEqual(await page(tenantId, 'b2998', 2), [[[{ i: 2999 }, { i: 3000 }], 'b3000', false]]);
  assert.deepEqual(await page(tenantId, 'b2999', 5), [[[{ i: 3000 }], 'b3000', false]]);
  // No such collection for another tenant: no row at all.
  assert.deepEqual(await page('00000000-0000-4000-8000-000000000000', null, 10), []);
  await assertNoConnectionLeftSwitched();
});

/** A collection with one record made by hand (no source value), written the way the API writes one. */
async function handMadeRecord(collectionName: string, recordId: string): Promise<{ id: string }> {
  const [collection] = await t.db.query<{ id: string }>(
    `INSERT INTO collections (tenant_id, name) VALUES ($1, $2) RETURNING id`,
    [tenantId, collectionName],
  );
  await t.db.query(
    `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'api') RETURNING id)
     INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
     SELECT $1, $2, $3, NULL, $4::jsonb, ch.id FROM ch`,
    [tenantId, collection!.id, recordId, JSON.stringify({ id: recordId })],
  );
  return collection!;
}

/** Every connection of the pool: none is left switched to the tenant role or tenant. */
async function assertNoConnectionLeftSwitched(): Promise<void> {
  const after = await Promise.all(
    Array.from({ length: 20 }, () =>
      t.db.query<{ role: string; tenant: string | null }>(
        `SELECT current_user AS role, current_setting('app.tenant_id', true) AS tenant`,
      ),
    ),
  );
  for (const [row] of after) {
    assert.notEqual(row!.role, 'sync_manager_app');
    assert.ok(!row!.tenant);
  }
}
