import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServe, waitFor } from '../auto-import/serve.ts';

test('serve expires a held run past its time from its own timer, and its staged rows go', {
  timeout: 60_000,
}, async (t) => {
  // The real serve with a short expiry interval: nothing here calls the expiry, and the held run is
  // made after serve started (its start-up expiry has run already).
  const serve = await startServe({ heldRunExpiryMs: 50 });
  t.after(() => serve.close());
  const { key } = await serve.createTenant('acme');
  const put = await serve.call('PUT', '/v1/collections/stock', { key, body: { maxChangeRatio: 0.2 } });
  assert.equal(put.status, 201);
  const feed = (qty: number) => Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, qty }));
  assert.equal((await serve.call('POST', '/v1/collections/stock/syncs', { key, body: feed(1) })).status, 200);
  const held = await serve.call('POST', '/v1/collections/stock/syncs', { key, body: feed(2) });
  assert.equal(held.status, 409);
  const syncId: string = held.body.syncId;
  const staged = async () =>
    (
      await serve.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM held_run_rows WHERE sync_run_id = $1',
        [syncId],
      )
    )[0]!.n;
  assert.ok((await staged()) > 0);
  assert.equal((await serve.call('GET', `/v1/syncs/${syncId}`, { key })).body.status, 'held');

  await serve.db.query(`UPDATE sync_runs SET held_until = now() - interval '1 second' WHERE id = $1`, [
    syncId,
  ]);
  await waitFor('the held run to expire', async () => {
    const run = await serve.call('GET', `/v1/syncs/${syncId}`, { key });
    return run.body.status === 'expired';
  });
  assert.equal(await staged(), 0);
});
