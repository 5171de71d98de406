/**
 * Reverting one run on PostgreSQL: node --import tsx bench/revert.ts [records] (npm run bench:revert).
 * BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/test) names the server; the bench works in
 * its own database, sm_bench_revert, dropped and made again each run.
 *
 * With `records` (default 1,000,000) in one collection, loaded by the real sync engine, one sync that
 * changes 1% of them (the run), then in the same run:
 * - revert that run, then revert each revert in turn (each re-applies or undoes the same 1%): 3 rounds;
 * - restore the collection to the snapshot taken before the run, and undo that restore: 3 rounds;
 * - the full import of the collection, the cost of anything that reads the whole collection.
 * A revert proportional to the run's changes costs about what the restore of the same change costs and
 * a small fraction of the import.
 * BENCH_AUTO_EXPLAIN_MS=1000 logs the plan of every statement slower than that (see below).
 */
import postgres from 'postgres';
import { openPostgres } from '../src/db/adapters/postgres.ts';
import { migrate } from '../src/db/migrate.ts';
import { CollectionService } from '../src/features/collections/collections.service.ts';
import { RevertService } from '../src/features/revert/revert.service.ts';
import { SnapshotService } from '../src/features/snapshots/snapshots.service.ts';
import { SyncService } from '../src/features/syncs/syncs.service.ts';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DB_NAME = 'sm_bench_revert';

/** How many times each record has changed: sync k changes the 1% whose (i * 7919 + k * 104729) % 100 is 0. */
const revision = new Uint16Array(RECORDS);

function record(i: number): string {
  return JSON.stringify({
    id: `p${String(i).padStart(8, '0')}`,
    name: `Product ${i} lorem ipsum dolor`,
    price: Math.round(i * 7.31) / 100 + revision[i]!,
    tags: ['alpha', i % 2 === 0 ? 'even' : 'odd', `t${i % 97}`],
    attrs: { color: ['red', 'green', 'blue'][i % 3], size: 'M', weight: (i % 50) / 4 },
    rev: revision[i],
  });
}

async function* feed(): AsyncIterable<Uint8Array> {
  let part: string[] = [];
  let size = 0;
  for (let i = 0; i < RECORDS; i++) {
    const line = record(i);
    part.push(line);
    size += line.length + 1;
    if (size >= 1 << 20) {
      yield Buffer.from(part.join('\n') + '\n');
      part = [];
      size = 0;
    }
  }
  if (part.length > 0) yield Buffer.from(part.join('\n') + '\n');
}

function changeOnePercent(k: number): number {
  let changed = 0;
  for (let i = 0; i < RECORDS; i++) {
    if ((i * 7919 + k * 104729) % 100 === 0) {
      revision[i]!++;
      changed++;
    }
  }
  return changed;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const result = await fn();
  return [result, performance.now() - t0];
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}

const ms = (value: number) => value.toFixed(1);

async function main(): Promise<void> {
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DB_NAME}`);
  // BENCH_AUTO_EXPLAIN_MS: every statement of the bench's database slower than this is logged with
  // its plan and row counts (auto_explain, to the server's log), nested ones (in functions) too.
  const explainMs = process.env.BENCH_AUTO_EXPLAIN_MS;
  if (explainMs) {
    for (const setting of [
      `session_preload_libraries = 'auto_explain'`,
      `auto_explain.log_min_duration = ${Number(explainMs)}`,
      'auto_explain.log_analyze = on',
      'auto_explain.log_buffers = on',
      'auto_explain.log_nested_statements = on',
    ]) {
      await admin.unsafe(`ALTER DATABASE ${DB_NAME} SET ${setting}`);
    }
  }
  await admin.end();
  const url = new URL(BASE_URL);
  url.pathname = `/${DB_NAME}`;
  const db = openPostgres(url.toString());
  try {
    await migrate(db);
    const [tenant] = await db.query<{ id: string }>(
      `INSERT INTO tenants (slug, name) VALUES ('bench', 'bench') RETURNING id`,
    );
    const tenantId = tenant!.id;
    await db.query(`INSERT INTO collections (tenant_id, name) VALUES ($1, 'products')`, [tenantId]);
    const collections = new CollectionService(db);
    const syncs = new SyncService(db, collections, { snapshotRetentionDays: 30 });
    const snapshots = new SnapshotService(db, { retentionDays: 30 });
    const reverts = new RevertService(db, { snapshotRetentionDays: 30 });
    const runSync = async () => {
      const outcome = await syncs.run({
        tenantId,
        collection: 'products',
        mode: 'full',
        dryRun: false,
        force: false,
        format: 'ndjson',
        feed: feed(),
        origin: { kind: 'cli' },
      });
      if (outcome.run.status !== 'succeeded') throw new Error(`sync ${outcome.run.status}`);
      return outcome.run;
    };

    console.log(`loading ${RECORDS.toLocaleString('en')} records with the sync engine…`);
    const [, importMs] = await timed(runSync);
    await db.query('ANALYZE records');

    const before = await snapshots.create(tenantId, { label: 'before 1%' });
    const changed = changeOnePercent(1000);
    const [run, oneSyncMs] = await timed(runSync);

    // Each round reverts the run before it: the sync, then each revert in turn.
    const revertRounds: number[] = [];
    let target = run.id;
    let written = 0;
    for (let round = 0; round < 3; round++) {
      const [result, took] = await timed(() =>
        reverts.revert(tenantId, target, { dryRun: false, apiKeyId: null }),
      );
      revertRounds.push(took);
      written = result.counts.written;
      target = result.id!;
    }
    const restoreRounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      const [restored, took] = await timed(() =>
        snapshots.restore(tenantId, before.id, { apiKeyId: null, collections: ['products'] }),
      );
      restoreRounds.push(took);
      await snapshots.restore(tenantId, restored.undoSnapshotId, {
        apiKeyId: null,
        collections: ['products'],
      });
    }

    const revertMs = stats(revertRounds).median;
    const restoreMs = stats(restoreRounds).median;
    const rounds = (values: number[]) => values.map((v) => ms(v)).join(', ');
    console.log(
      `\nReverting one run on PostgreSQL, ${RECORDS.toLocaleString('en')} records, a run that changed ${changed.toLocaleString('en')}\n`,
    );
    console.log('| measure | value | baseline | ratio |');
    console.log('|---|---|---|---|');
    console.log(
      `| revert the 1% run (${written.toLocaleString('en')} records written; median of 3: ${rounds(revertRounds)}) | ${ms(revertMs)} ms | full import of the collection: ${ms(importMs)} ms | ${(revertMs / importMs).toFixed(3)} |`,
    );
    console.log(
      `| restore the collection to the snapshot before the run (median of 3: ${rounds(restoreRounds)}) | ${ms(restoreMs)} ms | full import: ${ms(importMs)} ms | ${(restoreMs / importMs).toFixed(3)} |`,
    );
    console.log(`| revert beside restore | | | ${(revertMs / restoreMs).toFixed(2)} |`);
    console.log(`| the 1% sync itself, for scale | ${ms(oneSyncMs)} ms | | |`);
  } finally {
    await db.close();
  }
}

await main();
