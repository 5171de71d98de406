import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import * as sql from './api-keys.sql.ts';
import { generateKey, hashKey, keyHint, parseKey, safeEqual } from './key-format.ts';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling. A platform principal acting for a tenant (operator header) has every scope there. */
export type Principal =
  | { kind: 'platform'; keyId: string | null }
  | { kind: 'tenant'; tenantId: string; keyId: string | null; scopes: ReadonlySet<Scope> };

export interface ApiKeyView {
  id: string;
  name: string;
  hint: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface KeyRow {
  id: string;
  name: string;
  hint: string;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** last_used_at is written at most this often per key and process, so reads stay reads. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * How long a process trusts a tenant key it looked up, without asking the database again. The lookup
 * was one of the two round trips of a GET (bench/api). A revoke through this process drops the key
 * at once; another server sharing the database stops accepting it within this time (docs/api-keys.md).
 */
export const KEY_CACHE_MS = 2_000;
const KEY_CACHE_MAX = 10_000;

type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

export class ApiKeyService {
  private readonly touchedAt = new Map<string, number>();
  /** Tenant keys looked up lately, by the base64 of their hash. Unknown keys are never cached. */
  private readonly recent = new Map<string, { principal: TenantPrincipal; until: number }>();

  constructor(
    private readonly db: Database,
    /** Extra platform secrets held only in memory (the CLI's and the server's local operator token). */
    private readonly operatorTokens: readonly string[] = [],
    private readonly clock: () => number = Date.now,
  ) {}

  /** The principal for a presented key, or undefined (the caller answers 401 without saying why). */
  async authenticate(key: string): Promise<Principal | undefined> {
    const kind = parseKey(key);
    if (kind === undefined) return undefined;
    const hash = hashKey(key);
    if (kind === 'platform') {
      if (this.operatorTokens.some((token) => safeEqual(hashKey(token), hash))) {
        return { kind: 'platform', keyId: null };
      }
      const [row] = await this.db.query<{ id: string; key_hash: Buffer }>(sql.findPlatformKeyByHash(hash));
      return row && safeEqual(row.key_hash, hash) ? { kind: 'platform', keyId: row.id } : undefined;
    }
    const cacheKey = hash.toString('base64');
    const now = this.clock();
    const hit = this.recent.get(cacheKey);
    if (hit && hit.until > now) {
      this.recordUse(hit.principal.tenantId, hit.principal.keyId!);
      return hit.principal;
    }
    const [row] = await this.db.query<{ id: string; tenant_id: string; scopes: string[]; key_hash: Buffer }>(
      sql.findTenantKeyByHash(hash),
    );
    if (!row || !safeEqual(row.key_hash, hash)) {
      this.recent.delete(cacheKey);
      return undefined;
    }
    this.recordUse(row.tenant_id, row.id);
    const principal: TenantPrincipal = {
      kind: 'tenant',
      tenantId: row.tenant_id,
      keyId: row.id,
      scopes: new Set(row.scopes as Scope[]),
    };
    this.recent.delete(cacheKey);
    if (this.recent.size >= KEY_CACHE_MAX) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(cacheKey, { principal, until: now + KEY_CACHE_MS });
    return principal;
  }

  /** Registers a platform admin key (from init or SYNC_MANAGER_ADMIN_KEY). Idempotent. */
  async addPlatformKey(key: string): Promise<void> {
    if (parseKey(key) !== 'platform') {
      throw new AppError(
        'validation_failed',
        'a platform admin key looks like smp_… (made by `sync-manager init`)',
      );
    }
    await this.db.query(sql.insertPlatformKey(hashKey(key)));
  }

  async createPlatformKey(): Promise<string> {
    const key = generateKey('platform');
    await this.addPlatformKey(key);
    return key;
  }

  /** Creates a tenant key; the secret is in the result and nowhere else, ever. */
  async create(
    tenantId: string,
    input: { name: string; scopes: Scope[] },
    tx?: Queryable,
  ): Promise<ApiKeyView & { key: string }> {
    const key = generateKey('tenant');
    const scopes = [...new Set(input.scopes)];
    const run = async (q: Queryable) => {
      const [row] = await q.query<KeyRow>(
        sql.insertTenantKey(tenantId, input.name, hashKey(key), keyHint(key), scopes),
      );
      return { ...toView(row!), key };
    };
    return tx ? run(tx) : withTenant(this.db, tenantId, run);
  }

  async list(tenantId: string, after: string | null, limit: number): Promise<ApiKeyView[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.query<KeyRow>(sql.listTenantKeys(tenantId, after, limit)),
    );
    return rows.map(toView);
  }

  async revoke(tenantId: string, keyId: string): Promise<void> {
    const rows = await withTenant(this.db, tenantId, (tx) => tx.query(sql.revokeTenantKey(tenantId, keyId)));
    if (rows.length === 0) throw new AppError('api_key_not_found', `No API key ${keyId}`);
    for (const [cacheKey, entry] of this.recent) {
      if (entry.principal.keyId === keyId) this.recent.delete(cacheKey);
    }
  }

  private recordUse(tenantId: string, keyId: string): void {
    const now = Date.now();
    if (now - (this.touchedAt.get(keyId) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.touchedAt.set(keyId, now);
    // Fire and forget: a failed bookkeeping write must not fail the request it belongs to.
    withTenant(this.db, tenantId, (tx) => tx.query(sql.touchTenantKey(tenantId, keyId))).catch(() => {
      this.touchedAt.delete(keyId);
    });
  }
}

function toView(row: KeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    hint: row.hint,
    scopes: row.scopes,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}
