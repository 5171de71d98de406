import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { ApiKeyService } from '../../src/features/api-keys/api-keys.service.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export interface RequestOptions {
  key?: string;
  body?: unknown;
  /** Sent as is (a string or bytes), e.g. to test malformed JSON. */
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  app: FastifyInstance;
  db: Database;
  database: TestDatabase;
  config: Config;
  adminKey: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<TestResponse<T>>;
  /** Creates a tenant through the API; returns its slug, id and first admin key. */
  createTenant(slug: string): Promise<{ id: string; slug: string; key: string }>;
  /** Creates a key with these scopes in the tenant whose admin key is given. */
  createKey(adminKey: string, scopes: string[]): Promise<{ id: string; key: string }>;
  close(): Promise<void>;
}

/** The real server, listening on a free port, on a fresh database. */
export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const config = { ...loadConfig({}), port: 0, ...overrides };
  const app = await buildApp({ config, db: database.db, logRequests: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const adminKey = await new ApiKeyService(database.db).createPlatformKey();

  async function request<T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    let body: string | Uint8Array | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(url + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed as T };
  }

  return {
    url,
    app,
    db: database.db,
    database,
    config,
    adminKey,
    request,
    async createTenant(slug) {
      const response = await request<{ tenant: { id: string }; apiKey: { key: string } }>(
        'POST',
        '/v1/tenants',
        { key: adminKey, body: { slug } },
      );
      if (response.status !== 201) throw new Error(`createTenant: ${response.status} ${response.text}`);
      return { id: response.body.tenant.id, slug, key: response.body.apiKey.key };
    },
    async createKey(tenantAdminKey, scopes) {
      const response = await request<{ id: string; key: string }>('POST', '/v1/api-keys', {
        key: tenantAdminKey,
        body: { name: 'test', scopes },
      });
      if (response.status !== 201) throw new Error(`createKey: ${response.status} ${response.text}`);
      return { id: response.body.id, key: response.body.key };
    },
    async close() {
      await app.close();
      await database.close();
    },
  };
}
