import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { encodeCursor } from '../../src/http/pagination.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { makeCollection } from './sync-helpers.ts';

let server: TestServer;
let key: string;
let tenantId: string;
before(async () => {
  server = await startTestServer();
  const tenant = await server.createTenant('acme');
  tenantId = tenant.id;
  key = tenant.key;
});
after(() => server.close());

test('the sync history cursor is exact: runs started within one millisecond are each listed once', async () => {
  await makeCollection({ server, key }, 'c');
  const ids: string[] = [];
  for (let i = 1; i <= 6; i++) {
    const id = randomUUID();
    ids.push(id);
    await server.db.query(
      `INSERT INTO sync_runs (tenant_id, id, collection_id, mode, dry_run, forced, status, origin, started_at)
       SELECT $1, $2, c.id, 'full', false, false, 'succeeded', '{"kind":"api"}'::jsonb, $3::timestamptz
       FROM collections c WHERE c.tenant_id = $1 AND c.name = 'c'`,
      [tenantId, id, `2026-01-01T00:00:00.0000${i}0Z`],
    );
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10; page++) {
    const query: string = cursor ? `?limit=1&cursor=${cursor}` : '?limit=1';
    const response = await server.request('GET', `/v1/collections/c/syncs${query}`, { key });
    assert.equal(response.status, 200, response.text);
    seen.push(...response.body.items.map((run: { id: string }) => run.id));
    cursor = response.body.nextCursor;
    if (!cursor) break;
  }
  assert.equal(seen.length, 6);
  assert.deepEqual(new Set(seen), new Set(ids));
});

test('a forged history cursor is a 400, never a 500', async () => {
  for (const forged of ['2026-02-30T00:00:00.000000Z|' + randomUUID(), '2026-01-01T00:00:00.000000Z|nope']) {
    const response = await server.request('GET', `/v1/collections/c/syncs?cursor=${encodeCursor(forged)}`, {
      key,
    });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.code, 'invalid_cursor');
  }
});
