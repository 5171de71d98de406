// records and record_versions carry no foreign key to collections (migration 0006): deleting a
// collection must remove its records and their history itself, and nothing of any other collection.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { type Ctx, makeCollection, sync } from './sync-helpers.ts';

let server: TestServer;
let ctx: Ctx;
let tenantId: string;
before(async () => {
  server = await startTestServer();
  const tenant = await server.createTenant('acme');
  tenantId = tenant.id;
  ctx = { server, key: tenant.key };
});
after(() => server.close());

async function rowsOf(table: 'records' | 'record_versions') {
  const rows = await server.db.query<{ collection_id: string; n: number }>(
    `SELECT collection_id::text AS collection_id, count(*)::int AS n FROM ${table}
      WHERE tenant_id = $1 GROUP BY collection_id ORDER BY collection_id`,
    [tenantId],
  );
  return Object.fromEntries(rows.map((row) => [row.collection_id, row.n]));
}

test('deleting a collection removes its records and versions, and only those', async () => {
  await makeCollection(ctx, 'keep');
  await makeCollection(ctx, 'drop');
  for (const name of ['keep', 'drop']) {
    await sync(ctx, name, [
      { id: 'a', v: 1 },
      { id: 'b', v: 1 },
    ]);
    await sync(ctx, name, [
      { id: 'a', v: 2 },
      { id: 'b', v: 2 },
    ]);
  }
  const ids = await server.db.query<{ name: string; id: string }>(
    `SELECT name, id::text AS id FROM collections WHERE tenant_id = $1`,
    [tenantId],
  );
  const idOf = Object.fromEntries(ids.map((row) => [row.name, row.id]));
  assert.deepEqual(await rowsOf('records'), { [idOf.keep!]: 2, [idOf.drop!]: 2 });
  assert.deepEqual(await rowsOf('record_versions'), { [idOf.keep!]: 2, [idOf.drop!]: 2 });

  const deleted = await server.request('DELETE', '/v1/collections/drop', { key: ctx.key });
  assert.equal(deleted.status, 204, deleted.text);
  assert.deepEqual(await rowsOf('records'), { [idOf.keep!]: 2 });
  assert.deepEqual(await rowsOf('record_versions'), { [idOf.keep!]: 2 });

  // The same name again is a new, empty collection.
  await makeCollection(ctx, 'drop');
  const listed = await server.request('GET', '/v1/collections/drop/records', { key: ctx.key });
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.items, []);
  assert.equal((await server.request('DELETE', '/v1/collections/nope', { key: ctx.key })).status, 404);
});
