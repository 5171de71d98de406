// API throughput against the real server on PostgreSQL, beside a baseline measured in the same run:
// a bare Fastify handler doing the same SELECT over a pool of the same size.
//
//   npm run bench:api                      (BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/test)
//   BENCH_DURATION=10 BENCH_RECORDS=10000 npm run bench:api
//   BENCH_ONLY=PATCH npm run bench:api     (only the cases whose name contains it: "GET one" takes its baseline too)
//   BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:api   (node flags for the servers' process)
//
// The servers run in a child process and autocannon (50 connections) in this one, so the load generator
// does not share the servers' event loop.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import postgres from 'postgres';
import { startBenchServer } from './lib/bench-server.ts';

const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
/** Enough records for every PATCH of the first-edit case to edit one of its own. */
const UNTOUCHED = Number(process.env.BENCH_UNTOUCHED ?? 100_000);
const ONLY = process.env.BENCH_ONLY;
const CONNECTIONS = 50;
const POOL = 10;

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
  const server = await startBenchServer(BASE_URL, 'sm_bench_api', POOL);
  const { db, app, appUrl, databaseUrl, key, tenantId } = server;
  // Records as a sync leaves them: a source value (about 200 bytes), no overrides. `products` for the
  // reads and the random PATCHes; `untouched` for PATCHes that each edit a record for the first time.
  for (const [collection, count] of [
    ['products', RECORDS],
    ['untouched', UNTOUCHED],
  ] as const) {
    await app.inject({
      method: 'PUT',
      url: `/v1/collections/${collection}`,
      headers: { authorization: `Bearer ${key}` },
      payload: {},
    });
    await db.query(
      `WITH c AS (SELECT id FROM collections WHERE tenant_id = $1 AND name = $3),
            ch AS (INSERT INTO changes (tenant_id, id, kind) VALUES ($1, nextval('change_seq'), 'sync') RETURNING id)
       INSERT INTO records (tenant_id, collection_id, record_id, source, data, change_id)
       SELECT $1, c.id, 'p' || i, d, d, ch.id FROM c, ch, generate_series(1, $2::int) i,
         LATERAL (SELECT jsonb_build_object('id', 'p' || i, 'name', 'Product number ' || i, 'price', i % 1000,
           'description', repeat('lorem ipsum ', 8), 'tags', jsonb_build_array('a', 'b')) AS d) x`,
      [tenantId, count, collection],
    );
  }
  await db.query('ANALYZE records');
  const collectionId = (
    await db.query<{ id: string }>(`SELECT id FROM collections WHERE tenant_id = $1 AND name = 'products'`, [
      tenantId,
    ])
  )[0]!.id;

  // The baseline: the same SELECTs, no auth, no tenant transaction, a pool of the same size.
  const baselinePool = postgres(databaseUrl, { max: POOL, prepare: true, onnotice: () => {} });
  const baseline = Fastify({ logger: false });
  baseline.get('/one/:id', async (request, reply) => {
    const rows = await baselinePool.unsafe(
      'SELECT version, effective_value(data, source)::text AS data_text FROM records WHERE tenant_id = $1 AND collection_id = $2 AND record_id = $3',
      [tenantId, collectionId, (request.params as { id: string }).id],
      { prepare: true },
    );
    return reply.type('application/json').header('etag', `"${rows[0]!.version}"`).send(rows[0]!.data_text);
  });
  baseline.get('/page', async (_request, reply) => {
    const rows = await baselinePool.unsafe(
      `SELECT record_id, effective_value(data, source)::text AS data_text FROM records WHERE tenant_id = $1 AND collection_id = $2
        AND data IS NOT NULL ORDER BY record_id LIMIT 101`,
      [tenantId, collectionId],
      { prepare: true },
    );
    const items = rows.slice(0, 100).map((row) => row.data_text as string);
    return reply.type('application/json').send(`{"items":[${items.join(',')}],"nextCursor":null}`);
  });
  await baseline.listen({ host: '127.0.0.1', port: 0 });
  const baselineUrl = `http://127.0.0.1:${(baseline.server.address() as { port: number }).port}`;

  const servers: Servers = { app: appUrl, baseline: baselineUrl, key };
  process.stdout.write(`${JSON.stringify(servers)}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await baseline.close();
    await baselinePool.end();
    await server.close();
    process.exit(0);
  });
}

async function run(): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? []),
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
  const randomId = () => `p${1 + Math.floor(Math.random() * RECORDS)}`;
  let counter = 0;

  const results: Array<{
    name: string;
    rps: number;
    p50: number;
    p99: number;
    errors: number;
    base?: string;
  }> = [];
  /** Runs one case (unless BENCH_ONLY leaves it out) and returns how many requests answered 2xx. */
  async function measure(name: string, options: autocannon.Options, base?: string): Promise<number> {
    if (ONLY !== undefined && !name.includes(ONLY)) return 0;
    const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
    const bad = result.non2xx + result.errors + result.timeouts;
    results.push({
      name,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: bad,
      base,
    });
    return (result as unknown as { '2xx': number })['2xx']; // at run time, not in the types
  }

  const getOne = (url: string, headers: Record<string, string>) => ({
    url,
    headers,
    requests: [
      {
        method: 'GET' as const,
        setupRequest: (req: autocannon.Request) => ({ ...req, path: req.path + randomId() }),
      },
    ],
  });
  // Warm-up of both, then each measured once.
  await autocannon({ ...getOne(`${servers.baseline}/one/`, {}), connections: CONNECTIONS, duration: 2 });
  await autocannon({
    ...getOne(`${servers.app}/v1/collections/products/records/`, auth),
    connections: CONNECTIONS,
    duration: 2,
  });
  await measure('baseline: GET one (bare SELECT)', getOne(`${servers.baseline}/one/`, {}));
  await measure(
    'GET one record',
    getOne(`${servers.app}/v1/collections/products/records/`, auth),
    'baseline: GET one (bare SELECT)',
  );
  await measure('baseline: page of 100 (bare SELECT)', { url: `${servers.baseline}/page` });
  await measure(
    'GET a page of 100 records',
    { url: `${servers.app}/v1/collections/products/records?limit=100`, headers: auth },
    'baseline: page of 100 (bare SELECT)',
  );
  /** Merge patches of a new price, each request to `url` + the id `idOf()` gives (none: `url` itself). */
  const patchPrice = (url: string, idOf: () => string = () => '') => ({
    url,
    headers: { ...auth, 'content-type': 'application/merge-patch+json' },
    requests: [
      {
        method: 'PATCH' as const,
        setupRequest: (req: autocannon.Request) => ({
          ...req,
          path: req.path + idOf(),
          body: JSON.stringify({ price: ++counter }),
        }),
      },
    ],
  });
  const records = (collection: string) => `${servers.app}/v1/collections/${collection}/records/`;
  await measure(
    'PATCH one record (random of 10k, edited again and again)',
    patchPrice(records('products'), randomId),
  );
  // Each PATCH here is the first edit of its record: a record the server never read or wrote before.
  let untouched = 0;
  await measure(
    'PATCH one record (each record edited once: read, then write)',
    patchPrice(records('untouched'), () => `p${++untouched}`),
  );
  // Each PATCH sets a new price, so each one answered 2xx must have made a version: the record's
  // version before and after says none was lost (edits of one record are written in series, src/db/functions.sql).
  // Up to one a connection more: those still in flight when autocannon stops are written, not counted.
  const hot = `${records('products')}p1`;
  const versionOf = async () =>
    Number((await fetch(hot, { headers: auth })).headers.get('etag')?.replaceAll('"', ''));
  const before = await versionOf();
  const ok = await measure('PATCH the same record (all 50 connections on one record)', patchPrice(hot));
  const made = (await versionOf()) - before;
  if (ONLY === undefined || 'PATCH the same record'.includes(ONLY)) {
    if (made < ok || made > ok + CONNECTIONS)
      throw new Error(`PATCH the same record: ${ok} answered 2xx, ${made} versions made`);
    console.log(`PATCH the same record: ${ok} answered 2xx, ${made} versions made`);
  }
  child.stdin.end();

  console.log(
    `\nAPI on PostgreSQL, ${RECORDS} records, ${CONNECTIONS} connections, ${DURATION} s each, pool ${POOL}`,
  );
  // The machine is shared: its load says how far to trust the absolute figures (the ratios hold better).
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
}
