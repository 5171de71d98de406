// Record queries on PostgreSQL (docs/querying.md), each beside a baseline measured in the same run:
// - an equality filter and a range filter with a sort, on declared (indexed) fields, a page of 100, at
//   50 connections, against a bare Fastify handler running the same SQL over a pool of the same size;
// - PATCH throughput while an index builds, against PATCH throughput just before;
// - a first import with a 10-property JSON Schema, against the same import without one.
//
//   npm run bench:query                      (BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/test)
//   BENCH_RECORDS=1000000 BENCH_IMPORT=1000000 BENCH_DURATION=10 npm run bench:query
//   BENCH_PAGES_ONLY=1 BENCH_ROUNDS=3 …      (the pages only, each pair measured three times)
//   BENCH_SERVER_FLAGS='--cpu-prof'          (node flags for the server process)
//
// The servers run in a child process and autocannon in this one, as in bench/api.ts.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { openPostgres } from '../src/db/adapters/postgres.ts';
import { pageStatement, parseRecordQuery, servingIndexes } from '../src/features/records/record-query.ts';
import { startBenchServer } from './lib/bench-server.ts';

const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const IMPORT = Number(process.env.BENCH_IMPORT ?? 200_000);
const CONNECTIONS = 50;
/** BENCH_PAGES_ONLY=1: the filtered pages and their baselines only (no PATCH, no import). */
const PAGES_ONLY = process.env.BENCH_PAGES_ONLY === '1';
/** BENCH_ROUNDS: how many times each page case and its baseline are measured, alternating. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const POOL = 10;

const EQUALITY = { filter: '{"category":{"_eq":"c7"}}' };
const RANGE = { filter: '{"price":{"_gte":100,"_lt":400}}', sort: 'price' };

/** Ten properties, as a catalogue feed would have them. */
const SCHEMA = {
  type: 'object',
  required: ['id', 'name', 'price'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string', minLength: 1 },
    price: { type: 'number', minimum: 0 },
    category: { type: 'string' },
    stock: { type: 'integer' },
    active: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]+$' },
    weight: { type: 'number' },
    description: { type: 'string', maxLength: 1000 },
  },
};

interface Servers {
  app: string;
  baseline: string;
  key: string;
}

if (process.argv[2] === 'serve') {
  await serve();
} else {
  await run();
}

async function serve(): Promise<void> {
  const server = await startBenchServer(BASE_URL, 'sm_bench_query', POOL);
  const { db, app, appUrl, databaseUrl, key, tenantId } = server;
  const auth = { authorization: `Bearer ${key}` };
  await app.inject({ method: 'PUT', url: '/v1/collections/products', headers: auth, payload: {} });
  await db.query(
    `WITH c AS (SELECT id FROM collections WHERE tenant_id = $1 AND name = 'products'),
          ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
     INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
     SELECT $1, c.id, 'p' || i, d, 'true'::jsonb, ch.id FROM c, ch, generate_series(1, $2::int) i,
       LATERAL (SELECT jsonb_build_object('id', 'p' || i, 'name', 'Product number ' || i, 'price', i % 1000,
         'category', 'c' || (i % 500), 'description', repeat('lorem ipsum ', 8)) AS d) x`,
    [tenantId, RECORDS],
  );
  await db.query('ANALYZE records');
  // The declared indexes, built as the service builds them; wait until ready.
  await app.inject({
    method: 'PUT',
    url: '/v1/collections/products',
    headers: auth,
    payload: { indexes: ['category', 'price'] },
  });
  await untilIndexesReady(app, auth);
  await db.query('ANALYZE records');
  const [collection] = await db.query<{ id: string }>(
    `SELECT id FROM collections WHERE tenant_id = $1 AND name = 'products'`,
    [tenantId],
  );
  const target = { tenantId, collectionId: collection!.id, idField: 'id' };

  // The baseline: the statements the service runs for these pages (unprepared, as it runs them, with
  // the checks of its kept collection target), no auth, no tenant scope, through the service's own
  // driver setup: its jsonb parameters are JSON text, which a plain postgres.js pool would encode again
  // as a JSON string, and the page would then match nothing.
  const baselinePool = openPostgres(databaseUrl, { maxConnections: POOL });
  const baseline = Fastify({ logger: false });
  for (const [path, query] of [
    ['/equality', EQUALITY],
    ['/range', RANGE],
  ] as const) {
    const parsed = parseRecordQuery(query)!;
    const expect = { name: 'products', readyIndexOn: servingIndexes(parsed, new Set(['category', 'price'])) };
    const statement = pageStatement({ ...target, expect }, parsed, null, 101);
    baseline.get(path, async (_request, reply) => {
      const rows = await baselinePool.query<{ item: string }>(statement);
      const items = rows.slice(0, 100).map((row) => row.item);
      return reply.type('application/json').send(`{"items":[${items.join(',')}],"nextCursor":null}`);
    });
  }
  await baseline.listen({ host: '127.0.0.1', port: 0 });
  const baselineUrl = `http://127.0.0.1:${(baseline.server.address() as { port: number }).port}`;
  process.stdout.write(`${JSON.stringify({ app: appUrl, baseline: baselineUrl, key } satisfies Servers)}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await baseline.close();
    await baselinePool.close();
    await server.close();
    process.exit(0);
  });
}

async function untilIndexesReady(
  app: { inject: (o: object) => Promise<{ json: () => { indexStates: Array<{ state: string }> } }> },
  headers: Record<string, string>,
): Promise<void> {
  for (;;) {
    const response = await app.inject({ method: 'GET', url: '/v1/collections/products', headers });
    if (response.json().indexStates.every((s) => s.state !== 'building')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function run(): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      'serve',
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const servers = await new Promise<Servers>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.indexOf('\n');
      if (line !== -1) resolve(JSON.parse(buffer.slice(0, line)) as Servers);
    });
    child.on('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
  const loadBefore = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const auth = { authorization: `Bearer ${servers.key}` };
  const results: Array<{
    name: string;
    rps: number;
    p50: number;
    p99: number;
    errors: number;
    base?: string;
  }> = [];
  async function measure(name: string, options: autocannon.Options, base?: string) {
    const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
    const errors = result.non2xx + result.errors + result.timeouts;
    results.push({
      name,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors,
      base,
    });
    return result;
  }
  const records = `${servers.app}/v1/collections/products/records`;
  const search = (query: Record<string, string>) =>
    new URLSearchParams({ ...query, limit: '100' }).toString();

  // Both sides must answer the same full page, or the comparison measures nothing.
  for (const [name, query] of [
    ['equality', EQUALITY],
    ['range', RANGE],
  ] as const) {
    const pages = await Promise.all([
      fetch(`${servers.baseline}/${name}`).then((r) => r.json()),
      fetch(`${records}?${search(query)}`, { headers: auth }).then((r) => r.json()),
    ]);
    const [base, served] = pages.map((page) => JSON.stringify((page as { items: unknown[] }).items));
    if (base !== served || (pages[0] as { items: unknown[] }).items.length !== 100)
      throw new Error(`the ${name} page differs between the service and its baseline, or is not full`);
  }
  await autocannon({ url: `${servers.baseline}/equality`, connections: CONNECTIONS, duration: 2 });
  await autocannon({
    url: `${records}?${search(EQUALITY)}`,
    headers: auth,
    connections: CONNECTIONS,
    duration: 2,
  });
  // Each case right after its baseline, ROUNDS times over: on a shared machine the load moves, and the
  // ratio of two neighbouring measurements is what holds.
  for (let round = 1; round <= ROUNDS; round++) {
    const nth = ROUNDS > 1 ? ` (round ${round})` : '';
    const equalityBase = `baseline: equality filter, page of 100 (bare handler, same SQL)${nth}`;
    await measure(equalityBase, { url: `${servers.baseline}/equality` });
    await measure(
      `equality filter on an indexed field, page of 100${nth}`,
      { url: `${records}?${search(EQUALITY)}`, headers: auth },
      equalityBase,
    );
    const rangeBase = `baseline: range + sort, page of 100 (bare handler, same SQL)${nth}`;
    await measure(rangeBase, { url: `${servers.baseline}/range` });
    await measure(
      `range filter + sort on an indexed field, page of 100${nth}`,
      { url: `${records}?${search(RANGE)}`, headers: auth },
      rangeBase,
    );
  }

  if (PAGES_ONLY) {
    printPages(results, loadBefore);
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    return;
  }
  // PATCH before and while an index on a new field builds.
  let counter = 0;
  const patches = {
    url: `${records}/`,
    headers: { ...auth, 'content-type': 'application/merge-patch+json' },
    requests: [
      {
        method: 'PATCH' as const,
        setupRequest: (req: autocannon.Request) => ({
          ...req,
          path: `${req.path}p${1 + Math.floor(Math.random() * RECORDS)}`,
          body: JSON.stringify({ stock: ++counter }),
        }),
      },
    ],
  };
  await measure('PATCH, no index building', patches);
  const building = measure('PATCH while an index builds', patches, 'PATCH, no index building');
  const started = performance.now();
  await fetch(`${servers.app}/v1/collections/products`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ indexes: ['category', 'price', 'name'] }),
  });
  let buildMs = 0;
  for (;;) {
    const view = (await (
      await fetch(`${servers.app}/v1/collections/products`, { headers: auth })
    ).json()) as {
      indexStates: Array<{ field: string; state: string }>;
    };
    if (view.indexStates.every((s) => s.state !== 'building')) {
      buildMs = performance.now() - started;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await building;

  // First import with and without a schema: two fresh collections, the same feed.
  const feed = Buffer.from(
    Array.from({ length: IMPORT }, (_, i) =>
      JSON.stringify({
        id: `i${i}`,
        name: `Item ${i}`,
        price: i % 1000,
        category: `c${i % 50}`,
        stock: i % 17,
        active: i % 2 === 0,
        tags: ['a', 'b'],
        sku: `ABC-${i}`,
        weight: (i % 100) / 10,
        description: 'lorem ipsum dolor sit amet',
      }),
    ).join('\n'),
  );
  const imports: Array<{ name: string; ms: number; status: number }> = [];
  for (const [collection, settings] of [
    ['plain1', {}],
    ['schema1', { schema: SCHEMA }],
    ['plain2', {}],
    ['schema2', { schema: SCHEMA }],
  ] as const) {
    await fetch(`${servers.app}/v1/collections/${collection}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    });
    const t0 = performance.now();
    const response = await fetch(`${servers.app}/v1/collections/${collection}/syncs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      body: feed,
    });
    await response.text();
    imports.push({ name: collection, ms: performance.now() - t0, status: response.status });
  }
  child.stdin.end();

  printPages(results, loadBefore);
  console.log(
    `\nindex on "name" over ${RECORDS} records built in ${(buildMs / 1000).toFixed(1)} s (PATCH window ${DURATION} s)`,
  );
  console.log(`\nFirst import of ${IMPORT} records (NDJSON over HTTP):\n`);
  console.log('| collection | s | records/s | status |');
  console.log('|---|---:|---:|---:|');
  for (const i of imports)
    console.log(
      `| ${i.name} | ${(i.ms / 1000).toFixed(2)} | ${Math.round(IMPORT / (i.ms / 1000))} | ${i.status} |`,
    );
  const rate = (prefix: string) =>
    imports.filter((i) => i.name.startsWith(prefix)).reduce((sum, i) => sum + IMPORT / (i.ms / 1000), 0) / 2;
  console.log(`\nwith schema / without: ${(rate('schema') / rate('plain')).toFixed(2)}×`);
}

function printPages(
  results: Array<{ name: string; rps: number; p50: number; p99: number; errors: number; base?: string }>,
  loadBefore: string,
): void {
  console.log(
    `\nQueries on PostgreSQL, ${RECORDS} records, ${CONNECTIONS} connections, ${DURATION} s each, pool ${POOL}`,
  );
  console.log(
    `load average (1, 5, 15 min): before ${loadBefore}, after ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );
  console.log('| case | req/s | p50 ms | p99 ms | non-2xx/errors | vs baseline |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const base = r.base ? results.find((b) => b.name === r.base) : undefined;
    const ratio = base ? `${(r.rps / base.rps).toFixed(2)}×` : '';
    console.log(`| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${ratio} |`);
  }
  if (ROUNDS > 1) {
    console.log('\nmedian ratio over the rounds:');
    for (const page of ['equality filter on an indexed field', 'range filter + sort on an indexed field']) {
      const ratios = results
        .filter((r) => r.name.startsWith(page) && r.base)
        .map((r) => r.rps / results.find((b) => b.name === r.base)!.rps)
        .sort((a, b) => a - b);
      const median = ratios[Math.floor(ratios.length / 2)]!;
      console.log(`  ${page}: ${median.toFixed(2)}× (${ratios.map((x) => x.toFixed(2)).join(', ')})`);
    }
  }
}
