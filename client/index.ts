/**
 * A typed client of the Sync Manager API: openapi-fetch over the types that scripts/generate-client.mjs
 * writes to schema.d.ts from the server's OpenAPI document.
 *
 *   const api = createClient('http://localhost:3000', { apiKey: 'smk_…' });
 *   const { data, error } = await api.GET('/v1/collections/{collection}', { params: { path: { collection: 'products' } } });
 */
import createFetchClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema.d.ts';

export type { components, operations, paths };
export type Problem = components['schemas']['Problem'];
export type SyncManagerClient = Client<paths>;

export interface SyncManagerClientOptions {
  /** An API key (smk_… for a tenant, smp_… for the platform admin), sent as a Bearer token. */
  apiKey?: string;
  /** Headers sent with every request, e.g. Sync-Manager-Tenant for a platform key. */
  headers?: Record<string, string>;
  /** A fetch of your own (tests, proxies); the global fetch by default. */
  fetch?: (input: Request) => Promise<Response>;
}

export function createClient(baseUrl: string, options: SyncManagerClientOptions = {}): SyncManagerClient {
  return createFetchClient<paths>({
    baseUrl,
    headers: {
      ...options.headers,
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** Sends a body that is already text (an NDJSON feed) as it is: `bodySerializer: asIs`. */
export const asIs = (body: unknown): string => body as string;
