/**
 * The change feed and webhooks on PostgreSQL: node --import tsx bench/changes.ts [records] [polls]
 * (npm run bench:changes). BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/test) names the
 * server; the bench works in its own database, sm_bench_changes, dropped and made again each run.
 *
 * - read `records` (default 1,000,000) changes (one sync's creates) as NDJSON through the API, by curl
 *   in a process of its own, beside a bare SELECT of the same rows' ids and values in the same run
 *   (target ≥ 200k changes/s);
 * - `polls` (default 200) long polls: from a PATCH's answer (its commit) to the waiting consumer's
 *   answer, p50/p99 (target p99 ≤ 100 ms);
 * - the records.changed deliveries of a `records`-record sync (a second collection) to a local
 *   receiver, from the sync's answer to the last record announced, beside a bare loop of as many
 *   POSTs of the same bodies to the same receiver (target ≤ 30 s for 100k).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import postgres from 'postgres';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openPostgres } from '../src/db/adapters/postgres.ts';
import { migrate } from '../src/db/migrate.ts';
import { ApiKeyService } from '../src/features/api-keys/api-keys.service.ts';
import { ChangeNotifier } from '../src/features/changes/notifier.ts';
import { startWebhookDelivery } from '../src/features/webhooks/background.ts';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
const POLLS = Number(process.argv[3] ?? 200);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DB_NAME = 'sm_bench_changes';

function feed(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        id: `p${String(i).padStart(8, '0')}`,
        name: `Product ${i} lorem ipsum`,
        price: i % 1000,
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** GET an NDJSON stream with curl: how many lines, and the last one. */
function readNdjson(url: string, key: string): Promise<{ lines: number; lastLine: string }> {
  const command = `curl -sS --fail -N -H 'authorization: Bearer ${key}' -H 'accept: application/x-ndjson' '${url}' | awk 'END { print NR; print }'`;
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', command], { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      const [count, lastLine] = stdout.split('\n');
      resolve({ lines: Number(count), lastLine: lastLine! });
    });
  });
}

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;

async function main(): Promise<void> {
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();
  const url = new URL(BASE_URL);
  url.pathname = `/${DB_NAME}`;
  const db = openPostgres(url.toString());
  await migrate(db);
  const config = { ...loadConfig({}), port: 0, allowPrivateFeedUrls: true, webhookPollMs: 50 };
  const app = await buildApp({ config, db, logRequests: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const platformKey = await new ApiKeyService(db).createPlatformKey();
  const call = async (
    method: string,
    path: string,
    key: string,
    body?: string,
    type = 'application/json',
  ) => {
    const response = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': type }) },
      body,
    });
    return response;
  };
  const tenant = (await (
    await call('POST', '/v1/tenants', platformKey, JSON.stringify({ slug: 'bench' }))
  ).json()) as { apiKey: { key: string }; tenant: { id: string } };
  const key: string = tenant.apiKey.key;
  const tenantId: string = tenant.tenant.id;
  await call('PUT', '/v1/collections/products', key, '{}');
  await call('PUT', '/v1/collections/hooked', key, '{}');

  const table: string[][] = [];
  try {
    console.log(`loading ${RECORDS.toLocaleString('en')} records…`);
    const synced = await call(
      'POST',
      '/v1/collections/products/syncs',
      key,
      feed(RECORDS),
      'application/x-ndjson',
    );
    if (!synced.ok) throw new Error(`sync: ${synced.status} ${await synced.text()}`);
    await db.query('ANALYZE');

    // 1. NDJSON read beside a bare SELECT of the same rows. First wait until the sync's change can be
    // served: a transaction open elsewhere in the cluster holds it back until it ends.
    await call('GET', '/v1/collections/products/changes?limit=1&wait=60', key);
    // The consumer is another process (curl, its lines counted by awk), as a website's would be: read
    // in this process, the bench's own decoding would share the server's one thread.
    const t0 = performance.now();
    const consumed = await readNdjson(`${base}/v1/collections/products/changes`, key);
    const lines = consumed.lines;
    const feedMs = performance.now() - t0;
    const lastLine = consumed.lastLine;
    const t1 = performance.now();
    let bare = 0;
    const raw = postgres(url.toString(), { max: 1, onnotice: () => {} });
    await raw
      .unsafe(
        `SELECT record_id, effective_value(data, source)::text AS data FROM records WHERE tenant_id = $1 ORDER BY collection_id, record_id`,
        [tenantId],
      )
      .cursor(10_000, (rows) => {
        bare += rows.length;
      });
    const bareMs = performance.now() - t1;
    await raw.end();
    table.push([
      `read ${lines.toLocaleString('en')} changes (one sync's creates) as NDJSON through the API`,
      `${(feedMs / 1000).toFixed(2)} s (${rate(lines, feedMs)})`,
      `bare SELECT of the same rows: ${(bareMs / 1000).toFixed(2)} s (${rate(bare, bareMs)})`,
      `≥ 200k/s (${(bareMs / feedMs).toFixed(2)}× the bare SELECT's rate)`,
    ]);
    console.log(
      `NDJSON feed: ${lines.toLocaleString('en')} changes in ${Math.round(feedMs)} ms (${rate(lines, feedMs)}); ` +
        `bare SELECT of the same rows: ${bare.toLocaleString('en')} in ${Math.round(bareMs)} ms (${rate(bare, bareMs)}); ` +
        `ratio ${(bareMs / feedMs).toFixed(2)}`,
    );

    // 2. Long-poll latency, commit (the PATCH's answer) → consumer.
    const last = JSON.parse(lastLine).cursor as string;
    const caughtUp = (await (await call('GET', `/v1/changes?limit=1000&cursor=${last}`, key)).json()) as {
      nextCursor: string;
    };
    let cursor = caughtUp.nextCursor;
    const latencies: number[] = [];
    // The notification path alone: LISTEN on a connection of its own, from the PATCH's answer to the
    // NOTIFY's arrival (what wakes a long poll), whatever holds the cluster's xmin back.
    const notifier = new ChangeNotifier(db);
    await notifier.listen();
    const notified: number[] = [];
    for (let i = 0; i < POLLS; i++) {
      const woke = notifier.next(tenantId, 30_000).then(() => performance.now());
      const poll = call('GET', `/v1/changes?cursor=${cursor}&wait=30`, key).then(async (r) => {
        const body = (await r.json()) as { items: unknown[]; nextCursor: string };
        return { body, at: performance.now() };
      });
      await new Promise((resolve) => setTimeout(resolve, 5)); // the poll is waiting
      const patched = await call(
        'PATCH',
        `/v1/collections/products/records/p00000001`,
        key,
        JSON.stringify({ n: i }),
      );
      const committedAt = performance.now();
      if (!patched.ok) throw new Error(`patch ${patched.status}`);
      notified.push(Math.max(0, (await woke) - committedAt));
      let { body, at } = await poll;
      // A transaction open elsewhere in the cluster can hold the change back past the wait: poll again.
      while (body.items.length === 0) {
        const again = await call('GET', `/v1/changes?cursor=${body.nextCursor}&wait=30`, key);
        body = (await again.json()) as typeof body;
        at = performance.now();
      }
      if (body.items.length !== 1) throw new Error(`poll got ${body.items.length}`);
      latencies.push(Math.max(0, at - committedAt));
      cursor = body.nextCursor;
    }
    await notifier.close();
    latencies.sort((a, b) => a - b);
    notified.sort((a, b) => a - b);
    const pctOf = (list: number[], p: number) =>
      list[Math.min(list.length - 1, Math.floor(p * list.length))]!;
    const pct = (p: number) => pctOf(latencies, p);
    table.push([
      `long poll, a PATCH's answer → the waiting consumer's answer (${POLLS})`,
      `p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms`,
      `the NOTIFY alone (LISTEN beside it): p50 ${pctOf(notified, 0.5).toFixed(1)} ms, p99 ${pctOf(notified, 0.99).toFixed(1)} ms`,
      'p99 ≤ 100 ms',
    ]);
    console.log(
      `long poll, commit → consumer over ${POLLS}: p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms`,
    );

    // 3. records.changed of a RECORDS-record sync to a local receiver, beside a bare POST loop.
    let announced = 0;
    let requests = 0;
    let done: (() => void) | null = null;
    const bodies: string[] = [];
    const receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        requests++;
        const text = Buffer.concat(chunks).toString();
        if (bodies.length < 3) bodies.push(text);
        const parsed = JSON.parse(text);
        if (parsed.type === 'records.changed') announced += parsed.data.count;
        response.writeHead(204).end();
        if (announced >= RECORDS) done?.();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`;
    const made = await call(
      'POST',
      '/v1/webhooks',
      key,
      JSON.stringify({ url: hookUrl, events: ['records.changed'], collections: ['hooked'] }),
    );
    if (made.status !== 201) throw new Error(`webhook ${made.status} ${await made.text()}`);
    const delivery = startWebhookDelivery(config, db, {
      error: (d, m) => console.error(m, d),
      warn: (d, m) => console.error(m, d),
    });
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    const s0 = performance.now();
    const hooked = await call(
      'POST',
      '/v1/collections/hooked/syncs',
      key,
      feed(RECORDS),
      'application/x-ndjson',
    );
    if (!hooked.ok) throw new Error(`sync ${hooked.status}`);
    const syncMs = performance.now() - s0;
    const d0 = performance.now();
    await all;
    const deliverMs = performance.now() - d0;
    await delivery.stop();
    const sample = bodies[0] ?? '{}';
    const posts = requests;
    const b0 = performance.now();
    for (let i = 0; i < posts; i++) {
      const r = await fetch(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: sample,
      });
      await r.arrayBuffer();
    }
    const bareLoopMs = performance.now() - b0;
    receiver.close();
    table.push([
      `records.changed of a ${RECORDS.toLocaleString('en')}-record sync to a local receiver (${posts} deliveries)`,
      `all announced ${(deliverMs / 1000).toFixed(1)} s after the sync's answer (the sync: ${(syncMs / 1000).toFixed(1)} s)`,
      `a bare loop of ${posts} POSTs of the same body: ${(bareLoopMs / 1000).toFixed(2)} s`,
      '≤ 30 s for 100k',
    ]);
    console.log(
      `records.changed of a ${RECORDS.toLocaleString('en')}-record sync (sync itself ${Math.round(syncMs)} ms): ` +
        `${posts} deliveries, all announced ${Math.round(deliverMs)} ms after the sync's answer; ` +
        `bare loop of ${posts} POSTs of the same body: ${Math.round(bareLoopMs)} ms`,
    );
    console.log('\n| measure | value | baseline in the same run | target |\n|---|---|---|---|');
    for (const row of table) console.log(`| ${row.join(' | ')} |`);
  } finally {
    await app.close();
    await db.close();
  }
}

await main();
