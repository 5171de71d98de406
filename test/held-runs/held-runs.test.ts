import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expireHeldRuns } from '../../src/features/held-runs/held-runs.service.ts';
import { makeCollection, stored, sync, tenantServer } from '../sync/sync-helpers.ts';
import { call, heldRows } from './held-run-calls.ts';

const fixture = tenantServer();

const item = (i: number, price: number, name = `item ${i}`) => ({ id: `p${i}`, name, price });
const items = (n: number, price: (i: number) => number, name?: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => item(i, price(i), name?.(i)));

test('maxChangeRatio holds a run that updates too many records: nothing applied, reasons and plan kept', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'changes', { maxChangeRatio: 0.2 });
  await sync(
    ctx,
    'changes',
    items(10, () => 1),
  );
  // An endpoint that wants sync.held: the event is written in the held run's transaction (the outbox).
  await ctx.server.db.query(
    `INSERT INTO webhooks (tenant_id, url, events, secret) VALUES ($1, 'https://hooks.example.test/', ARRAY['sync.held'], 'whsec_test')`,
    [tenantId],
  );
  const before = await stored(ctx, tenantId, 'changes');
  const held = await sync(ctx, 'changes', [...items(10, (i) => (i < 5 ? 2 : 1)), item(99, 1)]);
  assert.equal(held.status, 409, held.text);
  assert.equal(held.body.code, 'sync_held');
  assert.equal(held.body.syncStatus, 'held');
  assert.deepEqual(
    held.body.reasons.map((r: { code: string }) => r.code),
    ['change_guard'],
  );
  assert.match(
    held.body.reasons[0].message,
    /update 5 of 10 records \(50\.0%\), more than maxChangeRatio 0\.2/,
  );
  assert.deepEqual(await stored(ctx, tenantId, 'changes'), before, 'a held run applies nothing');
  const events = await ctx.server.db.query<{
    type: string;
    payload: { syncRunId: string; reasons: unknown[] };
  }>('SELECT type, payload FROM webhook_events WHERE tenant_id = $1', [tenantId]);
  assert.deepEqual(
    events.map((e) => [e.type, e.payload.syncRunId, e.payload.reasons.length]),
    [['sync.held', held.body.syncId, 1]],
  );

  const run = await call(ctx, held.body.syncId, '');
  assert.equal(run.body.status, 'held');
  assert.equal(run.body.errors[0].code, 'change_guard');
  assert.deepEqual(run.body.plan.create, ['p99']);
  assert.deepEqual(run.body.plan.update.sort(), ['p0', 'p1', 'p2', 'p3', 'p4']);
  assert.ok(run.body.heldUntil);

  // force skips the guards, as it always did.
  const forced = await sync(
    ctx,
    'changes',
    items(10, (i) => (i < 5 ? 3 : 1)),
    'force=true',
  );
  assert.equal(forced.status, 200, forced.text);
});

test('maxFieldChangeRatio holds for the field named, not for others; requiredFields is a feed error', async () => {
  const { ctx } = fixture;
  await makeCollection(ctx, 'fields', { maxFieldChangeRatio: { '/price': 0.1 }, requiredFields: ['/price'] });
  await sync(
    ctx,
    'fields',
    items(10, () => 1),
  );
  const names = await sync(
    ctx,
    'fields',
    items(
      10,
      () => 1,
      (i) => `renamed ${i}`,
    ),
  );
  assert.equal(names.status, 200, 'every name changed, and /price is the field guarded');
  const prices = await sync(
    ctx,
    'fields',
    items(10, () => 0),
  );
  assert.equal(prices.status, 409);
  assert.deepEqual(prices.body.reasons, [
    {
      code: 'field_change_guard',
      pointer: '/price',
      message:
        'the sync would change /price in 10 of 10 records (100.0%), more than maxFieldChangeRatio 0.1 allows',
    },
  ]);
  const missing = await sync(ctx, 'fields', [{ id: 'p1', name: 'no price' }]);
  assert.equal(missing.status, 422);
  assert.equal(missing.body.code, 'feed_invalid');
  assert.equal(missing.body.errors[0].pointer, '/price');
  assert.match(missing.body.errors[0].message, /required field \/price is missing/);
  assert.equal((await call(ctx, missing.body.syncId, '')).body.status, 'failed');
});

test('the delete guard holds too, still answering delete_guard; approve applies exactly the held plan', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'deletes');
  await sync(
    ctx,
    'deletes',
    items(10, () => 1),
  );
  const feed = [item(0, 5), item(1, 1), item(2, 1), item(50, 7)];
  const held = await sync(ctx, 'deletes', feed);
  assert.equal(held.status, 409);
  assert.equal(held.body.code, 'delete_guard');
  assert.equal(held.body.syncStatus, 'held');
  assert.ok((await heldRows(ctx, held.body.syncId)) > 0);

  // The feed the run read is gone; the approval applies what was staged from it.
  const approved = await call(ctx, held.body.syncId, 'approve');
  assert.equal(approved.status, 200, approved.text);
  assert.equal(approved.body.status, 'succeeded');
  assert.deepEqual(
    {
      created: approved.body.counts.created,
      updated: approved.body.counts.updated,
      deleted: approved.body.counts.deleted,
    },
    { created: 1, updated: 1, deleted: 7 },
  );
  const after = await stored(ctx, tenantId, 'deletes');
  const live = [...after.values()].filter((row) => row.data !== null).map((row) => row.data);
  assert.deepEqual(
    live.sort((a, b) => String(a!.id).localeCompare(String(b!.id))),
    feed.sort((a, b) => a.id.localeCompare(b.id)),
  );
  assert.equal(await heldRows(ctx, held.body.syncId), 0, 'the staged rows go with the approval');
  assert.equal((await call(ctx, held.body.syncId, 'approve')).body.code, 'run_not_held');
  // An applied held run is an ordinary run: it can be reverted.
  const reverted = await ctx.server.request('POST', `/v1/syncs/${held.body.syncId}/revert`, { key: ctx.key });
  assert.equal(reverted.body.counts.revived, 7);
});

test('approve after a manual edit is 409 collection_changed; reject and expiry remove the staged rows', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'edits');
  await sync(
    ctx,
    'edits',
    items(10, () => 1),
  );
  const held = await sync(
    ctx,
    'edits',
    items(2, () => 1),
  );
  assert.equal(held.body.syncStatus, 'held');
  const edit = await ctx.server.request('PATCH', '/v1/collections/edits/records/p5', {
    key: ctx.key,
    body: { price: 9 },
  });
  assert.equal(edit.status, 200);
  const refused = await call(ctx, held.body.syncId, 'approve');
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'collection_changed');
  assert.equal((await stored(ctx, tenantId, 'edits')).get('p9')!.data!.price, 1, 'nothing applied');

  const rejected = await call(ctx, held.body.syncId, 'reject');
  assert.equal(rejected.body.status, 'rejected');
  assert.equal(await heldRows(ctx, held.body.syncId), 0);

  const second = await sync(
    ctx,
    'edits',
    items(2, () => 1),
  );
  assert.ok((await heldRows(ctx, second.body.syncId)) > 0);
  // The history filtered by status: the runs waiting for approval, however far back.
  const history = (query: string) =>
    ctx.server.request('GET', `/v1/collections/edits/syncs?${query}`, { key: ctx.key });
  const waiting = await history('status=held');
  assert.deepEqual(
    waiting.body.items.map((run: { id: string }) => run.id),
    [second.body.syncId],
  );
  const onePage = await history('status=rejected&limit=1');
  assert.deepEqual(
    onePage.body.items.map((run: { id: string }) => run.id),
    [held.body.syncId],
  );
  assert.equal(onePage.body.nextCursor, null);
  assert.equal((await history('status=nonsense')).status, 400);
  await ctx.server.db.query(`UPDATE sync_runs SET held_until = now() - interval '1 second' WHERE id = $1`, [
    second.body.syncId,
  ]);
  assert.equal(await expireHeldRuns(ctx.server.db), 1);
  assert.equal((await call(ctx, second.body.syncId, '')).body.status, 'expired');
  assert.equal(await heldRows(ctx, second.body.syncId), 0);
  assert.equal((await call(ctx, second.body.syncId, 'approve')).body.code, 'run_not_held');
});

test('a held sync retried with the same Idempotency-Key answers the same 409, marked as a replay', async () => {
  const { ctx, tenantId } = fixture;
  await makeCollection(ctx, 'retried', { maxChangeRatio: 0.2 });
  await sync(
    ctx,
    'retried',
    items(10, () => 1),
  );
  const feed = items(10, () => 3);
  const headers = { 'idempotency-key': 'retry-held-1' };
  const first = await sync(ctx, 'retried', feed, '', headers);
  assert.equal(first.status, 409, first.text);
  assert.equal(first.body.code, 'sync_held');
  const again = await sync(ctx, 'retried', feed, '', headers);
  assert.equal(again.status, 409, again.text);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.body.code, 'sync_held');
  assert.equal(again.body.syncId, first.body.syncId);
  assert.deepEqual(again.body.reasons, first.body.reasons);
  const [runs] = await ctx.server.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sync_runs r JOIN collections c ON c.id = r.collection_id
      WHERE r.tenant_id = $1 AND c.name = 'retried'`,
    [tenantId],
  );
  assert.equal(runs!.n, 2, 'the first sync and the held one; the replay made no run');
});
