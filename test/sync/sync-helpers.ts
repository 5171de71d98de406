import { after, before } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

export type Ctx = { server: TestServer; key: string };

export type TenantServer = { server: TestServer; ctx: Ctx; tenantId: string };

/**
 * The usual fixture of a sync test file: the real server on a fresh database with one tenant, started
 * before the file's tests and closed after them. Its fields are set in `before`: read them in tests.
 */
export function tenantServer(slug = 'acme'): TenantServer {
  const fixture = {} as TenantServer;
  before(async () => {
    fixture.server = await startTestServer();
    const tenant = await fixture.server.createTenant(slug);
    fixture.tenantId = tenant.id;
    fixture.ctx = { server: fixture.server, key: tenant.key };
  });
  after(() => fixture.server.close());
  return fixture;
}

export function ndjson(records: unknown[]): string {
  return records.map((record) => JSON.stringify(record)).join('\n') + '\n';
}

export async function makeCollection(ctx: Ctx, name: string, settings: Record<string, unknown> = {}) {
  const response = await ctx.server.request('PUT', `/v1/collections/${name}`, {
    key: ctx.key,
    body: settings,
  });
  if (response.status >= 300) throw new Error(`collection: ${response.status} ${response.text}`);
}

export async function sync(
  ctx: Ctx,
  collection: string,
  feed: unknown[] | string,
  query = '',
  headers: Record<string, string> = {},
) {
  const isText = typeof feed === 'string';
  return ctx.server.request('POST', `/v1/collections/${collection}/syncs${query ? `?${query}` : ''}`, {
    key: ctx.key,
    rawBody: isText ? feed : JSON.stringify(feed),
    headers: { 'content-type': isText ? 'application/x-ndjson' : 'application/json', ...headers },
  });
}

/** Every record row of a collection as stored (deleted ones included), by id. */
export async function stored(ctx: Ctx, tenantId: string, collection: string) {
  const rows = await ctx.server.db.query<{
    record_id: string;
    data: Record<string, unknown> | null;
    source: Record<string, unknown> | null;
    overrides: Record<string, { value?: unknown }>;
    version: number;
    upstream_gone: boolean;
    change_id: string;
  }>(
    `SELECT r.record_id, effective_value(r.data, r.source) AS data, r.source, r.overrides, r.version, r.upstream_gone, r.change_id::text AS change_id
     FROM records r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
     WHERE r.tenant_id = $1 AND c.name = $2 ORDER BY r.record_id`,
    [tenantId, collection],
  );
  return new Map(rows.map((row) => [row.record_id, row]));
}

/** Sets an override the way the records API does: overrides + data, a new version. */
export async function setOverride(
  ctx: Ctx,
  tenantId: string,
  collection: string,
  recordId: string,
  path: string,
  value: unknown,
  sourceValue: unknown,
) {
  const override = JSON.stringify({ [path]: { value, by: null, at: new Date().toISOString(), sourceValue } });
  const field = path.slice(1);
  await ctx.server.db.query(
    `UPDATE records r SET overrides = $4::jsonb, data = jsonb_set(effective_value(r.data, r.source), ARRAY[$5::text], $6::jsonb),
       version = r.version + 1, change_id = nextval('change_seq')
     FROM collections c WHERE c.tenant_id = r.tenant_id AND c.id = r.collection_id
       AND r.tenant_id = $1 AND c.name = $2 AND r.record_id = $3`,
    [tenantId, collection, recordId, override, field, JSON.stringify(value)],
  );
}

export async function manualDelete(ctx: Ctx, tenantId: string, collection: string, recordId: string) {
  await ctx.server.db.query(
    `UPDATE records r SET manual_delete = '{"by":null,"at":"t"}'::jsonb, data = NULL,
       version = r.version + 1, change_id = nextval('change_seq')
     FROM collections c WHERE c.tenant_id = r.tenant_id AND c.id = r.collection_id
       AND r.tenant_id = $1 AND c.name = $2 AND r.record_id = $3`,
    [tenantId, collection, recordId],
  );
}

export async function handMade(
  ctx: Ctx,
  tenantId: string,
  collection: string,
  recordId: string,
  data: object,
) {
  const overrides = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [`/${k}`, { value: v, by: null, at: 't', sourceMissing: true }]),
  );
  await ctx.server.db.query(
    `INSERT INTO records (tenant_id, collection_id, record_id, source, overrides, data, change_id)
     SELECT $1, c.id, $3, NULL, $4::jsonb, $5::jsonb, nextval('change_seq') FROM collections c
     WHERE c.tenant_id = $1 AND c.name = $2`,
    [tenantId, collection, recordId, JSON.stringify(overrides), JSON.stringify(data)],
  );
}
