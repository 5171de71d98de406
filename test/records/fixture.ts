import {
  type RequestOptions,
  startTestServer,
  type TestResponse,
  type TestServer,
} from '../helpers/server.ts';

/** Response bodies in these tests are arbitrary JSON, read field by field. */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are arbitrary JSON
export type Json = any;

export interface RecordsFixture {
  server: TestServer;
  key: string;
  keyId: string;
  /** A request authenticated with the tenant's write key. */
  call<T = Json>(method: string, path: string, options?: RequestOptions): Promise<TestResponse<T>>;
  /** A path under /v1/collections/<collection>/records. */
  records(id?: string): string;
  close(): Promise<void>;
}

/** A server with one tenant, a read+write key and an empty collection. */
export async function startRecordsFixture(
  collection = 'products',
  settings: object = {},
): Promise<RecordsFixture> {
  const server = await startTestServer();
  const tenant = await server.createTenant('shop');
  const { id: keyId, key } = await server.createKey(tenant.key, ['read', 'write']);
  const created = await server.request('PUT', `/v1/collections/${collection}`, {
    key: tenant.key,
    body: settings,
  });
  if (created.status !== 201) throw new Error(`collection: ${created.status} ${created.text}`);
  return {
    server,
    key,
    keyId,
    call: (method, path, options = {}) => server.request(method, path, { key, ...options }),
    records: (id) =>
      `/v1/collections/${collection}/records${id === undefined ? '' : `/${encodeURIComponent(id)}`}`,
    close: () => server.close(),
  };
}

export const MERGE = { 'content-type': 'application/merge-patch+json' };
export const JSON_PATCH = { 'content-type': 'application/json-patch+json' };
