export const insertSession = (
  tenantId: string,
  apiKeyId: string,
  tokenHash: Buffer,
  lifetimeSeconds: number,
) => ({
  text: `INSERT INTO console_sessions (tenant_id, api_key_id, token_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4::int)) RETURNING expires_at`,
  values: [tenantId, apiKeyId, tokenHash, lifetimeSeconds],
});

/** The session with its key's current scopes: no row once the key is revoked or the session expired. */
export const findLiveSession = (tokenHash: Buffer) => ({
  text: `SELECT s.tenant_id, s.api_key_id, s.expires_at, k.scopes, k.name AS key_name,
                t.slug AS tenant_slug, t.name AS tenant_name
           FROM console_sessions s
           JOIN api_keys k ON k.id = s.api_key_id AND k.tenant_id = s.tenant_id
           JOIN tenants t ON t.id = s.tenant_id
          WHERE s.token_hash = $1 AND s.expires_at > now() AND k.revoked_at IS NULL`,
  values: [tokenHash],
});

export const deleteSession = (tokenHash: Buffer) => ({
  text: 'DELETE FROM console_sessions WHERE token_hash = $1',
  values: [tokenHash],
});

/** Expired sessions are dropped when someone signs in, a few at a time, so the table stays small. */
export const deleteExpiredSessions = () => ({
  text: `DELETE FROM console_sessions WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM console_sessions WHERE expires_at <= now() LIMIT 100))`,
  values: [],
});
