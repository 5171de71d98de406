// The plan of a sync locks the stored records its staged rows name, in the same pass that counts them
// (plan.sql.ts planFeed): an edit that commits after the plan read a record must wait for the sync,
// or the sync's write would overwrite it. A race is not reproducible on demand, so this checks the lock
// itself: while the plan's transaction is open, another connection cannot lock the record. PostgreSQL
// only (PGlite serves one connection, so nothing can race it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import postgres from 'postgres';
import { planFeed } from '../../src/features/syncs/plan.sql.ts';
import { BACKEND } from '../helpers/database.ts';
import { makeCollection, sync, tenantServer } from './sync-helpers.ts';

const fixture = tenantServer();

test('the plan locks the records it counts, and a dry run locks none', {
  skip: BACKEND === 'pglite' && 'needs a second connection (PostgreSQL only)',
}, async () => {
  await makeCollection(fixture.ctx, 'locked');
  assert.equal((await sync(fixture.ctx, 'locked', [{ id: 'a', n: 1 }])).status, 200);
  const [record] = await fixture.server.db.query<{ collection_id: string }>(
    `SELECT collection_id::text FROM records WHERE record_id = 'a'`,
  );
  const other = postgres(fixture.server.database.url!, { max: 1, onnotice: () => {} });
  try {
    for (const lock of [true, false]) {
      await fixture.server.db.transaction(async (tx) => {
        await tx.query(`CREATE TEMP TABLE sync_feed (record_id text COLLATE "C", row_no int, hash text,
          deleted boolean, doc text) ON COMMIT DROP`);
        await tx.query(`INSERT INTO sync_feed VALUES ('a', 1, 'another hash', false, '{"id":"a","n":2}')`);
        const [plan] = await tx.query<{ matched: number; changed: number }>(
          planFeed(fixture.tenantId, record!.collection_id, lock),
        );
        assert.deepEqual([plan!.matched, plan!.changed], [1, 1]);
        const attempt = other.begin((t) =>
          t.unsafe(`SELECT 1 FROM records WHERE record_id = 'a' FOR UPDATE NOWAIT`),
        );
        if (lock) await assert.rejects(attempt, (error: { code?: string }) => error.code === '55P03');
        else await attempt;
      });
    }
  } finally {
    await other.end();
  }
});
