export const findTenantKeyByHash = (hash: Buffer) => ({
  text: `SELECT k.id, k.tenant_id, k.scopes, k.key_hash, k.last_used_at
           FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
  values: [hash],
});

export const findPlatformKeyByHash = (hash: Buffer) => ({
  text: 'SELECT id, key_hash FROM platform_keys WHERE key_hash = $1 AND revoked_at IS NULL',
  values: [hash],
});

export const touchTenantKey = (tenantId: string, keyId: string) => ({
  text: 'UPDATE api_keys SET last_used_at = now() WHERE tenant_id = $1 AND id = $2',
  values: [tenantId, keyId],
});

export const insertTenantKey = (
  tenantId: string,
  name: string,
  hash: Buffer,
  hint: string,
  scopes: string[],
) => ({
  text: `INSERT INTO api_keys (tenant_id, name, key_hash, hint, scopes) VALUES ($1, $2, $3, $4, $5::text[])
         RETURNING id, name, hint, scopes, created_at, last_used_at, revoked_at`,
  values: [tenantId, name, hash, hint, scopes],
});

export const insertPlatformKey = (hash: Buffer) => ({
  text: 'INSERT INTO platform_keys (key_hash) VALUES ($1) ON CONFLICT (key_hash) DO NOTHING RETURNING id',
  values: [hash],
});

export const listTenantKeys = (tenantId: string, afterId: string | null, limit: number) => ({
  text: `SELECT id, name, hint, scopes, created_at, last_used_at, revoked_at FROM api_keys
          WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3`,
  values: [tenantId, afterId, limit],
});

export const revokeTenantKey = (tenantId: string, keyId: string) => ({
  text: `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = $1 AND id = $2
         RETURNING id`,
  values: [tenantId, keyId],
});
