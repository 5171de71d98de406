import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { generateKey } from '../../src/features/api-keys/key-format.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/**
 * The real `serve` (src/server.ts startServer: API, folder importer, scheduler) on a fresh database:
 * a PostgreSQL copy of the template when TEST_DATABASE_URL is set, else PGlite in a temporary data
 * folder (on disk, as serve runs it). Poll intervals are short so the suite stays fast.
 */
export interface ServeFixture {
  server: RunningServer;
  db: Database;
  config: Config;
  importDir: string;
  adminKey: string;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely, like test/helpers/server.ts
  call<T = any>(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown },
  ): Promise<{ status: number; body: T }>;
  createTenant(slug: string): Promise<{ id: string; key: string }>;
  close(): Promise<void>;
}

/**
 * `overrides` may name a database the caller prepared (`databaseUrl`, or `dataDir` for PGlite) and an
 * `importDir`: the fixture then serves those, as a restarted server would, and leaves them in place.
 */
export async function startServe(overrides: Partial<Config> = {}): Promise<ServeFixture> {
  const root = mkdtempSync(join(tmpdir(), 'sm-serve-'));
  const importDir = overrides.importDir ?? join(root, 'import');
  const ownDatabase = overrides.databaseUrl === undefined && overrides.dataDir === undefined;
  let database: TestDatabase | undefined;
  if (ownDatabase && process.env.TEST_DATABASE_URL) {
    database = await createTestDatabase();
    await database.db.close();
  }
  const adminKey = generateKey('platform');
  const config: Config = {
    ...loadConfig({}),
    databaseUrl: database?.url,
    dataDir: join(root, 'data'),
    port: 0,
    adminKey,
    logLevel: 'silent',
    importDir,
    importPollMs: 50,
    importStableMs: 300,
    importLeaseMs: 2000,
    scheduleTickMs: 3_600_000,
    feedTimeoutMs: 2000,
    ...overrides,
  };
  const server = await startServer(config);

  async function call(method: string, path: string, options: { key?: string; body?: unknown } = {}) {
    const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? adminKey}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(server.url + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  return {
    server,
    db: server.db,
    config,
    importDir,
    adminKey,
    call,
    async createTenant(slug) {
      const response = await call('POST', '/v1/tenants', { body: { slug } });
      if (response.status !== 201)
        throw new Error(`createTenant: ${response.status} ${JSON.stringify(response.body)}`);
      return { id: response.body.tenant.id, key: response.body.apiKey.key };
    },
    async close() {
      await server.close();
      if (database) {
        // the template copy is dropped with the fixture's own close (its connection is already closed)
        await database.close().catch(() => {});
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
