/**
 * Snapshots on PostgreSQL: node --import tsx bench/snapshots.ts [records] [syncs]
 * (npm run bench:snapshots). BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/test) names the
 * server; the bench works in its own database, sm_bench_snapshots, dropped and made again each run.
 *
 * With `records` (default 1,000,000) in one collection, loaded by the real sync engine:
 * - time to take a snapshot (target < 50 ms at any size), on the fresh collection and after the syncs;
 * - time to restore after a 1% change, beside the same run's full import of the collection (what
 *   "restoring" by re-importing costs);
 * - storage (rows, MB) after `syncs` (default 30) syncs with 1% change each, beside what as many full
 *   copies of the collection would take.
 */
import postgres from 'postgres';
import { openPostgres } from '../src/db/adapters/postgres.ts';
import type { Database } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { CollectionService } from '../src/features/collections/collections.service.ts';
import { SnapshotService } from '../src/features/snapshots/snapshots.service.ts';
import { SyncService } from '../src/features/syncs/syncs.service.ts';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
const SYNCS = Number(process.argv[3] ?? 30);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DB_NAME = 'sm_bench_snapshots';

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

async function storage(db: Database, tenantId: string) {
  const [row] = await db.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM records WHERE tenant_id = $1)::text AS record_rows,
            (SELECT count(*) FROM record_versions WHERE tenant_id = $1)::text AS version_rows,
            (SELECT count(*) FROM snapshots WHERE tenant_id = $1)::text AS snapshot_rows,
            pg_total_relation_size('records')::text AS records_bytes,
            pg_total_relation_size('record_versions')::text AS versions_bytes,
            pg_total_relation_size('snapshots')::text AS snapshots_bytes`,
    [tenantId],
  );
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const ms = (value: number) => value.toFixed(1);

async function main(): Promise<void> {
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DB_NAME}`);
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
      if (outcome.run.status !== 'succeeded')
        throw new Error(`sync ${outcome.run.status}: ${JSON.stringify(outcome.run)}`);
      return outcome.run;
    };

    console.log(`loading ${RECORDS.toLocaleString('en')} records with the sync engine…`);
    const [, importMs] = await timed(runSync);
    await db.query('ANALYZE records');
    const afterImport = await storage(db, tenantId);

    const takeSamples = async (n: number) => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++)
        samples.push((await timed(() => snapshots.create(tenantId, { label: `bench ${i}` })))[1]);
      return stats(samples);
    };
    const takeFresh = await takeSamples(50);

    // Restore after a 1% change: a manual snapshot, one sync changing 1%, then restore the collection.
    const before = await snapshots.create(tenantId, { label: 'before 1%' });
    changeOnePercent(1000);
    const [, oneSyncMs] = await timed(runSync);
    // Three rounds of restore and undo (restoring the snapshot the restore took), so that one slow
    // round on a shared machine shows up as such.
    const restoreRounds: number[] = [];
    const undoRounds: number[] = [];
    let [restored, firstRestoreMs] = await timed(() =>
      snapshots.restore(tenantId, before.id, { apiKeyId: null, collections: ['products'] }),
    );
    restoreRounds.push(firstRestoreMs);
    for (let round = 0; round < 3; round++) {
      if (round > 0) {
        const [again, ms] = await timed(() =>
          snapshots.restore(tenantId, before.id, { apiKeyId: null, collections: ['products'] }),
        );
        restored = again;
        restoreRounds.push(ms);
      }
      const [, ms] = await timed(() =>
        snapshots.restore(tenantId, restored.undoSnapshotId, { apiKeyId: null, collections: ['products'] }),
      );
      undoRounds.push(ms);
    }
    const beforeSyncs = await storage(db, tenantId);
    console.log(`${SYNCS} syncs with 1% changed each…`);
    const syncMs: number[] = [];
    let changedPerSync = 0;
    for (let k = 0; k < SYNCS; k++) {
      changedPerSync = changeOnePercent(k);
      syncMs.push((await timed(runSync))[1]);
    }
    await db.query('VACUUM ANALYZE records');
    await db.query('VACUUM ANALYZE record_versions');
    const afterSyncs = await storage(db, tenantId);
    const takeLater = await takeSamples(20);

    const recordsBytes = afterImport.records_bytes!;
    const historyBytes = afterSyncs.versions_bytes! - beforeSyncs.versions_bytes!;
    const historyRows = afterSyncs.version_rows! - beforeSyncs.version_rows!;

    console.log(
      `\nSnapshots on PostgreSQL, ${RECORDS.toLocaleString('en')} records (loaded by the sync engine)\n`,
    );
    console.log('| measure | value | baseline / target | ratio |');
    console.log('|---|---|---|---|');
    console.log(
      `| take a snapshot, fresh collection (median / p95 / max of 50) | ${ms(takeFresh.median)} / ${ms(takeFresh.p95)} / ${ms(takeFresh.max)} ms | target < 50 ms | ${(takeFresh.max / 50).toFixed(2)} of the target (max) |`,
    );
    console.log(
      `| take a snapshot after ${SYNCS} syncs (median / p95 / max of 20) | ${ms(takeLater.median)} / ${ms(takeLater.p95)} / ${ms(takeLater.max)} ms | target < 50 ms | ${(takeLater.max / 50).toFixed(2)} of the target (max) |`,
    );
    const c = restored.collections[0]!.restored;
    const restoreMs = stats(restoreRounds).median;
    const undoMs = stats(undoRounds).median;
    const rounds = (values: number[]) => values.map((v) => ms(v)).join(', ');
    console.log(
      `| restore after a 1% change (${(c.created + c.changed + c.deleted).toLocaleString('en')} records written; median of 3: ${rounds(restoreRounds)}) | ${ms(restoreMs)} ms | full import of the collection: ${ms(importMs)} ms | ${(restoreMs / importMs).toFixed(3)} |`,
    );
    console.log(
      `| undo that restore (restore the snapshot it took; median of 3: ${rounds(undoRounds)}) | ${ms(undoMs)} ms | full import: ${ms(importMs)} ms | ${(undoMs / importMs).toFixed(3)} |`,
    );
    console.log(`| the 1% sync itself, for scale | ${ms(oneSyncMs)} ms | | |`);
    console.log(
      `| storage: records table after import | ${afterImport.record_rows!.toLocaleString('en')} rows, ${mb(recordsBytes)} MB | | |`,
    );
    console.log(
      `| storage: history added by ${SYNCS} syncs × ${changedPerSync.toLocaleString('en')} changed (+${SYNCS} auto snapshots) | ${historyRows.toLocaleString('en')} version rows, ${mb(historyBytes)} MB | ${SYNCS} full copies: ${(SYNCS * RECORDS).toLocaleString('en')} rows, ${mb(SYNCS * recordsBytes)} MB | ${(historyBytes / (SYNCS * recordsBytes)).toFixed(3)} of the bytes |`,
    );
    console.log(
      `| storage: records + versions + snapshots after all | ${(afterSyncs.record_rows! + afterSyncs.version_rows! + afterSyncs.snapshot_rows!).toLocaleString('en')} rows, ${mb(afterSyncs.records_bytes! + afterSyncs.versions_bytes! + afterSyncs.snapshots_bytes!)} MB | | |`,
    );
    console.log(
      `\nsyncs with 1% change: median ${ms(stats(syncMs).median)} ms, max ${ms(stats(syncMs).max)} ms`,
    );
  } finally {
    await db.close();
  }
}

await main();
