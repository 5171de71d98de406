import assert from 'node:assert/strict';
import type { Config } from '../../src/config.ts';
import { type ServeFixture, startServe } from '../auto-import/serve.ts';
import { startUpstream, type Upstream } from './upstream.ts';

export interface SourcesFixture {
  serve: ServeFixture;
  upstream: Upstream;
  /** The tenant `acme` and its admin key. */
  tenantId: string;
  key: string;
  close(): Promise<void>;
}

/** A real serve, a real local upstream, and the tenant `acme` with the named (empty) collections. */
export async function startSourcesFixture(
  overrides: Partial<Config>,
  collections: string[],
): Promise<SourcesFixture> {
  const serve = await startServe(overrides);
  const upstream = await startUpstream();
  const { id: tenantId, key } = await serve.createTenant('acme');
  for (const name of collections) {
    assert.equal((await serve.call('PUT', `/v1/collections/${name}`, { key, body: {} })).status, 201);
  }
  return {
    serve,
    upstream,
    tenantId,
    key,
    async close() {
      await serve.close();
      await upstream.close();
    },
  };
}
