// Random syncs, patches, deletes and snapshots over a controllable clock, with a recorded copy of every
// collection at each snapshot (and at random moments); then prune; then every retained snapshot must
// read and restore to exactly its recorded copy, and every moment inside the window must read as it
// was read then. SEED=<n> replays a run.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AppError } from '../../src/errors.ts';
import { SnapshotService } from '../../src/features/snapshots/snapshots.service.ts';
import type { JsonObject } from '../../src/json/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { expandCopy, prng, type StoredState, Writer } from './fixture.ts';

const DAY = 24 * 60 * 60 * 1000;
const SEED = Number(process.env.SEED ?? 20260101);
const OPERATIONS = 200;
const RETENTION_DAYS = 30;

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.close());

interface Copy {
  snapshotId: string;
  pinned: boolean;
  at: number;
  states: Record<string, Record<string, StoredState>>;
}

test(`property: every retained snapshot restores to its recorded copy after prune (seed ${SEED})`, async () => {
  const random = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let time = Date.parse('2026-01-01T00:00:00Z');
  const clock = () => new Date(time);
  const snapshots = new SnapshotService(database.db, { retentionDays: RETENTION_DAYS, now: clock });
  const w = await Writer.create(database.db, 'property', clock);
  const names = ['products', 'events'];
  const collections: Record<string, string> = {};
  for (const name of names) collections[name] = await w.collection(name);
  const ids = Array.from({ length: 12 }, (_, i) => `r${i}`);
  // Upstream's view, per collection: what the next full feed holds.
  const upstream: Record<string, Record<string, JsonObject>> = { products: {}, events: {} };

  const copies: Copy[] = [];
  const moments: Array<{ at: number; reads: Record<string, Record<string, JsonObject>> }> = [];
  const readAll = async () => {
    const states: Record<string, Record<string, StoredState>> = {};
    for (const name of names) states[name] = await w.states(collections[name]!);
    return states;
  };

  for (let op = 0; op < OPERATIONS; op++) {
    time += Math.floor(random() * 2.5 * DAY) + 1000;
    const name = pick(names);
    const collectionId = collections[name]!;
    const roll = random();
    if (roll < 0.35) {
      // A full sync: some records change, some appear, some disappear.
      const feed = upstream[name]!;
      for (const id of ids) {
        const r = random();
        if (r < 0.15) delete feed[id];
        else if (r < 0.5) feed[id] = { id, n: Math.floor(random() * 5), tag: pick(['x', 'y', 'z']) };
      }
      await w.sync(collectionId, { ...feed });
    } else if (roll < 0.6) {
      await w.patch(collectionId, pick(ids), pick(['n', 'tag', 'note']), Math.floor(random() * 100));
    } else if (roll < 0.7) {
      await w.remove(collectionId, pick(ids));
    } else if (roll < 0.85) {
      const pinned = random() < 0.15;
      const snapshot = await snapshots.create(w.tenantId, { label: `op ${op}`, pinned });
      copies.push({ snapshotId: snapshot.id, pinned, at: time, states: await readAll() });
    } else {
      const reads: Record<string, Record<string, JsonObject>> = {};
      for (const n of names) reads[n] = await w.effective(collections[n]!);
      moments.push({ at: time, reads });
    }
  }

  time += Math.floor(random() * 5 * DAY);
  const windowStart = time - RETENTION_DAYS * DAY;
  const [versionsBefore] = await database.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM record_versions',
  );
  const recordsBefore = await readAll();
  const report = await snapshots.prune(w.tenantId, { dryRun: false });
  const [versionsAfter] = await database.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM record_versions',
  );

  const expected = copies
    .filter((c) => !c.pinned && c.at + RETENTION_DAYS * DAY <= time)
    .map((c) => c.snapshotId);
  assert.deepEqual(report.expired.map((s) => s.id).sort(), expected.sort());
  assert.ok(expected.length > 0, 'the run expires some snapshots');
  assert.ok(versionsAfter!.n < versionsBefore!.n, 'the run prunes some versions');
  assert.deepEqual(await readAll(), recordsBefore, 'pruning changes no record');

  // Moments inside the window read as they were read then.
  const inside = moments.filter((m) => m.at >= windowStart);
  for (const moment of inside) {
    for (const name of names) {
      const rows = await snapshots.listRecordsAt(
        w.tenantId,
        name,
        new Date(moment.at).toISOString(),
        null,
        1000,
      );
      const read = rows === null ? await w.effective(collections[name]!) : parseRows(rows);
      assert.deepEqual(read, moment.reads[name], `${name} at ${new Date(moment.at).toISOString()}`);
    }
  }

  let checked = 0;
  for (const copy of copies) {
    if (expected.includes(copy.snapshotId)) {
      await assert.rejects(
        snapshots.get(w.tenantId, copy.snapshotId),
        (e: AppError) => e.code === 'snapshot_not_found',
      );
      continue;
    }
    for (const name of names) {
      const rows = await snapshots.listRecordsAt(w.tenantId, name, copy.snapshotId, null, 1000);
      assert.deepEqual(
        parseRows(rows!),
        effectiveOf(copy.states[name]!),
        `asOf ${copy.snapshotId} in ${name}`,
      );
    }
    time += 1000;
    await snapshots.restore(w.tenantId, copy.snapshotId, { apiKeyId: null });
    const now = await readAll();
    for (const name of names) {
      assert.deepEqual(
        now[name],
        expandCopy(copy.states[name]!, Object.keys(now[name]!)),
        `restore ${copy.snapshotId}`,
      );
    }
    checked++;
  }
  assert.ok(checked >= 3, `at least three retained snapshots are checked (got ${checked})`);
  assert.ok(inside.length >= 1, 'at least one moment inside the window is checked');
});

function parseRows(rows: Array<{ id: string; dataText: string }>): Record<string, JsonObject> {
  return Object.fromEntries(rows.map((row) => [row.id, JSON.parse(row.dataText) as JsonObject]));
}

function effectiveOf(states: Record<string, StoredState>): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  for (const [id, state] of Object.entries(states)) if (state.data) out[id] = state.data;
  return out;
}
