import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BACKEND } from '../helpers/database.ts';
import { startTestServer, type TestResponse, type TestServer } from '../helpers/server.ts';

/** One sample line of a Prometheus exposition: `name{labels} value`, its labels as given. */
function samples(text: string, name: string): { labels: string; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const at = line.lastIndexOf(' ');
      return { labels: line.slice(name.length, at), value: Number(line.slice(at + 1)) };
    });
}

describe('readiness, metrics, request ids', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('/ready answers once the schema is current; it goes 503 problem+json when a migration is missing', async () => {
    const ready = await server.request('GET', '/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', database: BACKEND });

    const [last] = await server.db.query<{ version: number; name: string }>(
      'SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1',
    );
    await server.db.query('DELETE FROM schema_migrations WHERE version = $1', [last!.version]);
    try {
      const behind = await server.request('GET', '/ready');
      assert.equal(behind.status, 503);
      assert.equal(behind.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(behind.body.code, 'service_unavailable');
      assert.match(behind.body.detail, /1 migration/);
      assert.equal((await server.request('GET', '/health')).status, 200, 'liveness is unaffected');
    } finally {
      await server.db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        last!.version,
        last!.name,
      ]);
    }
  });

  test('/metrics needs the platform key, then exposes requests, syncs and the pool after a sync', async () => {
    const anonymous = await server.request('GET', '/metrics');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'unauthorized');
    const tenant = await server.createTenant('metrics');
    assert.equal((await server.request('GET', '/metrics', { key: tenant.key })).status, 403);

    await server.request('PUT', '/v1/collections/items', { key: tenant.key, body: {} });
    const records = Array.from({ length: 25 }, (_, i) => ({ id: `r${i}`, n: i }));
    const synced = await server.request('POST', '/v1/collections/items/syncs', {
      key: tenant.key,
      body: records,
    });
    assert.equal(synced.status, 200, synced.text);

    const metrics = await server.request('GET', '/metrics', { key: server.adminKey });
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = metrics.text;

    const syncRequests = samples(text, 'sync_manager_http_requests_total').filter((s) =>
      s.labels.includes('route="/v1/collections/:collection/syncs"'),
    );
    assert.deepEqual(
      syncRequests.map((s) => [
        s.labels.includes('method="POST"'),
        s.labels.includes('status="200"'),
        s.value,
      ]),
      [[true, true, 1]],
    );
    assert.ok(
      samples(text, 'sync_manager_http_request_duration_seconds_count').some((s) =>
        s.labels.includes('route="/metrics"'),
      ),
    );
    const runs = samples(text, 'sync_manager_sync_runs_total').find((s) => s.labels.includes('succeeded'));
    assert.equal(runs?.value, 1);
    const read = samples(text, 'sync_manager_sync_records_total').find((s) => s.labels.includes('succeeded'));
    assert.equal(read?.value, 25);
    assert.equal(samples(text, 'sync_manager_sync_records_per_second_count')[0]?.value, 1);
    assert.equal(samples(text, 'sync_manager_sync_duration_seconds_count')[0]?.value, 1);
    const pool = samples(text, 'sync_manager_db_connections');
    const max = pool.find((s) => s.labels.includes('state="max"'))?.value;
    assert.equal(max, BACKEND === 'pglite' ? 1 : 10);
    assert.ok(pool.some((s) => s.labels.includes('state="in_use"')));
    assert.ok(pool.some((s) => s.labels.includes('state="waiting"')));
    assert.match(text, /^sync_manager_process_resident_memory_bytes /m);
  });

  test('a queue registers its backlog and /metrics reads it at each scrape', async () => {
    const { registerQueueBacklog } = await import('../../src/features/metrics/metrics.ts');
    let pending = 3;
    const unregister = registerQueueBacklog('webhook_deliveries', () => pending);
    try {
      const first = await server.request('GET', '/metrics', { key: server.adminKey });
      assert.deepEqual(samples(first.text, 'sync_manager_queue_backlog'), [
        { labels: '{queue="webhook_deliveries"}', value: 3 },
      ]);
      pending = 7;
      const second = await server.request('GET', '/metrics', { key: server.adminKey });
      assert.equal(samples(second.text, 'sync_manager_queue_backlog')[0]?.value, 7);
    } finally {
      unregister();
    }
  });

  test('POST /v1/backups: 422 where there is no embedded data folder (PostgreSQL, in-memory)', async () => {
    const directory = join(tmpdir(), `sm-no-backup-${process.pid}`);
    const refused = await server.request('POST', '/v1/backups', {
      key: server.adminKey,
      body: { directory },
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'unprocessable');
    assert.equal(existsSync(directory), false);
    const relative = await server.request('POST', '/v1/backups', {
      key: server.adminKey,
      body: { directory: 'backups/here' },
    });
    assert.equal(relative.status, 400);
  });

  test('an incoming X-Request-Id is kept when plain and short, replaced otherwise', async () => {
    const kept = await server.request('GET', '/health', { headers: { 'x-request-id': 'lb-42.abc:7_x' } });
    assert.equal(kept.headers.get('x-request-id'), 'lb-42.abc:7_x');
    const problem = await server.request('GET', '/v1/nowhere', { headers: { 'x-request-id': 'trace-1' } });
    assert.equal(problem.body.instance, 'trace-1');
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '<script>']) {
      const replaced = await server.request('GET', '/health', { headers: { 'x-request-id': bad } });
      assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, bad);
    }
  });

  test('security headers: a strict policy for the API, one Swagger UI can run under for /docs', async () => {
    const api = await server.request('GET', '/health');
    const csp = api.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(api.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(api.headers.get('x-frame-options'), 'SAMEORIGIN');

    const docs = await fetch(`${server.url}/docs/`);
    assert.equal(docs.status, 200);
    const html = await docs.text();
    const docsCsp = docs.headers.get('content-security-policy') ?? '';
    assert.match(docsCsp, /script-src 'self'/);
    // Every script the page loads is a same-origin file (the policy allows no inline script), and each answers.
    assert.doesNotMatch(html, /<script>(?!\s*<\/script>)/);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1]!);
    assert.ok(scripts.length >= 2);
    for (const src of scripts) {
      const script = await fetch(new URL(src, `${server.url}/docs/`));
      assert.equal(script.status, 200, src);
      await script.arrayBuffer();
    }
  });
});

describe('CORS', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ corsOrigins: ['https://app.example'] });
  });
  after(() => server.close());

  const preflight = (origin: string) =>
    fetch(`${server.url}/v1/collections/items/records`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization, content-type, if-match',
      },
    });

  test('a preflight from an allowed origin gets the CORS headers', async () => {
    const response = await preflight('https://app.example');
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /PATCH/);
    assert.match(response.headers.get('access-control-allow-headers') ?? '', /if-match/);
    assert.equal(response.headers.get('vary')?.toLowerCase().includes('origin'), true);
  });

  test('a preflight from another origin gets none', async () => {
    const response = await preflight('https://evil.example');
    // Without Access-Control-Allow-Origin the browser refuses the request that would follow.
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.equal(response.headers.get('access-control-allow-credentials'), null);
  });

  test('an actual cross-origin request sees the exposed headers, errors included', async () => {
    const response = await server.request('GET', '/v1/collections', {
      headers: { origin: 'https://app.example' },
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(response.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/);
  });
});

describe('rate limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ rateLimitPerMinute: 3, trustProxy: ['127.0.0.1'] });
  });
  after(() => server.close());

  test('each API key has its own budget; past it, 429 problem+json with RateLimit headers', async () => {
    const a = await server.createTenant('limited-a');
    const b = await server.createTenant('limited-b');
    const statuses: number[] = [];
    let last: TestResponse | undefined;
    for (let i = 0; i < 4; i++) {
      last = await server.request('GET', '/v1/collections', { key: a.key });
      statuses.push(last.status);
      if (i === 0) {
        assert.equal(last.headers.get('ratelimit-limit'), '3');
        assert.equal(last.headers.get('ratelimit-remaining'), '2');
        assert.match(last.headers.get('ratelimit-reset') ?? '', /^\d+$/);
      }
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(last!.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(last!.body.code, 'rate_limited');
    assert.equal(last!.body.status, 429);
    assert.equal(last!.headers.get('ratelimit-limit'), '3');
    assert.equal(last!.headers.get('ratelimit-remaining'), '0');
    assert.match(last!.headers.get('retry-after') ?? '', /^\d+$/);

    // Another key (another tenant's) is not affected: the limit is per key, not per address.
    assert.equal((await server.request('GET', '/v1/collections', { key: b.key })).status, 200);
  });

  test('unauthenticated calls share a budget per token, never a key’s', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await server.request('GET', '/openapi.json', { key: 'smk_not_a_real_key' })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal((await server.request('GET', '/openapi.json', { key: 'smk_another_token' })).status, 200);
  });

  test('without a token, the client address counts: the one the trusted proxy forwards', async () => {
    const from = (address: string) =>
      server.request('GET', '/openapi.json', { headers: { 'x-forwarded-for': address } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await from('203.0.113.9')).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal((await from('203.0.113.10')).status, 200);
  });

  test('probes are never limited', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await server.request('GET', '/ready')).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
  });
});
