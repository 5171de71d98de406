// records and record_versions carry no foreign key to collections (migrations/0001_baseline.sql): deleting a
// collection must remove its records and their history itself, and nothing of any other collection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCollection, sync, tenantServer } from './sync-helpers.ts';

const fixture = tenantServer();

async function rowsOf(table: 'records' | 'record_versions') {
  const rows = await fixture.server.db.query<{ collection_id: string; n: number }>(
    `SELECT collection_id::text AS collection_id, count(*)::int AS n FROM ${table}
      WHERE tenant_id = $1 GROUP BY collection_id ORDER BY collection_id`,
    [fixture.tenantId],
  );
  return Object.fromEntries(rows.map((row) => [row.collection_id, row.n]));
}

test('deleting a collection removes its records and versions, and only those', async () => {
  await makeCollection(fixture.ctx, 'keep');
  await makeCollection(fixture.ctx, 'drop');
  for (const name of ['keep', 'drop']) {
    await sync(fixture.ctx, name, [
      { id: 'a', v: 1 },
      { id: 'b', v: 1 },
    ]);
    await sync(fixture.ctx, name, [
      { id: 'a', v: 2 },
      { id: 'b', v: 2 },
    ]);
  }
  const ids = await fixture.server.db.query<{ name: string; id: string }>(
    `SELECT name, id::text AS id FROM collections WHERE tenant_id = $1`,
    [fixture.tenantId],
  );
  const idOf = Object.fromEntries(ids.map((row) => [row.name, row.id]));
  assert.deepEqual(await rowsOf('records'), { [idOf.keep!]: 2, [idOf.drop!]: 2 });
  assert.deepEqual(await rowsOf('record_versions'), { [idOf.keep!]: 2, [idOf.drop!]: 2 });

  const deleted = await fixture.server.request('DELETE', '/v1/collections/drop', { key: fixture.ctx.key });
  assert.equal(deleted.status, 204, deleted.text);
  assert.deepEqual(await rowsOf('records'), { [idOf.keep!]: 2 });
  assert.deepEqual(await rowsOf('record_versions'), { [idOf.keep!]: 2 });

  // The same name again is a new, empty collection.
  await makeCollection(fixture.ctx, 'drop');
  const listed = await fixture.server.request('GET', '/v1/collections/drop/records', {
    key: fixture.ctx.key,
  });
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.items, []);
  assert.equal(
    (await fixture.server.request('DELETE', '/v1/collections/nope', { key: fixture.ctx.key })).status,
    404,
  );
});
