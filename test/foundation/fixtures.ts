import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Database } from '../../src/db/database.ts';
import type { TestResponse } from '../helpers/server.ts';

/** Asserts an RFC 9457 answer: status, code, problem+json, and `instance` equal to the x-request-id header. */
export function assertProblem(response: TestResponse, status: number, code?: string): void {
  const context = `${response.status} ${response.text}`;
  assert.equal(response.status, status, context);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, context);
  assert.equal(response.body?.status, status, context);
  if (code) assert.equal(response.body?.code, code, context);
  assert.equal(typeof response.body?.code, 'string', context);
  assert.equal(typeof response.body?.title, 'string', context);
  assert.equal(typeof response.body?.type, 'string', context);
  const requestId = response.headers.get('x-request-id');
  assert.ok(requestId, 'x-request-id header');
  assert.equal(response.body?.instance, requestId, context);
}

/**
 * Every row of every table that has a tenant_id column (found in the catalog, so tables added later
 * are covered), as text, read as the connection's own user: a fingerprint of one tenant's data.
 */
export async function tenantFingerprint(db: Database, tenantId: string): Promise<Record<string, string[]>> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY table_name`,
  );
  const result: Record<string, string[]> = {};
  for (const { table_name: table } of tables) {
    const rows = await db.query<{ row: string }>(
      `SELECT row_to_json(t)::text AS row FROM "${table}" t WHERE tenant_id = $1 ORDER BY 1`,
      [tenantId],
    );
    // last_used_at is bookkeeping written on use, not data a request could change.
    result[table] = rows.map((r) => r.row.replace(/"last_used_at":(null|"[^"]*")/, '"last_used_at":"-"'));
  }
  result.tenants = (
    await db.query<{ row: string }>('SELECT row_to_json(t)::text AS row FROM tenants t WHERE id = $1', [
      tenantId,
    ])
  ).map((r) => r.row);
  return result;
}

/** A port that was free a moment ago (listen on 0, close, reuse). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
