import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { openPostgres } from '../../src/db/adapters/postgres.ts';
import { ApiKeyService } from '../../src/features/api-keys/api-keys.service.ts';
import { BACKEND, createTestDatabase } from '../helpers/database.ts';

/** A TCP relay to PostgreSQL that can be cut (listener closed, every connection reset) and restored. */
async function startRelay(target: URL, port = 0) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.resetAndDestroy();
      await closed;
    },
  };
}

test('PostgreSQL gone: requests answer 503 database_unavailable, and work again when it is back', {
  skip: BACKEND !== 'postgres',
}, async () => {
  const database = await createTestDatabase();
  const target = new URL(database.url!);
  let relay = await startRelay(target);
  const viaRelay = new URL(target);
  viaRelay.host = `127.0.0.1:${relay.port}`;
  const db = openPostgres(viaRelay.toString());
  const app = await buildApp({ config: { ...loadConfig({}), port: 0 }, db, logRequests: false });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const key = await new ApiKeyService(db).createPlatformKey();
    const tenants = () => fetch(`${url}/v1/tenants`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal((await tenants()).status, 200);
    await relay.cut();
    const lost = await tenants();
    assert.equal(lost.status, 503);
    assert.equal(lost.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(lost.headers.get('retry-after'), '5');
    assert.equal(((await lost.json()) as { code: string }).code, 'database_unavailable');
    assert.equal((await fetch(`${url}/ready`)).status, 503);

    relay = await startRelay(target, relay.port);
    assert.equal((await tenants()).status, 200);
    assert.equal((await fetch(`${url}/ready`)).status, 200);
  } finally {
    await app.close();
    await db.close();
    await relay.cut();
    await database.close();
  }
});
