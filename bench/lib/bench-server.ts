import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { openPostgres } from '../../src/db/adapters/postgres.ts';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { ApiKeyService } from '../../src/features/api-keys/api-keys.service.ts';
import { limitHeapGrowth } from '../../src/lib/heap.ts';

export interface BenchServer {
  db: Database;
  app: FastifyInstance;
  /** The listening server's base URL. */
  appUrl: string;
  /** The bench database's PostgreSQL URL. */
  databaseUrl: string;
  /** An admin key of the tenant `bench`, and that tenant's id. */
  key: string;
  tenantId: string;
  /** Closes the server and the database, and drops the database. */
  close(): Promise<void>;
}

/**
 * The real server on a new PostgreSQL database of its own (`<prefix>_<pid>`, dropped first if left
 * over), listening on a free port, with one tenant `bench`: what bench/api.ts and bench/query.ts
 * measure against their bare handlers.
 */
export async function startBenchServer(baseUrl: string, prefix: string, pool: number): Promise<BenchServer> {
  limitHeapGrowth(); // as the sync-manager executable does
  const name = `${prefix}_${process.pid}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const db = openPostgres(databaseUrl, { maxConnections: pool });
  await migrate(db);
  const config = { ...loadConfig({}), port: 0, databaseUrl };
  const app = await buildApp({ config, db, logRequests: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const appUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const platformKey = await new ApiKeyService(db).createPlatformKey();
  const tenant = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: { authorization: `Bearer ${platformKey}` },
    payload: { slug: 'bench' },
  });
  return {
    db,
    app,
    appUrl,
    databaseUrl,
    key: tenant.json().apiKey.key as string,
    tenantId: tenant.json().tenant.id as string,
    async close() {
      await app.close();
      await db.close();
      const cleanup = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
