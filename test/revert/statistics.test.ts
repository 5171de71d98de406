import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../auto-import/serve.ts';
import { BACKEND } from '../helpers/database.ts';
import { makeCollection, ndjson, sync, tenantServer } from '../sync/sync-helpers.ts';

// A revert plans its probes of the version before on statistics of record_versions; a table written
// much since its last ANALYZE is analyzed first (docs/performance.md, "Reverting one run").

const fixture = tenantServer();

const items = (n: number, price: number) =>
  ndjson(Array.from({ length: n }, (_, i) => ({ id: `p${i}`, price })));

async function versionsStatistics(db: typeof fixture.server.db) {
  const [row] = await db.query<{ analyzed: number; modified: number }>(
    `SELECT analyze_count::int AS analyzed, n_mod_since_analyze::int AS modified
       FROM pg_stat_user_tables WHERE relid = 'record_versions'::regclass`,
  );
  return row!;
}

test('a revert analyzes record_versions written much since its last ANALYZE', {
  skip: BACKEND !== 'postgres' && 'the activity counters it reads are PostgreSQL server statistics',
}, async () => {
  const { ctx } = fixture;
  await makeCollection(ctx, 'stats', { maxDeleteRatio: 1 });
  assert.equal((await sync(ctx, 'stats', items(1500, 1))).status, 200);
  const run = await sync(ctx, 'stats', items(1500, 2));
  assert.equal(run.body.counts.updated, 1500, run.text);
  const before = await versionsStatistics(ctx.server.db);
  // The counters reach the shared statistics a moment after the sync's commit.
  await waitFor(
    'the versions counted',
    async () => (await versionsStatistics(ctx.server.db)).modified >= 1500,
  );

  const reverted = await ctx.server.request('POST', `/v1/syncs/${run.body.id}/revert`, { key: ctx.key });
  assert.equal(reverted.status, 200, reverted.text);
  assert.equal(reverted.body.counts.reverted, 1500);
  const after = await waitFor('the revert counted', async () => {
    const now = await versionsStatistics(ctx.server.db);
    return now.analyzed > before.analyzed ? now : undefined;
  });
  assert.equal(after.analyzed, before.analyzed + 1);
});
