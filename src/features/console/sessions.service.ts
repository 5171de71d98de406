import { randomBytes } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { ApiKeyService, Principal, Scope } from '../api-keys/api-keys.service.ts';
import { hashKey } from '../api-keys/key-format.ts';
import * as sql from './sessions.sql.ts';

export interface SessionView {
  tenant: { id: string; slug: string; name: string };
  key: { id: string; name: string; scopes: Scope[] };
  expiresAt: string;
}

interface SessionRow {
  tenant_id: string;
  api_key_id: string;
  expires_at: Date;
  scopes: Scope[];
  key_name: string;
  tenant_slug: string;
  tenant_name: string;
}

/**
 * Console sessions: an API key is exchanged once for a random token kept in an HttpOnly cookie; the
 * browser never holds the key. Every request looks the session up with its key (no cache), so a
 * revoked key or a signed-out session is refused by the very next request, on every server.
 */
export class SessionService {
  constructor(
    private readonly db: Database,
    private readonly keys: ApiKeyService,
    private readonly lifetimeSeconds: number,
  ) {}

  /** Opens a session for a tenant key; returns the cookie's token (shown nowhere else) and the view. */
  async signIn(key: string): Promise<{ token: string; session: SessionView }> {
    const principal = await this.keys.authenticate(key);
    if (!principal) throw new AppError('unauthorized', 'This API key is not valid, or it was revoked');
    if (principal.kind !== 'tenant' || principal.keyId === null) {
      throw new AppError(
        'forbidden',
        'The console signs in with a tenant API key (smk_…), not a platform key',
      );
    }
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashKey(token);
    await this.db.query(sql.deleteExpiredSessions());
    await withTenant(this.db, principal.tenantId, (tx) =>
      tx.query(sql.insertSession(principal.tenantId, principal.keyId!, tokenHash, this.lifetimeSeconds)),
    );
    const row = await this.find(token);
    if (!row) throw new AppError('unauthorized', 'This API key was revoked while signing in');
    return { token, session: toView(row) };
  }

  /** The live session of this token, or undefined (expired, signed out, or its key revoked). */
  async session(token: string): Promise<SessionView | undefined> {
    const row = await this.find(token);
    return row && toView(row);
  }

  async principal(token: string): Promise<Principal | undefined> {
    const row = await this.find(token);
    if (!row) return undefined;
    return { kind: 'tenant', tenantId: row.tenant_id, keyId: row.api_key_id, scopes: new Set(row.scopes) };
  }

  async signOut(token: string): Promise<void> {
    await this.db.query(sql.deleteSession(hashKey(token)));
  }

  private async find(token: string): Promise<SessionRow | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const [row] = await this.db.query<SessionRow>(sql.findLiveSession(hashKey(token)));
    return row;
  }
}

function toView(row: SessionRow): SessionView {
  return {
    tenant: { id: row.tenant_id, slug: row.tenant_slug, name: row.tenant_name },
    key: { id: row.api_key_id, name: row.key_name, scopes: row.scopes },
    expiresAt: row.expires_at.toISOString(),
  };
}
