import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BACKEND, createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/**
 * postgres.js 3.4.9 killed the process when a connection's backend died under a transaction: its
 * ROLLBACK was buffered for a socket already gone, and the deferred write threw an uncatchable
 * TypeError (porsager/postgres #1154, #1208). patches/apply.mjs patches it on install; this runs the
 * scenario in a child process, since the failure is the death of the process.
 */
const run = promisify(execFile);
let database: TestDatabase;

before(async () => {
  if (BACKEND === 'postgres') database = await createTestDatabase();
});
after(() => database?.close());

test('a backend killed under a transaction fails that transaction, not the process', {
  skip: BACKEND !== 'postgres' && 'PostgreSQL only (TEST_DATABASE_URL)',
}, async () => {
  const child = fileURLToPath(new URL('./connection-loss.child.ts', import.meta.url));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, database.url!, randomUUID()], {
    timeout: 120_000,
  }).catch((error: { code?: number; stdout?: string; stderr?: string }) => {
    assert.fail(`child exited ${error.code}: ${error.stdout ?? ''} ${error.stderr ?? ''}`);
  });
  const report = JSON.parse(stdout.trim().split('\n').pop()!);
  assert.deepEqual(report, {
    begin: 'CONNECTION_CLOSED',
    beginPoolAfter: 'resolved',
    tenantTransaction: 'CONNECTION_CLOSED',
    poolAfter: 'resolved',
    transactionAfter: 'resolved',
  });
});
