import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkingKey, type KeyToCheck } from '../db/tenant-scope.ts';
import { AppError } from '../errors.ts';
import type { ApiKeyService, Principal, Scope } from '../features/api-keys/api-keys.service.ts';
import type { TenantService } from '../features/tenants/tenants.service.ts';

/** What a route needs: nothing, the platform admin, or a tenant key with this scope. */
export type RouteAuth = 'none' | 'platform' | Scope;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
    /** Set when the key came from the per-process cache: still to be confirmed in the database. */
    keyToCheck: KeyToCheck | undefined;
  }
}

const UNAUTHORIZED = 'A valid API key is required: Authorization: Bearer <key>';

/** The header with which the platform admin (or the local CLI) acts inside one tenant. */
export const TENANT_HEADER = 'sync-manager-tenant';

/**
 * Authenticates on onRequest, before any body is read, so a 2 GB upload without a key is refused at
 * once. Every 401 says the same thing, whichever check failed.
 */
export function registerAuth(app: FastifyInstance, keys: ApiKeyService, tenants: TenantService): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('keyToCheck', undefined);
  app.addHook('onRequest', async (request) => authorize(request, keys, tenants));
  // A key from the cache is confirmed in the database before the handler runs anything for it. A read
  // (GET, HEAD: no side effects) has it confirmed by its tenant transactions, in their role switch, at
  // no extra round trip: the handler runs with the key in its async context. Any other method is
  // confirmed here, so that no write ever depends on that context reaching a callback.
  app.addHook('preHandler', (request, _reply, done) => {
    const key = request.keyToCheck;
    if (!key) return done();
    if (request.method === 'GET' || request.method === 'HEAD') return checkingKey(key, done);
    keys.isLive(key.tenantId, key.keyId).then((live) => {
      key.checked = true;
      key.revoked = !live;
      done(live ? undefined : new AppError('unauthorized', UNAUTHORIZED));
    }, done);
  });
  // A cached key that no tenant transaction confirmed (say, a request refused by validation) is
  // confirmed here, before anything is answered for it.
  app.addHook('onSend', async (request) => {
    const key = request.keyToCheck;
    if (!key) return;
    if (!key.checked) {
      key.checked = true;
      key.revoked = !(await keys.isLive(key.tenantId, key.keyId));
      if (key.revoked) {
        keys.forget(key.keyId);
        throw new AppError('unauthorized', UNAUTHORIZED);
      }
    } else if (key.revoked) {
      keys.forget(key.keyId);
    }
  });
}

async function authorize(request: FastifyRequest, keys: ApiKeyService, tenants: TenantService) {
  const needed = request.routeOptions.config.auth ?? 'none';
  if (needed === 'none') return;
  const found = await authenticate(request, keys);
  if (!found) throw new AppError('unauthorized', UNAUTHORIZED);
  request.principal = await actingPrincipal(request, found.principal, tenants);
  if (found.cached && found.principal.kind === 'tenant') {
    const { tenantId, keyId } = found.principal;
    request.keyToCheck = { tenantId, keyId: keyId!, checked: false, revoked: false };
  }
  if (needed === 'platform') {
    if (request.principal.kind !== 'platform')
      throw new AppError('forbidden', 'This route needs the platform admin key');
    return;
  }
  if (request.principal.kind !== 'tenant') {
    throw new AppError('forbidden', `Tenant routes need a tenant key, or the ${TENANT_HEADER} header`);
  }
  if (!request.principal.scopes.has(needed)) {
    throw new AppError('forbidden', `This operation needs the "${needed}" scope`);
  }
}

async function authenticate(request: FastifyRequest, keys: ApiKeyService) {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? keys.authenticateCached(match[1]!) : undefined;
}

async function actingPrincipal(request: FastifyRequest, principal: Principal, tenants: TenantService) {
  const wanted = request.headers[TENANT_HEADER];
  if (principal.kind !== 'platform' || typeof wanted !== 'string' || wanted === '') return principal;
  const tenant = await tenants.find(wanted);
  if (!tenant) throw new AppError('tenant_not_found', `No tenant "${wanted}"`);
  const scopes: ReadonlySet<Scope> = new Set(['read', 'write', 'admin']);
  return { kind: 'tenant', tenantId: tenant.id, keyId: principal.keyId, scopes } satisfies Principal;
}

/** The calling tenant's id; only for routes whose auth is a scope (the hook guarantees a tenant). */
export function tenantOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal?.kind !== 'tenant') throw new AppError('forbidden');
  return principal.tenantId;
}

/** The key id to record as the author of a change (null for the local operator). */
export function actorOf(request: FastifyRequest): string | null {
  return request.principal?.keyId ?? null;
}
