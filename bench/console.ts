/**
 * The console: node --import tsx bench/console.ts [--records N] (npm run bench:console).
 * BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/test) names the server; the bench works in
 * its own database, sm_bench_console, dropped and made again each run.
 *
 * - First load: the compressed size (gzip -9 and brotli, as the server sends them) of the JavaScript and
 *   CSS that /console/ loads (target: at most 250 KB).
 * - Time to interactive of each page on a collection of N records (default 1,000,000, loaded by the
 *   real sync engine), in Debian's chromium: from the start of the navigation (a full page load, cache
 *   warm) until the page's content is shown and its controls enabled (target: at most 1 s). Median of 5
 *   loads after one unmeasured load, and the slowest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import postgres from 'postgres';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openPostgres } from '../src/db/adapters/postgres.ts';
import { migrate } from '../src/db/migrate.ts';
import { ApiKeyService } from '../src/features/api-keys/api-keys.service.ts';
import { CollectionService } from '../src/features/collections/collections.service.ts';
import { SyncService } from '../src/features/syncs/syncs.service.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/console/browser.ts';

const argRecords = process.argv.indexOf('--records');
const RECORDS = argRecords > 0 ? Number(process.argv[argRecords + 1]) : 1_000_000;
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DB_NAME = 'sm_bench_console';
const root = join(import.meta.dirname, '..');
const dist = join(root, 'console', 'dist');

function record(i: number): string {
  return JSON.stringify({
    id: `p${String(i).padStart(8, '0')}`,
    name: `Product ${i} lorem ipsum dolor`,
    price: Math.round(i * 7.31) / 100,
    tags: ['alpha', i % 2 === 0 ? 'even' : 'odd', `t${i % 97}`],
    attrs: { color: ['red', 'green', 'blue'][i % 3], size: 'M', weight: (i % 50) / 4 },
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
      yield Buffer.from(`${part.join('\n')}\n`);
      part = [];
      size = 0;
    }
  }
  if (part.length > 0) yield Buffer.from(`${part.join('\n')}\n`);
}

function firstLoadSize(): { file: string; raw: number; gzip: number; brotli: number }[] {
  if (!existsSync(join(dist, 'index.html'))) {
    const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (built.status !== 0) throw new Error('the console build failed');
  }
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const assets = [...html.matchAll(/(?:src|href)="\/console\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  return assets.map((file) => ({
    file,
    raw: statSync(join(dist, file)).size,
    gzip: statSync(join(dist, `${file}.gz`)).size,
    brotli: statSync(join(dist, `${file}.br`)).size,
  }));
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main() {
  const sizes = firstLoadSize();
  const total = sizes.reduce(
    (sum, s) => ({ raw: sum.raw + s.raw, gzip: sum.gzip + s.gzip, brotli: sum.brotli + s.brotli }),
    { raw: 0, gzip: 0, brotli: 0 },
  );
  console.log('\nFirst load of /console/ (JavaScript and CSS; target ≤ 250 KB compressed)\n');
  console.log('| file | raw KB | gzip KB | brotli KB |');
  console.log('|---|---:|---:|---:|');
  for (const s of [...sizes, { file: 'total', ...total }]) {
    console.log(
      `| ${s.file} | ${(s.raw / 1024).toFixed(1)} | ${(s.gzip / 1024).toFixed(1)} | ${(s.brotli / 1024).toFixed(1)} |`,
    );
  }

  if (!existsSync(CHROMIUM)) {
    console.log(`\n${CHROMIUM} is missing (apt-get install -y chromium): no time to interactive measured`);
    return;
  }

  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();
  const url = new URL(BASE_URL);
  url.pathname = `/${DB_NAME}`;
  const db = openPostgres(url.toString());
  const profile = mkdtempSync(join(tmpdir(), 'bench-console-'));
  try {
    await migrate(db);
    const [tenant] = await db.query<{ id: string }>(
      `INSERT INTO tenants (slug, name) VALUES ('bench', 'bench') RETURNING id`,
    );
    const tenantId = tenant!.id;
    await db.query(`INSERT INTO collections (tenant_id, name) VALUES ($1, 'products')`, [tenantId]);
    const syncs = new SyncService(db, new CollectionService(db), { snapshotRetentionDays: 30 });
    const t0 = performance.now();
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
    const loadSeconds = (performance.now() - t0) / 1000;
    const { key } = await new ApiKeyService(db).create(tenantId, {
      name: 'bench',
      scopes: ['read', 'write', 'admin'],
    });
    // Some overrides and one open conflict, so the record and conflict pages have something to show.
    const app = await buildApp({ config: { ...loadConfig({}), port: 0 }, db, logRequests: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const target = 'p00000042';
    await fetch(`${base}/v1/collections/products/records/${target}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Fixed by hand' }),
    });
    await fetch(`${base}/v1/collections/products/syncs?mode=partial`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ ...JSON.parse(record(42)), name: 'Changed upstream' }]),
    });

    // An index on price, for the records page filtered and sorted by a field (built in the background).
    const indexed = await fetch(`${base}/v1/collections/products`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ indexes: ['price'] }),
    });
    if (!indexed.ok) throw new Error(`declaring the index: ${indexed.status} ${await indexed.text()}`);
    const t1 = performance.now();
    for (;;) {
      const settings = await fetch(`${base}/v1/collections/products`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const states = ((await settings.json()) as { indexStates: { state: string; error: string | null }[] })
        .indexStates;
      if (states.every((s) => s.state === 'ready')) break;
      const failed = states.find((s) => s.state === 'failed');
      if (failed) throw new Error(`the index failed: ${failed.error}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const indexSeconds = (performance.now() - t1) / 1000;
    // A price in the middle: the filtered page starts at that record (prices grow with the id).
    const middle = Math.floor(RECORDS / 2);
    const middlePrice = Math.round(middle * 7.31) / 100;
    const middleId = `p${String(middle).padStart(8, '0')}`;
    const priceQuery = `where=price:_gte:${middlePrice}&sort=price`;

    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Collections' }).waitFor();

    const pages: [string, string, (p: Page) => Promise<void>][] = [
      ['collections', '/console/', (p) => p.getByRole('link', { name: 'products' }).waitFor()],
      [
        'records (first page)',
        '/console/c/products',
        async (p) => {
          await p.getByRole('link', { name: 'p00000000' }).waitFor();
          await p.locator('button:has-text("Next"):not([disabled])').waitFor();
        },
      ],
      [
        'records, state filter (manual changes)',
        '/console/c/products?state=overridden',
        (p) => p.getByRole('link', { name: target }).waitFor(),
      ],
      [
        'records, indexed field ≥, sorted',
        `/console/c/products?${priceQuery}`,
        async (p) => {
          await p.getByRole('link', { name: middleId }).waitFor();
          await p.locator('button:has-text("Next"):not([disabled])').waitFor();
        },
      ],
      [
        'record',
        `/console/c/products/records/${target}`,
        (p) => p.getByRole('button', { name: 'Edit /name' }).waitFor(),
      ],
      [
        'history',
        `/console/c/products/records/${target}`,
        (p) => p.getByRole('region', { name: 'History' }).getByText('Version 1 ').waitFor(),
      ],
      [
        'record blame',
        `/console/c/products/records/${target}`,
        (p) =>
          p
            .getByRole('region', { name: 'Blame' })
            .getByRole('row', { name: /^\/name / })
            .waitFor(),
      ],
      [
        'named sources',
        '/console/c/products/sources',
        (p) => p.getByRole('button', { name: 'Edit source default' }).waitFor(),
      ],
      [
        'conflicts',
        '/console/c/products/conflicts',
        (p) => p.getByRole('button', { name: /^Keep manual value/ }).waitFor(),
      ],
      [
        'syncs',
        '/console/c/products/syncs',
        (p) =>
          p
            .getByRole('cell', { name: /succeeded/ })
            .first()
            .waitFor(),
      ],
      [
        'snapshots',
        '/console/snapshots',
        (p) => p.getByRole('link', { name: 'Compare and restore' }).first().waitFor(),
      ],
    ];
    // The API calls behind the pages alone, to tell the server's share from the page's.
    const apiRows: string[] = [];
    for (const path of [
      '/v1/collections?limit=50',
      '/v1/collections/products',
      '/v1/collections/products/records?limit=50',
      `/v1/collections/products/records/${target}?meta=true`,
      `/v1/collections/products/records/${target}/blame`,
      '/v1/collections/products/records?limit=50&overridden=true',
      `/v1/collections/products/records?limit=50&sort=price&filter=${encodeURIComponent(JSON.stringify({ price: { _gte: middlePrice } }))}`,
    ]) {
      const samples: number[] = [];
      for (let i = 0; i < 6; i++) {
        const start = performance.now();
        const response = await fetch(base + path, { headers: { authorization: `Bearer ${key}` } });
        await response.arrayBuffer();
        if (i > 0) samples.push(performance.now() - start);
      }
      apiRows.push(`| GET ${path} | ${median(samples).toFixed(0)} | ${Math.max(...samples).toFixed(0)} |`);
    }
    const rows: string[] = [];
    for (const [name, path, ready] of pages) {
      const samples: number[] = [];
      for (let i = 0; i < 6; i++) {
        const start = performance.now();
        await page.goto(base + path);
        await ready(page);
        if (i > 0) samples.push(performance.now() - start);
      }
      rows.push(`| ${name} | ${median(samples).toFixed(0)} | ${Math.max(...samples).toFixed(0)} |`);
    }
    // Paging: the click on Next until the next page's first row is shown.
    await page.goto(`${base}/console/c/products`);
    await page.getByRole('link', { name: 'p00000000' }).waitFor();
    const nextSamples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const first = `p${String((i + 1) * 50).padStart(8, '0')}`;
      const start = performance.now();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('link', { name: first }).waitFor();
      nextSamples.push(performance.now() - start);
    }
    rows.push(
      `| records: Next page (click) | ${median(nextSamples).toFixed(0)} | ${Math.max(...nextSamples).toFixed(0)} |`,
    );

    console.log(
      `\nTime to interactive on PostgreSQL, a collection of ${RECORDS.toLocaleString()} records ` +
        `(loaded in ${loadSeconds.toFixed(1)} s, the price index built in ${indexSeconds.toFixed(1)} s); ` +
        'target ≤ 1000 ms\n',
    );
    console.log('| page | median ms | slowest ms |');
    console.log('|---|---:|---:|');
    for (const row of rows) console.log(row);
    console.log('\nThe API calls behind them, alone (no browser)\n');
    console.log('| call | median ms | slowest ms |');
    console.log('|---|---:|---:|');
    for (const row of apiRows) console.log(row);
    await context.close();
    await app.close();
  } finally {
    await db.close();
    rmSync(profile, { recursive: true, force: true });
    const cleanup = postgres(BASE_URL, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await cleanup.end();
  }
}

await main();
