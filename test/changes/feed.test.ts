import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ChangeFeed } from '../../src/features/changes/changes.service.ts';
import { ChangeNotifier } from '../../src/features/changes/notifier.ts';
import { BACKEND } from '../helpers/database.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely
type Json = any;

let server: TestServer;
let key: string;
let tenantId: string;
before(async () => {
  server = await startTestServer();
  const tenant = await server.createTenant('feed');
  tenantId = tenant.id;
  key = tenant.key;
  for (const name of ['products', 'other']) {
    const made = await server.request('PUT', `/v1/collections/${name}`, { key, body: {} });
    assert.equal(made.status, 201, made.text);
  }
});
after(() => server.close());

const call = (
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
) => server.request(method, path, { key, ...options });

async function sync(collection: string, records: object[], query = '') {
  const response = await call('POST', `/v1/collections/${collection}/syncs${query}`, { body: records });
  assert.equal(response.status, 200, response.text);
  return response.body;
}

/**
 * Reads the feed from `cursor` to the end, page by page; returns the items and the cursor after them.
 * With `expect`, long-polls until that many arrived: on PostgreSQL a transaction open anywhere in the
 * cluster (another test file's) holds back what committed after it began.
 */
async function readAll(path: string, cursor: string | undefined, limit = 2, expect = 0, as = key) {
  const items: Json[] = [];
  for (;;) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    if (items.length < expect) query.set('wait', '30');
    const page = await server.request('GET', `${path}?${query}`, { key: as });
    assert.equal(page.status, 200, page.text);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
    if (!page.body.hasMore && items.length >= expect) return { items, cursor: cursor! };
  }
}

const brief = (item: Json) => `${item.collection}/${item.recordId} ${item.op} v${item.version}`;

test('a sync, an edit and a delete appear once each, in order, with op, fields and origin', async () => {
  const start = await readAll('/v1/changes', undefined);
  await sync('products', [
    { id: 'a', name: 'A', price: 1 },
    { id: 'b', name: 'B', price: 2 },
    { id: 'c', name: 'C', price: 3 },
  ]);
  const edit = await call('PATCH', '/v1/collections/products/records/a', { body: { price: 10 } });
  assert.equal(edit.status, 200, edit.text);
  assert.equal((await call('DELETE', '/v1/collections/products/records/b')).status, 204);
  const { items, cursor } = await readAll('/v1/changes', start.cursor, 2, 5);
  assert.deepEqual(items.map(brief), [
    'products/a create v1',
    'products/b create v1',
    'products/c create v1',
    'products/a update v2',
    'products/b delete v2',
  ]);
  assert.equal(items[0].origin.kind, 'sync');
  assert.ok(items[0].origin.syncRunId);
  assert.deepEqual(items[3].fields, ['/price']);
  assert.equal(items[3].origin.kind, 'manual');
  assert.deepEqual(items[4].fields, ['']);
  // Nothing more, and the cursor after the last page stays put.
  const again = await call('GET', `/v1/changes?cursor=${cursor}`);
  assert.deepEqual(again.body.items, []);
  // include=data: the new value (null for the delete).
  const withData = await call('GET', `/v1/collections/products/changes?cursor=${start.cursor}&include=data`);
  assert.deepEqual(withData.body.items[3].data, { id: 'a', name: 'A', price: 10 });
  assert.equal(withData.body.items[4].data, null);
});

test('NDJSON streams the same changes, one a line', async () => {
  const page = await call('GET', '/v1/collections/products/changes?limit=1000');
  const stream = await call('GET', '/v1/collections/products/changes', {
    headers: { accept: 'application/x-ndjson' },
  });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type') ?? '', /ndjson/);
  const lines = stream.text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(lines, page.body.items);
});

test("a stream reads below its first read's xmin: a change cut into pages once, a later commit after", async () => {
  const start = await readAll('/v1/changes', undefined);
  await sync(
    'other',
    ['s1', 's2', 's3', 's4', 's5', 's6', 's7'].map((id) => ({ id, n: 1 })),
  );
  // What the NDJSON route does, with pages of 3: the first read waits for the change (a transaction
  // open elsewhere in the cluster may hold it back), the next ones read below its xmin (upTo).
  const feed = new ChangeFeed(server.db, new ChangeNotifier(server.db));
  const first = await feed.read(tenantId, null, start.cursor, { limit: 3, waitMs: 30_000 });
  const edit = await call('PATCH', '/v1/collections/other/records/s1', { body: { n: 2 } });
  assert.equal(edit.status, 200, edit.text);
  const items = first.entries.map((entry) => entry.item);
  let page = first;
  while (page.hasMore) {
    page = await feed.read(tenantId, null, page.nextCursor, { limit: 3, upTo: first.upTo });
    items.push(...page.entries.map((entry) => entry.item));
  }
  assert.deepEqual(
    items.map(brief),
    ['s1', 's2', 's3', 's4', 's5', 's6', 's7'].map((id) => `other/${id} create v1`),
    'each record of the change once, in order; the edit, committed meanwhile, not in this stream',
  );
  assert.equal(new Set(items.map((item) => item.cursor)).size, 7);
  const next = await readAll('/v1/changes', page.nextCursor, 2, 1);
  assert.deepEqual(
    next.items.map(brief),
    ['other/s1 update v2'],
    'the next read from its cursor serves the edit',
  );
});

test('a collection feed names only its collection; an unknown one is 404', async () => {
  const start = (await call('GET', '/v1/changes?limit=1000')).body.nextCursor;
  await sync('other', [{ id: 'x' }], '?mode=partial');
  await sync('products', [{ id: 'z' }], '?mode=partial');
  await readAll('/v1/changes', start, 2, 2);
  const other = await readAll('/v1/collections/other/changes', start);
  assert.deepEqual(other.items.map(brief), ['other/x create v1']);
  assert.equal((await call('GET', '/v1/collections/nope/changes')).status, 404);
});

test("another tenant's changes never appear, in its collection of the same name or with its cursor", async () => {
  // The feed's pages run outside row-level security (docs/architecture.md): only their own tenant
  // filters keep tenants apart.
  const start = (await call('GET', '/v1/changes?limit=1000')).body.nextCursor;
  const neighbour = await server.createTenant('feed-neighbour');
  const theirs = (method: string, path: string, body?: unknown) =>
    server.request(method, path, { key: neighbour.key, body });
  assert.equal((await theirs('PUT', '/v1/collections/products', {})).status, 201);
  const synced = await theirs('POST', '/v1/collections/products/syncs?mode=partial', [{ id: 'theirs' }]);
  assert.equal(synced.status, 200, synced.text);
  await sync('products', [{ id: 'ours' }], '?mode=partial');
  const ours = await readAll('/v1/changes', start, 2, 1);
  assert.deepEqual(ours.items.map(brief), ['products/ours create v1']);
  const collection = await readAll('/v1/collections/products/changes', start);
  assert.deepEqual(collection.items.map(brief), ['products/ours create v1']);
  const stream = await call('GET', `/v1/changes?cursor=${start}`, {
    headers: { accept: 'application/x-ndjson' },
  });
  assert.deepEqual(
    stream.text
      .trim()
      .split('\n')
      .map((line) => brief(JSON.parse(line))),
    ['products/ours create v1'],
  );
  const fromTheirs = await readAll('/v1/changes', undefined, 2, 1, neighbour.key);
  assert.deepEqual(fromTheirs.items.map(brief), ['products/theirs create v1']);
  // Our cursor in their hands reads their feed from that position: nothing of ours.
  const crossed = await readAll('/v1/changes', start, 2, 1, neighbour.key);
  assert.deepEqual(crossed.items.map(brief), ['products/theirs create v1']);
});

test('a change whose id was drawn first but committed last is served once, after the others', async () => {
  const { cursor } = await readAll('/v1/changes', undefined, 1000);
  // Writer A draws its change id, then writer B writes and commits with a higher one.
  const [drawn] = await server.db.query<{ id: string }>(`SELECT nextval('change_seq')::text AS id`);
  const early = drawn!.id;
  const edit = await call('PATCH', '/v1/collections/products/records/c', { body: { price: 30 } });
  assert.equal(edit.status, 200, edit.text);
  const between = await readAll('/v1/changes', cursor, 2, 1);
  assert.deepEqual(between.items.map(brief), ['products/c update v2']);
  assert.ok(BigInt(between.items[0].changeId) > BigInt(early));
  // A commits now, with the lower id.
  await server.db.transaction(async (tx) => {
    await tx.query(
      `UPDATE records SET data = '{"id":"z","late":true}', version = version + 1, change_id = $2
        WHERE tenant_id = $1 AND record_id = 'z'`,
      [tenantId, early],
    );
    await tx.query(`INSERT INTO changes (tenant_id, id, kind) VALUES ($1, $2, 'api')`, [tenantId, early]);
  });
  const later = await readAll('/v1/changes', between.cursor, 2, 1);
  assert.deepEqual(later.items.map(brief), ['products/z update v2']);
  assert.equal(later.items[0].changeId, early);
  assert.deepEqual((await readAll('/v1/changes', later.cursor)).items, []);
});

test('PostgreSQL: a transaction still open holds back the changes that committed after it', {
  skip: BACKEND !== 'postgres',
}, async () => {
  const { cursor } = await readAll('/v1/changes', undefined, 1000);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  const slow = server.db.transaction(async (tx) => {
    const [drawn] = await tx.query<{ id: string }>(`SELECT nextval('change_seq')::text AS id`);
    const id = drawn!.id;
    await tx.query(
      `UPDATE records SET data = '{"id":"a","slow":true}', version = version + 1, change_id = $2
        WHERE tenant_id = $1 AND record_id = 'a'`,
      [tenantId, id],
    );
    await tx.query(`INSERT INTO changes (tenant_id, id, kind) VALUES ($1, $2, 'api')`, [tenantId, id]);
    wrote();
    await gate;
  });
  await written;
  const edit = await call('PATCH', '/v1/collections/products/records/c', { body: { price: 31 } });
  assert.equal(edit.status, 200, edit.text);
  // The edit committed, but the open transaction drew an earlier id: neither is served yet.
  const between = await readAll('/v1/changes', cursor);
  assert.deepEqual(between.items, []);
  release();
  await slow;
  const later = await readAll('/v1/changes', between.cursor, 2, 2);
  assert.deepEqual(later.items.map(brief), ['products/a update v3', 'products/c update v3']);
});

test('PostgreSQL: a cursor of now serves nothing that committed before it, though an older transaction is open', {
  skip: BACKEND !== 'postgres',
}, async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started!: () => void;
  const open = new Promise<void>((resolve) => {
    started = resolve;
  });
  // An open transaction with an id keeps xmin below everything that commits after it began.
  const old = server.db.transaction(async (tx) => {
    await tx.query('SELECT pg_current_xact_id()');
    started();
    await gate;
  });
  try {
    await open;
    const before = await call('PATCH', '/v1/collections/products/records/c', { body: { price: 41 } });
    assert.equal(before.status, 200, before.text);
    const cursor = (await call('GET', '/v1/collections/products/export')).headers.get('changes-cursor');
    assert.ok(cursor);
    const after = await call('PATCH', '/v1/collections/products/records/c', { body: { price: 42 } });
    assert.equal(after.status, 200, after.text);
    release();
    await old;
    const { items } = await readAll('/v1/collections/products/changes', cursor, 2, 1);
    assert.deepEqual(items.map(brief), [
      `products/c update v${after.headers.get('etag')!.replaceAll('"', '')}`,
    ]);
  } finally {
    release();
    await old;
  }
});

test('a long poll answers when a change commits', async () => {
  const { cursor } = await readAll('/v1/changes', undefined, 1000);
  const polling = call('GET', `/v1/changes?cursor=${cursor}&wait=30`);
  // The poll has nothing to serve until this edit commits.
  const edit = await call('PATCH', '/v1/collections/products/records/c', { body: { price: 99 } });
  assert.equal(edit.status, 200, edit.text);
  const page = await polling;
  assert.equal(page.status, 200, page.text);
  assert.deepEqual(page.body.items.map(brief), [
    `products/c update v${edit.headers.get('etag')!.replaceAll('"', '')}`,
  ]);
});

test('export then follow: the export cursor serves exactly what changed after it', async () => {
  const exported = await call('GET', '/v1/collections/products/export');
  assert.equal(exported.status, 200);
  const cursor = exported.headers.get('changes-cursor');
  assert.ok(cursor);
  await sync('products', [{ id: 'n1', name: 'new' }], '?mode=partial');
  const edit = await call('PATCH', '/v1/collections/products/records/n1', { body: { name: 'edited' } });
  assert.equal(edit.status, 200);
  const { items } = await readAll('/v1/collections/products/changes', cursor, 2, 2);
  assert.deepEqual(items.map(brief), ['products/n1 create v1', 'products/n1 update v2']);
  assert.deepEqual(items[1].fields, ['/name']);
});

test('bad cursors are 400; a cursor older than retention is 410 cursor_expired', async () => {
  for (const bad of [
    'x',
    Buffer.from('[1,"a"]').toString('base64url'),
    Buffer.from('[2]').toString('base64url'),
    // A snapshot PostgreSQL would refuse to read: xmin above xmax, an id outside it, ids unsorted.
    ...['9:5:', '5:9:12', '5:9:7,6', '0:1:', '5:9:x'].map((seen) =>
      Buffer.from(JSON.stringify([1, '5', '0', '0', '', 1, seen])).toString('base64url'),
    ),
  ]) {
    const response = await call('GET', `/v1/changes?cursor=${bad}`);
    assert.equal(response.status, 400, bad);
    assert.equal(response.body.code, 'invalid_cursor');
  }
  assert.equal((await call('GET', '/v1/changes?wait=61')).status, 400);
  const { cursor } = await readAll('/v1/changes', undefined, 1000);
  await sync('other', [{ id: 'x', v: 2 }], '?mode=partial');
  // Retention of 0 days prunes every closed version no snapshot needs.
  const expiring = await startTestServer({ snapshotRetentionDays: 0 });
  try {
    const tenant = await expiring.createTenant('old');
    const ask = (method: string, path: string, body?: unknown) =>
      expiring.request(method, path, { key: tenant.key, body });
    assert.equal((await ask('PUT', '/v1/collections/c', {})).status, 201);
    assert.equal((await ask('POST', '/v1/collections/c/syncs', [{ id: '1', v: 1 }])).status, 200);
    const old = (await ask('GET', '/v1/changes')).body.nextCursor;
    assert.equal((await ask('POST', '/v1/collections/c/syncs', [{ id: '1', v: 2 }])).status, 200);
    const pruned = await ask('POST', '/v1/snapshots/prune');
    assert.equal(pruned.status, 200, pruned.text);
    const expired = await ask('GET', `/v1/changes?cursor=${old}`);
    assert.equal(expired.status, 410, expired.text);
    assert.equal(expired.body.code, 'cursor_expired');
    // Starting again from an export's cursor works.
    const fresh = (await ask('GET', '/v1/collections/c/export')).headers.get('changes-cursor');
    assert.equal((await ask('GET', `/v1/changes?cursor=${fresh}`)).status, 200);
  } finally {
    await expiring.close();
  }
  assert.equal((await call('GET', `/v1/changes?cursor=${cursor}`)).status, 200);
});
