import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { openPostgres } from '../../src/db/adapters/postgres.ts';
import type { Database } from '../../src/db/database.ts';
import { ApiKeyService } from '../../src/features/api-keys/api-keys.service.ts';
import { BACKEND, createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/**
 * Issue 20 item 15: PostgreSQL goes away during a sync and comes back. The server's connections go
 * through a TCP proxy the test can cut (every connection dropped, new ones refused) and restore, as a
 * stopped and restarted PostgreSQL looks to it. The run must end `failed` once the database is back,
 * without a server restart.
 */
const skip = BACKEND !== 'postgres' && 'PostgreSQL only (TEST_DATABASE_URL)';

class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  readonly server: Server;
  private port = 0;

  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** The database "stops": every connection drops and new ones are refused (nothing listens). */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** It is back, on the same port. */
  async start(): Promise<void> {
    await this.listen();
  }

  close(): Promise<void> {
    return this.server.listening ? this.stop() : Promise.resolve();
  }
}

let database: TestDatabase;
let proxy: CuttableProxy;
let db: Database;
let app: FastifyInstance;
let direct: postgres.Sql;

before(async () => {
  if (skip) return;
  database = await createTestDatabase();
  const target = new URL(database.url!);
  proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const proxied = new URL(database.url!);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(await proxy.listen());
  db = openPostgres(proxied.toString());
  app = await buildApp({ config: { ...loadConfig({}), port: 0 }, db, logRequests: false });
  await app.ready();
  direct = postgres(database.url!, { max: 2, onnotice: () => {} });
});

after(async () => {
  if (skip) return;
  await app.close();
  await db.close().catch(() => {});
  await proxy.close();
  await direct.end();
  await database.close();
});

test('a sync cut off by a database outage is marked failed once the database is back', {
  skip,
  timeout: 600_000,
}, async () => {
  const adminKey = await new ApiKeyService(db).createPlatformKey();
  const tenant = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: { authorization: `Bearer ${adminKey}` },
    payload: { slug: 'outage' },
  });
  assert.equal(tenant.statusCode, 201, tenant.body);
  const { tenant: made, apiKey } = tenant.json() as { tenant: { id: string }; apiKey: { key: string } };
  const key = `Bearer ${apiKey.key}`;
  const created = await app.inject({
    method: 'PUT',
    url: '/v1/collections/items',
    headers: { authorization: key },
    payload: {},
  });
  assert.ok(created.statusCode < 300, created.body);
  const [collection] =
    await direct`SELECT id FROM collections WHERE tenant_id = ${made.id} AND name = 'items'`;

  // Another process holds the collection's lock, so the sync is sure to be in flight when the database stops.
  const holder = await direct.reserve();
  await holder`BEGIN`;
  await holder`SELECT pg_advisory_xact_lock(hashtextextended('sync-collection:' || ${made.id} || ':' || ${collection!.id}, 0))`;
  const answer = app.inject({
    method: 'POST',
    url: '/v1/collections/items/syncs',
    headers: { authorization: key, 'content-type': 'application/x-ndjson' },
    payload: '{"id":"a"}\n',
  });
  let runId: string | undefined;
  while (!runId) {
    const rows = await direct`SELECT id FROM sync_runs WHERE tenant_id = ${made.id} AND status = 'running'`;
    runId = rows[0]?.id;
    if (!runId) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  await proxy.stop();
  const response = await answer;
  assert.ok(response.statusCode >= 500, response.body);
  await holder`COMMIT`;
  holder.release();
  const [during] = await direct`SELECT status FROM sync_runs WHERE id = ${runId}`;
  assert.equal(during!.status, 'running', 'the failure cannot be recorded while the database is away');

  await proxy.start();
  for (;;) {
    const [row] = await direct`SELECT status, errors FROM sync_runs WHERE id = ${runId}`;
    if (row!.status !== 'running') {
      assert.equal(row!.status, 'failed');
      assert.ok(Array.isArray(row!.errors) && row!.errors.length > 0);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const [records] = await direct`SELECT count(*)::int AS n FROM records WHERE tenant_id = ${made.id}`;
  assert.equal(records!.n, 0, 'nothing of the sync was applied');
});

test('while the database is away requests answer 503 database_unavailable; they work again when it is back', {
  skip,
}, async () => {
  const adminKey = await new ApiKeyService(db).createPlatformKey();
  const tenants = () =>
    app.inject({ method: 'GET', url: '/v1/tenants', headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal((await tenants()).statusCode, 200);
  await proxy.stop();
  try {
    const lost = await tenants();
    assert.equal(lost.statusCode, 503, lost.body);
    assert.equal(lost.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(lost.headers['retry-after'], '5');
    assert.equal(lost.json().code, 'database_unavailable');
    assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 503);
  } finally {
    await proxy.start();
  }
  assert.equal((await tenants()).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
});
