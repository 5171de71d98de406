// A server killed with SIGKILL while it builds a declared index, its database session ended with it
// (CREATE INDEX CONCURRENTLY then leaves an INVALID index behind): the next start drops it and builds
// the index again.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI } from '../helpers/cli.ts';
import { BACKEND, createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
before(async () => {
  if (BACKEND === 'postgres') database = await createTestDatabase();
});
after(() => database?.close());

function serve(): ChildProcess {
  return spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH, DATABASE_URL: database.url!, PORT: '0', LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
}

test('killed mid-build: the row stays building, the next start replaces the invalid index', {
  skip: BACKEND !== 'postgres' && 'PGlite builds without CONCURRENTLY, inside the one process',
}, async () => {
  const db = database.db;
  const [tenant] = await db.query<{ id: string }>(
    `INSERT INTO tenants (slug, name) VALUES ('k', 'k') RETURNING id`,
  );
  const [collection] = await db.query<{ id: string }>(
    `INSERT INTO collections (tenant_id, name, indexes) VALUES ($1, 'big', '["price"]') RETURNING id`,
    [tenant!.id],
  );
  await db.query(
    `WITH ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
     INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
     SELECT $1, $2, 'p' || i, jsonb_build_object('id', 'p' || i, 'price', i % 1000, 'pad', repeat('x', 100)),
            'true'::jsonb, ch.id FROM ch, generate_series(1, 400000) i`,
    [tenant!.id, collection!.id],
  );
  const [row] = await db.query<{ id: string }>(
    `INSERT INTO collection_indexes (tenant_id, collection_id, field) VALUES ($1, $2, 'price') RETURNING id`,
    [tenant!.id, collection!.id],
  );
  const name = `records_field_${row!.id}`;
  const state = async () =>
    (await db.query<{ state: string }>(`SELECT state FROM collection_indexes WHERE id = $1`, [row!.id]))[0]!
      .state;
  const validity = async () =>
    (
      await db.query<{ valid: boolean }>(
        `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`,
        [name],
      )
    )[0]?.valid;

  // The first server starts the build; it is killed once the index exists in the catalog, unfinished.
  const first = serve();
  const exited = new Promise((resolve) => first.on('exit', (_code, signal) => resolve(signal)));
  for (;;) {
    if ((await validity()) === false) break;
    if ((await state()) !== 'building') assert.fail('the build finished before it could be killed');
    await sleep(5);
  }
  first.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  // PostgreSQL would finish the statement of a vanished client; a host that went down takes the
  // backend with it, as here: the index stays INVALID, the row 'building'.
  for (;;) {
    const busy = await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()`,
    );
    if (busy.length === 0) break;
    await sleep(10);
  }
  assert.equal(await state(), 'building');
  assert.equal(await validity(), false);

  const second = serve();
  try {
    while ((await state()) === 'building') await sleep(20);
    assert.equal(await state(), 'ready');
    assert.equal(await validity(), true);
  } finally {
    second.kill('SIGTERM');
  }
});
