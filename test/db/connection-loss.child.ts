// Run by postgres-connection-loss.test.ts in a child process, because the failure it looks for kills
// the process: postgres.js 3.4.9 unpatched throws an uncatchable TypeError (nextWrite on a null socket)
// when a connection's backend dies under a transaction. Prints one JSON line of what happened.
import postgres from 'postgres';
import { openPostgres } from '../../src/db/adapters/postgres.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';

const url = process.argv[2]!;
const tenantId = process.argv[3]!;
const report: Record<string, unknown> = {};
process.on('uncaughtException', (error) => {
  console.log(JSON.stringify({ ...report, uncaught: String(error) }));
  process.exit(3);
});

const killer = postgres(url, { max: 1, onnotice: () => {} });
const settle = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (error: { code?: string }) => error.code ?? String(error),
  );

/** Starts `run(pidSeen)`, waits until it has told its backend pid, then terminates that backend. */
async function killDuring(run: (pidSeen: (pid: number) => void) => Promise<unknown>): Promise<string> {
  let pid: number | undefined;
  const outcome = settle(run((p) => (pid = p)));
  while (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
  await killer`SELECT pg_terminate_backend(${pid})`;
  const result = await outcome;
  // The crash came from a setImmediate after the rejection: give it a few turns to happen.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return result;
}

// 1. The upstream reproduction: postgres.js's own sql.begin, whose ROLLBACK after the failed query is
//    the write that met the null socket.
const raw = postgres(url, { max: 2, onnotice: () => {} });
report.begin = await killDuring((pidSeen) =>
  raw.begin(async (tx) => {
    const [row] = await tx`SELECT pg_backend_pid() AS pid`;
    pidSeen(row!.pid as number);
    await tx`SELECT pg_sleep(30)`;
  }),
);
report.beginPoolAfter = await settle(raw`SELECT 1`);

// 2. The same through our adapter: a tenant transaction on a reserved connection.
const db = openPostgres(url, { maxConnections: 1 });
report.tenantTransaction = await killDuring((pidSeen) =>
  withTenant(db, tenantId, async (tx) => {
    const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    pidSeen(row!.pid);
    await tx.query('SELECT pg_sleep(30)');
  }),
);
// With a pool of one, this needs the dead connection to have gone back to the pool and reconnected.
report.poolAfter = await settle(db.query('SELECT 1'));
report.transactionAfter = await settle(withTenant(db, tenantId, (tx) => tx.query('SELECT 1')));

await Promise.all([raw.end({ timeout: 5 }), db.close(), killer.end({ timeout: 5 })]);
console.log(JSON.stringify(report));
process.exit(0);
