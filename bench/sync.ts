// Sync throughput on PostgreSQL and PGlite, with the baselines PRODUCT.md §7 asks for, measured in the
// same run. Usage: node --import tsx bench/sync.ts [--records 1000000] [--pglite-records 100000]
//   [--big 10000000] (peak RSS of one NDJSON first import of that size: `sync-manager sync` in a process of
//   its own)
//   [--rss 1000000] (the same for a first import, then a 1% re-sync, each a `sync-manager sync` process:
//   the RSS column of the main table is the whole bench process's peak, feeds and baselines included)
//   [--url postgres://root@127.0.0.1:5432/test] [--skip-pglite] [--skip-postgres]
//   [--dir folder] (feeds and PGlite go there, and stay; a temporary folder, removed at the end, if not given)
//   [--ids sequential|uuid] (ids p0, p1, … as by default, or random-looking UUIDs)
//   [--skip-sources] (leave out the cases of several sources and of the small partial feed)
import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { openPglite } from '../src/db/adapters/pglite.ts';
import { openPostgres } from '../src/db/adapters/postgres.ts';
import { copyRow } from '../src/db/copy/copy-text.ts';
import type { Database } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { CollectionService } from '../src/features/collections/collections.service.ts';
import { NamedSourceService } from '../src/features/sources/named-sources.service.ts';
import { SyncService } from '../src/features/syncs/syncs.service.ts';
import { limitHeapGrowth } from '../src/lib/heap.ts';
import { type FeedFormat, readFeedFromFile } from '../src/sync/feed/index.ts';
import { peakRssMb } from './vmhwm.mjs';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'pglite-records': { type: 'string' },
    big: { type: 'string' },
    url: { type: 'string', default: 'postgres://root@127.0.0.1:5432/test' },
    'skip-pglite': { type: 'boolean', default: false },
    'skip-postgres': { type: 'boolean', default: false },
    dir: { type: 'string' },
    rss: { type: 'string' },
    ids: { type: 'string', default: 'sequential' },
    'skip-sources': { type: 'boolean', default: false },
  },
});
if (args.ids !== 'sequential' && args.ids !== 'uuid') throw new Error('--ids takes sequential or uuid');
const UUID_IDS = args.ids === 'uuid';
/** In the feeds' file names, so a kept --dir holds both kinds apart. */
const ID_TAG = UUID_IDS ? '-uuid' : '';
const N = Number(args.records);
const PGLITE_N = Number(args['pglite-records'] ?? Math.max(1000, Math.round(N / 10)));
// The in-process runs (baselines included) collect garbage as the sync-manager executable does.
limitHeapGrowth();
const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'sm-bench-'));

/**
 * Record i's id: `p<i>` (the feed in id order, near enough: byte order puts p10 before p2), or with
 * `--ids uuid` a UUID-shaped hash of i, so new ids land all over the primary key as random keys do.
 */
function recordId(i: number): string {
  if (!UUID_IDS) return `p${i}`;
  const h = hash('md5', String(i), 'hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Record i of feed version v: ~200 bytes (~230 with UUID ids). Churn: 1% changed, 0.5% new, 0.5% gone. */
function record(i: number, changed: boolean): string {
  return JSON.stringify({
    id: recordId(i),
    name: `Product number ${i}`,
    price: changed ? (i % 1000) + 0.5 : i % 1000,
    stock: (i * 7) % 100,
    tags: ['alpha', 'beta'],
    description: 'A fairly ordinary product description of some length for the bench.',
  });
}

async function writeFeed(path: string, n: number, format: FeedFormat, churn: boolean): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    out.write(s) ? undefined : new Promise<void>((resolve) => out.once('drain', () => resolve()));
  let parts: string[] = [];
  const flush = async () => {
    await write(parts.join(''));
    parts = [];
  };
  if (format === 'json') parts.push('[');
  let first = true;
  const total = churn ? n + Math.round(n * 0.005) : n;
  for (let i = 0; i < total; i++) {
    if (churn && i % 200 === 7) continue; // 0.5% gone
    const changed = churn && i % 100 === 3; // 1% changed
    const text = record(i, changed);
    if (format === 'json') parts.push(first ? text : `,\n${text}`);
    else parts.push(`${text}\n`);
    first = false;
    if (parts.length >= 2000) await flush();
  }
  if (format === 'json') parts.push(']\n');
  await flush();
  await new Promise<void>((resolve) => out.end(resolve));
}

type Row = { what: string; backend: string; records: number; seconds: number; rate: number; rssMb: number };
const results: Row[] = [];
/**
 * Each measurement starts from a checkpointed database: the one before it (a 1M-row COPY, say) leaves
 * hundreds of MB of dirty buffers and WAL behind, and without this the next one pays for their writeback
 * (a first import ran 122k/s right after the baselines; into a fresh, checkpointed database 156-178k/s).
 * CHECKPOINT needs a superuser or pg_checkpoint; without either the bench goes on unsettled and says so.
 */
let settleRefused = false;
async function settle(db: Database): Promise<void> {
  if (settleRefused) return;
  try {
    await db.query('CHECKPOINT');
  } catch (error) {
    settleRefused = true;
    console.error(
      `no CHECKPOINT between measurements (${(error as Error).message}): figures may carry writeback`,
    );
  }
}

async function time(
  what: string,
  backend: string,
  records: number,
  fn: () => Promise<unknown>,
  db: Database,
): Promise<Row> {
  global.gc?.();
  await settle(db);
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const row = { what, backend, records, seconds, rate: Math.round(records / seconds), rssMb: peakRssMb() };
  results.push(row);
  printRow(row);
  return row;
}

/** One finished measurement as a line on stderr, as it comes (the table follows at the end). */
function printRow(row: Row): void {
  console.error(
    `${row.backend.padEnd(8)} ${row.what.padEnd(34)} ${row.rate.toLocaleString('en').padStart(10)} rec/s  ${row.seconds.toFixed(2)} s  rss ${row.rssMb} MB`,
  );
}

async function setup(db: Database): Promise<{ tenantId: string; syncs: SyncService }> {
  await migrate(db);
  const [tenant] = await db.query<{ id: string }>(
    `INSERT INTO tenants (slug, name) VALUES ('bench', 'bench') RETURNING id`,
  );
  const collections = new CollectionService(db);
  for (const name of ['nd', 'js', 'floor', 'three'])
    await collections.put(tenant!.id, name, { maxDeleteRatio: 1 });
  const sources = new NamedSourceService(db, collections, { allowPrivate: false });
  for (const [name, fields] of Object.entries(THIRDS)) {
    await sources.put(tenant!.id, 'three', name, { fields, priority: 0, ignoreEmpty: false, schedule: null });
  }
  return { tenantId: tenant!.id, syncs: new SyncService(db, collections, { snapshotRetentionDays: 30 }) };
}

/** Three sources of the collection `three`, each owning a third of a bench record's fields. */
const THIRDS: Record<string, string[]> = {
  erp: ['/name', '/price'],
  supplier: ['/stock', '/tags'],
  scraper: ['/description'],
};

/** Source `name`'s feed: each record with the fields that source owns. */
async function writeSourceFeed(path: string, n: number, name: string): Promise<void> {
  const keys = THIRDS[name]!.map((pointer) => pointer.slice(1));
  const out = createWriteStream(path);
  let parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const whole = JSON.parse(record(i, false)) as Record<string, unknown>;
    const part: Record<string, unknown> = { id: whole.id };
    for (const key of keys) part[key] = whole[key];
    parts.push(`${JSON.stringify(part)}\n`);
    if (parts.length === 10_000) {
      if (!out.write(parts.join('')))
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      parts = [];
    }
  }
  out.write(parts.join(''));
  await new Promise<void>((resolve) => out.end(resolve));
}

async function runSync(
  ctx: { tenantId: string; syncs: SyncService },
  collection: string,
  file: string,
  format: FeedFormat,
  options: { source?: string; mode?: 'full' | 'partial'; feedBytes?: number } = {},
) {
  const outcome = await ctx.syncs.run({
    tenantId: ctx.tenantId,
    collection,
    ...(options.source ? { source: options.source } : {}),
    ...(options.feedBytes !== undefined ? { feedBytes: options.feedBytes } : {}),
    mode: options.mode ?? 'full',
    dryRun: false,
    force: false,
    format,
    feed: createReadStream(file, { highWaterMark: 1 << 20 }),
    origin: { kind: 'cli' },
  });
  if (outcome.run.status !== 'succeeded') throw new Error(JSON.stringify(outcome.run));
  if (process.env.BENCH_VERBOSE)
    console.error(JSON.stringify(outcome.run.timings), JSON.stringify(outcome.run.counts));
  return outcome.run;
}

async function bench(backend: string, db: Database, n: number): Promise<void> {
  const nd = join(dir, `v1-${n}${ID_TAG}.ndjson`);
  const js = join(dir, `v1-${n}${ID_TAG}.json`);
  const churn = join(dir, `v2-${n}${ID_TAG}.ndjson`);
  await writeFeed(nd, n, 'ndjson', false);
  await writeFeed(js, n, 'json', false);
  await writeFeed(churn, n, 'ndjson', true);
  const ctx = await setup(db);
  /** One measurement of this backend, from a checkpointed database (see settle). */
  const measure = (what: string, records: number, fn: () => Promise<unknown>) =>
    time(what, backend, records, fn, db);

  await measure('ceiling: read+parse+hash (NDJSON)', n, async () => {
    const feed = readFeedFromFile(nd, { idField: 'id' });
    for (let step = await feed.next(); !step.done; step = await feed.next());
  });
  await measure('raw COPY into (id text, data jsonb)', n, async () => {
    await db.transaction(async (tx) => {
      await tx.query('CREATE TEMP TABLE raw_copy (id text, data jsonb) ON COMMIT DROP');
      const feed = readFeedFromFile(nd, { idField: 'id' });
      async function* chunks() {
        let parts: string[] = [];
        let size = 0;
        for (let step = await feed.next(); !step.done; step = await feed.next()) {
          for (const r of step.value.records) {
            const line = copyRow([r.id, r.text]);
            parts.push(line);
            size += line.length;
            if (size > 192 * 1024) {
              yield parts.join('');
              parts = [];
              size = 0;
            }
          }
        }
        if (parts.length) yield parts.join('');
      }
      await tx.copyFrom('COPY raw_copy (id, data)', chunks());
    });
  });
  const sample = Math.min(20000, n);
  await measure(`row-by-row upsert (${sample} sample)`, sample, async () => {
    await db.query('CREATE TABLE IF NOT EXISTS floor_rows (id text PRIMARY KEY, hash text, data jsonb)');
    const feed = readFeedFromFile(nd, { idField: 'id' });
    let done = 0;
    for (let step = await feed.next(); !step.done && done < sample; step = await feed.next()) {
      for (const r of step.value.records) {
        if (done++ >= sample) break;
        await db.query(
          'INSERT INTO floor_rows (id, hash, data) VALUES ($1, $2, $3::jsonb) ON CONFLICT (id) DO UPDATE SET hash = EXCLUDED.hash, data = EXCLUDED.data',
          [r.id, r.hash, r.text],
        );
      }
    }
  });
  await measure('sync: first import (NDJSON)', n, () => runSync(ctx, 'nd', nd, 'ndjson'));
  await measure('sync: first import (JSON array)', n, () => runSync(ctx, 'js', js, 'json'));
  await measure('sync: unchanged re-sync (NDJSON)', n, () => runSync(ctx, 'nd', nd, 'ndjson'));
  await measure('sync: unchanged re-sync (JSON array)', n, () => runSync(ctx, 'js', js, 'json'));
  await measure('sync: 1% changed, 0.5% new, 0.5% gone', n, () => runSync(ctx, 'nd', churn, 'ndjson'));
  if (!args['skip-sources']) await benchSources(backend, db, n, ctx, measure);
}

/**
 * Several sources (PRODUCT.md §13): three feeds of n records, each source owning a third of the
 * fields: a first import and an unchanged re-sync of each. Then a partial feed of 1,000 records into
 * the n-record collection `nd`, its server time (the run's totalMs), with the feed's size known (as a
 * spooled request body is) and, for comparison, without (the stored index is read).
 */
async function benchSources(
  backend: string,
  db: Database,
  n: number,
  ctx: { tenantId: string; syncs: SyncService },
  measure: (what: string, records: number, fn: () => Promise<unknown>) => Promise<Row>,
): Promise<void> {
  const feeds: Record<string, string> = {};
  for (const name of Object.keys(THIRDS)) {
    feeds[name] = join(dir, `source-${name}-${n}${ID_TAG}.ndjson`);
    await writeSourceFeed(feeds[name]!, n, name);
  }
  for (const name of Object.keys(THIRDS)) {
    await measure(`sources: first import, ${name} (1/3)`, n, () =>
      runSync(ctx, 'three', feeds[name]!, 'ndjson', { source: name }),
    );
  }
  for (const name of Object.keys(THIRDS)) {
    await measure(`sources: unchanged re-sync, ${name}`, n, () =>
      runSync(ctx, 'three', feeds[name]!, 'ndjson', { source: name }),
    );
  }
  // Spread over the collection: 980 changed, 20 new; the second feed changes them back.
  const step = Math.max(1, Math.floor(n / 1000));
  const smallFeed = async (name: string, changed: boolean, offset: number) => {
    const path = join(dir, `small-${name}${ID_TAG}.ndjson`);
    const out = createWriteStream(path);
    for (let k = 0; k < 1000; k++) out.write(`${record(k < 980 ? k * step : n + offset + k, changed)}\n`);
    await new Promise<void>((resolve) => out.end(resolve));
    return path;
  };
  const first = await smallFeed('a', true, 0);
  const second = await smallFeed('b', false, 1000);
  for (const [what, small, feedBytes] of [
    ['partial: 1,000 into the collection', first, statSync(first).size],
    ['partial: 1,000, stored index read', second, undefined],
  ] as const) {
    global.gc?.();
    await settle(db);
    const run = await runSync(ctx, 'nd', small, 'ndjson', { mode: 'partial', feedBytes });
    const seconds = run.timings.totalMs! / 1000;
    const row = {
      what: `${what} (server ms)`,
      backend,
      records: 1000,
      seconds,
      rate: Math.round(1000 / seconds),
      rssMb: peakRssMb(),
    };
    results.push(row);
    printRow(row);
  }
}

/**
 * Peak RSS of the product itself: `sync-manager sync` (bin/sync-manager.js, the compiled build) run as
 * its own process on PostgreSQL, an NDJSON first import of n records into a fresh database, then (with
 * `withResync`) a 1% re-sync of the same size in a second process, as a user would run them. The feeds
 * are written first, so their generation does not count; the time is the whole process's, start-up
 * included.
 */
async function measureRss(n: number, withResync: boolean): Promise<void> {
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the build failed');
  await writeFeed(join(dir, `big-${n}${ID_TAG}.ndjson`), n, 'ndjson', false);
  if (withResync) await writeFeed(join(dir, `big-${n}${ID_TAG}-churn.ndjson`), n, 'ndjson', true);
  const url = await freshPostgres('sm_bench_big');
  const db = openPostgres(url);
  try {
    await setup(db);
  } finally {
    await db.close();
  }
  const runs = [['sync: first import (NDJSON, CLI process)', `big-${n}${ID_TAG}.ndjson`]];
  if (withResync) runs.push(['sync: 1% re-sync (NDJSON, CLI process)', `big-${n}${ID_TAG}-churn.ndjson`]);
  for (const [what, file] of runs) {
    const settling = openPostgres(url);
    try {
      await settle(settling);
    } finally {
      await settling.close();
    }
    results.push(syncInOwnProcess(what!, join(dir, file!), n, url));
  }
}

/** Runs `sync-manager sync` on one feed in a process of its own; its row, with that process's peak RSS. */
function syncInOwnProcess(what: string, file: string, n: number, url: string): Row {
  const t0 = performance.now();
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      './bench/peak-rss.mjs',
      'bin/sync-manager.js',
      'sync',
      'nd',
      file,
      '--tenant',
      'bench',
      '--json',
    ],
    { encoding: 'utf8', env: { ...process.env, DATABASE_URL: url }, maxBuffer: 1 << 26 },
  );
  const seconds = (performance.now() - t0) / 1000;
  const peak = /^peak-rss (.*)$/m.exec(child.stderr);
  if (child.status !== 0 || !peak) throw new Error(`sync-manager sync failed: ${child.stderr}`);
  const report = JSON.parse(peak[1]!) as { peakMb: number; atHighestSample?: unknown };
  const run = JSON.parse(child.stdout) as { status: string; timings: unknown; counts: unknown };
  if (run.status !== 'succeeded') throw new Error(child.stdout);
  if (process.env.BENCH_VERBOSE) console.error(JSON.stringify(run.timings), JSON.stringify(run.counts));
  const row = {
    what,
    backend: 'postgres',
    records: n,
    seconds,
    rate: Math.round(n / seconds),
    rssMb: report.peakMb,
  };
  printRow(row);
  if (report.atHighestSample)
    console.error('memory at the highest sampled RSS:', JSON.stringify(report.atHighestSample));
  return row;
}

async function freshPostgres(name: string): Promise<string> {
  const admin = postgres(args.url!, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  return databaseUrl(name);
}

/** The bench's PostgreSQL URL with another database. */
function databaseUrl(name: string): string {
  const url = new URL(args.url!);
  url.pathname = `/${name}`;
  return url.toString();
}

function table(): void {
  const out: string[] = [];
  out.push(
    '| backend | what | records | s | records/s | vs ceiling | vs raw COPY | vs row-by-row | peak RSS MB |',
  );
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of results) {
    const base = (prefix: string) =>
      results.find((r) => r.backend === row.backend && r.what.startsWith(prefix))?.rate;
    const ratio = (b: number | undefined) => (b ? `${(row.rate / b).toFixed(2)}×` : '-');
    out.push(
      `| ${row.backend} | ${row.what} | ${row.records.toLocaleString('en')} | ${row.seconds.toFixed(2)} | ${row.rate.toLocaleString('en')} | ${ratio(base('ceiling'))} | ${ratio(base('raw COPY'))} | ${ratio(base('row-by-row'))} | ${row.rssMb} |`,
    );
  }
  const pg = results.filter((r) => r.backend === 'postgres' && r.what.startsWith('sync'));
  const lite = results.filter((r) => r.backend === 'pglite' && r.what.startsWith('sync'));
  if (pg.length && lite.length) {
    out.push('');
    out.push('PGlite / PostgreSQL time per record (≤ 2.5× is the target):');
    for (const row of lite) {
      const match = pg.find((r) => r.what === row.what);
      if (match) out.push(`- ${row.what}: ${(match.rate / row.rate).toFixed(2)}×`);
    }
  }
  console.log(out.join('\n'));
}

try {
  if (!args['skip-postgres']) {
    const db = openPostgres(await freshPostgres('sm_bench'));
    try {
      await bench('postgres', db, N);
    } finally {
      await db.close();
    }
  }
  if (!args['skip-pglite']) {
    // Fresh each run, as the PostgreSQL database is: a kept --dir still holds the last run's.
    rmSync(join(dir, 'pglite'), { recursive: true, force: true });
    const db = await openPglite(join(dir, 'pglite'));
    try {
      await bench('pglite', db, PGLITE_N);
    } finally {
      await db.close();
    }
  }
  if (args.rss) await measureRss(Number(args.rss), true);
  if (args.big) await measureRss(Number(args.big), false);
  table();
} finally {
  // A folder named by --dir is kept, so that a sync can be run again on the same feeds and database
  // (the bench itself starts both databases afresh).
  if (!args.dir) rmSync(dir, { recursive: true, force: true });
}
