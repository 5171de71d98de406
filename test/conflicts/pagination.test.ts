// GET /v1/collections/{c}/conflicts pages: every conflict exactly once, even when many share one
// created_at (all the conflicts of one sync get the transaction's timestamp) or differ only below the
// millisecond.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { type Ctx, makeCollection, setOverride, sync } from '../sync/sync-helpers.ts';

let server: TestServer;
let ctx: Ctx;
let tenantId: string;
before(async () => {
  server = await startTestServer();
  const tenant = await server.createTenant('acme');
  tenantId = tenant.id;
  ctx = { server, key: tenant.key };
  // COUNT records with an override each; the next feed moves every one: COUNT conflicts in one sync.
  await makeCollection(ctx, 'items');
  const first = await sync(ctx, 'items', feed(1));
  assert.equal(first.status, 200, first.text);
  for (const { id } of feed(1)) await setOverride(ctx, tenantId, 'items', id, '/price', 100, 1);
  const second = await sync(ctx, 'items', feed(2));
  assert.equal(second.status, 200, second.text);
  assert.equal(second.body.counts.conflicts, COUNT);
});
after(() => server.close());

const COUNT = 60;
const feed = (price: number) =>
  Array.from({ length: COUNT }, (_, i) => ({ id: `r${String(i).padStart(3, '0')}`, price }));

/** Follows nextCursor to the end; fails instead of looping forever when a cursor repeats a page. */
async function allPages(query: string, limit: number): Promise<{ id: string; createdAt: string }[]> {
  const seen: { id: string; createdAt: string }[] = [];
  let cursor: string | null = null;
  for (let page = 0; page <= COUNT; page++) {
    const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const response = await server.request(
      'GET',
      `/v1/collections/items/conflicts?${query}&limit=${limit}${suffix}`,
      {
        key: ctx.key,
      },
    );
    assert.equal(response.status, 200, response.text);
    seen.push(...response.body.items);
    cursor = response.body.nextCursor;
    if (cursor === null) return seen;
  }
  assert.fail(`more than ${COUNT + 1} pages: the cursor does not advance (${seen.length} items seen)`);
}

function assertEachOnce(items: { id: string }[], expected: string[]): void {
  const ids = items.map((item) => item.id);
  assert.equal(new Set(ids).size, ids.length, 'a conflict was listed twice');
  assert.deepEqual([...ids].sort(), [...expected].sort());
}

async function conflictIds(): Promise<string[]> {
  const rows = await server.db.query<{ id: string }>(
    'SELECT id::text AS id FROM conflicts WHERE tenant_id = $1',
    [tenantId],
  );
  return rows.map((row) => row.id);
}

test('the conflicts of one sync share a timestamp and page exactly once each', async () => {
  const [shared] = await server.db.query<{ n: number }>(
    'SELECT count(DISTINCT created_at)::int AS n FROM conflicts WHERE tenant_id = $1',
    [tenantId],
  );
  assert.equal(shared!.n, 1, 'one sync, one created_at');
  const expected = await conflictIds();
  assert.equal(expected.length, COUNT);
  for (const limit of [1, 7, COUNT - 1, COUNT]) {
    const items = await allPages('status=open', limit);
    assertEachOnce(items, expected);
  }
});

test('timestamps that differ only in microseconds page in order, each once', async () => {
  // Same millisecond, different microseconds (and some equal): a millisecond cursor would both repeat
  // and skip rows here, whatever the random ids.
  await server.db.query(
    `UPDATE conflicts SET created_at = timestamptz '2024-05-01 12:00:00.123000+00'
       + (((substr(record_id, 2)::int * 37) % 5) * 250) * interval '1 microsecond'
     WHERE tenant_id = $1`,
    [tenantId],
  );
  const expected = await conflictIds();
  for (const limit of [1, 4, 13]) {
    const items = await allPages('status=all', limit);
    assertEachOnce(items, expected);
  }
  const [ordered] = await server.db.query<{ ids: string[] }>(
    `SELECT array_agg(id::text ORDER BY created_at, id) AS ids FROM conflicts WHERE tenant_id = $1`,
    [tenantId],
  );
  const listed = await allPages('status=all', 9);
  assert.deepEqual(
    listed.map((item) => item.id),
    ordered!.ids,
    'oldest first, ties by id',
  );
});

test('a cursor that is not one the API returned is refused', async () => {
  const id = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
  const wrapped = (key: unknown) => Buffer.from(JSON.stringify([key])).toString('base64url');
  for (const cursor of [
    'nonsense',
    wrapped('2024-01-01T00:00:00.000Z|x'),
    wrapped(`2024-02-30T00:00:00.000000Z|${id}`),
    wrapped(`yesterday|${id}`),
    wrapped(42),
  ]) {
    const response = await server.request('GET', `/v1/collections/items/conflicts?cursor=${cursor}`, {
      key: ctx.key,
    });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.code, 'invalid_cursor');
  }
});
