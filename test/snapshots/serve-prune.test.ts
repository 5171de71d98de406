// The retention prune that `serve` runs on its schedule, without waiting on the wall clock: the real
// server (src/server.ts startServer) gets a clock the test moves and a timer the test ticks by hand.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { generateKey } from '../../src/features/api-keys/key-format.ts';
import {
  DAY_MS,
  PRUNE_INTERVAL_MS,
  type PruneReport,
  schedulePruning,
} from '../../src/features/snapshots/retention.ts';
import { startServer } from '../../src/server.ts';
import { createTestDatabase } from '../helpers/database.ts';

/** A timer that never fires by itself: the test calls `tick` where the interval would have. */
function manualTimer() {
  const state = {
    tick: undefined as (() => Promise<void>) | undefined,
    intervalMs: 0,
    cancelled: false,
  };
  const timer = (tick: () => Promise<void>, intervalMs: number) => {
    state.tick = tick;
    state.intervalMs = intervalMs;
    return () => {
      state.cancelled = true;
    };
  };
  return { state, timer };
}

test('serve prunes on its schedule: expired snapshots go, pinned and recent ones stay', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sm-prune-'));
  const database = process.env.TEST_DATABASE_URL ? await createTestDatabase() : undefined;
  await database?.db.close();
  const adminKey = generateKey('platform');
  let clock = Date.now();
  const { state, timer } = manualTimer();
  const server = await startServer(
    {
      ...loadConfig({}),
      databaseUrl: database?.url,
      dataDir: join(root, 'data'),
      port: 0,
      adminKey,
      logLevel: 'silent',
      importDir: undefined,
      scheduleTickMs: 3_600_000,
    },
    { now: () => new Date(clock), pruneTimer: timer },
  );
  try {
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const response = await fetch(server.url + path, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    };
    assert.equal(state.intervalMs, PRUNE_INTERVAL_MS, 'serve prunes hourly');
    assert.ok(state.tick, 'serve started the prune timer');

    const created = await call('POST', '/v1/tenants', adminKey, { slug: 'prune-serve' });
    assert.equal(created.status, 201);
    const key = created.body.apiKey.key as string;
    const write = async (price: number) => {
      const response = await call('PUT', '/v1/collections/items/records/x', key, { id: 'x', price });
      assert.ok(response.status < 300, JSON.stringify(response.body));
    };
    const snapshot = async (body: object) => {
      const response = await call('POST', '/v1/snapshots', key, body);
      assert.equal(response.status, 201);
      return response.body.id as string;
    };
    const priceAt = async (snapshotId: string) => {
      const response = await call('GET', `/v1/collections/items/records/x?asOf=${snapshotId}`, key);
      return response.status === 200 ? response.body.price : response.body.code;
    };
    const versions = async () => {
      const [row] = await server.db.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM record_versions WHERE tenant_id = $1',
        [created.body.tenant.id],
      );
      return row!.count;
    };

    assert.ok((await call('PUT', '/v1/collections/items', key, {})).status < 300);
    await write(1);
    const expiring = await snapshot({ label: 'expiring' });
    await write(2);
    const pinned = await snapshot({ label: 'pinned', pinned: true });
    await write(3);
    clock += 20 * DAY_MS;
    const recent = await snapshot({ label: 'recent' });
    await write(4);
    assert.equal(await versions(), 3);

    // Inside the window nothing expires yet: a tick prunes nothing.
    await state.tick();
    assert.equal(await priceAt(expiring), 1);
    assert.equal(await versions(), 3);

    clock += 15 * DAY_MS; // expiring is 35 days old, recent 15
    await state.tick();
    assert.equal(await priceAt(expiring), 'snapshot_not_found', 'the expired snapshot is gone');
    assert.equal(await priceAt(pinned), 2, 'the pinned snapshot stays, and reads as it was');
    assert.equal(await priceAt(recent), 3, 'the snapshot inside the window stays');
    assert.equal(await versions(), 2, 'the version only the expired snapshot needed is pruned');
    const listed = await call('GET', '/v1/snapshots', key);
    const ids = listed.body.items.map((s: { id: string }) => s.id);
    assert.ok(!ids.includes(expiring) && ids.includes(pinned) && ids.includes(recent));
  } finally {
    await server.close();
    await database?.close();
    rmSync(root, { recursive: true, force: true });
  }
  assert.equal(state.cancelled, true, 'closing the server cancels the timer');
  await state.tick(); // a late tick after close touches nothing (the database is closed)
});

test('the prune schedule never overlaps runs and does nothing after stop', async () => {
  const { state, timer } = manualTimer();
  let runs = 0;
  let release: () => void = () => {};
  const logged: string[] = [];
  const schedule = schedulePruning(
    async () => {
      runs++;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return new Map<string, PruneReport>();
    },
    { info: (_obj, msg) => logged.push(msg), error: (_obj, msg) => logged.push(msg) },
    { intervalMs: 1234, timer },
  );
  assert.equal(state.intervalMs, 1234);
  const first = state.tick!();
  const second = state.tick!(); // the interval fires again while the first run is still going
  assert.equal(runs, 1, 'a tick during a run starts no second run');
  release();
  await Promise.all([first, second]);
  assert.deepEqual(logged, ['snapshot retention: pruned']);

  const third = state.tick!();
  assert.equal(runs, 2);
  const stopped = schedule.stop();
  let stopDone = false;
  void stopped.then(() => {
    stopDone = true;
  });
  await Promise.resolve();
  assert.equal(stopDone, false, 'stop waits for the run in progress');
  release();
  await Promise.all([third, stopped]);
  assert.equal(state.cancelled, true);
  await state.tick!();
  assert.equal(runs, 2, 'no run after stop');
});

test('a failed prune is logged, and the next tick runs again', async () => {
  const { state, timer } = manualTimer();
  let runs = 0;
  const logged: string[] = [];
  const schedule = schedulePruning(
    async () => {
      runs++;
      if (runs === 1) throw new Error('database unavailable');
      return new Map<string, PruneReport>();
    },
    { info: (_obj, msg) => logged.push(msg), error: (_obj, msg) => logged.push(msg) },
    { timer },
  );
  assert.equal(state.intervalMs, PRUNE_INTERVAL_MS);
  await state.tick!();
  await state.tick!();
  assert.deepEqual(logged, ['snapshot retention failed', 'snapshot retention: pruned']);
  await schedule.stop();
});
