import type { Statement } from '../../db/database.ts';

export function findIdempotencyKey(tenantId: string, scope: string, key: string): Statement {
  return {
    text: `SELECT request_hash, status_code, response FROM idempotency_keys
      WHERE tenant_id = $1 AND scope = $2 AND key = $3`,
    values: [tenantId, scope, key],
  };
}

/** Claims the key; waits for a concurrent claim of the same key to commit or roll back first. */
export function claimIdempotencyKey(
  tenantId: string,
  scope: string,
  key: string,
  requestHash: string,
): Statement {
  return {
    text: `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING RETURNING key`,
    values: [tenantId, scope, key, requestHash],
  };
}

export function storeIdempotentResponse(
  tenantId: string,
  scope: string,
  key: string,
  statusCode: number,
  response: unknown,
): Statement {
  return {
    text: `UPDATE idempotency_keys SET status_code = $4, response = $5::jsonb
      WHERE tenant_id = $1 AND scope = $2 AND key = $3`,
    values: [tenantId, scope, key, statusCode, JSON.stringify(response)],
  };
}
