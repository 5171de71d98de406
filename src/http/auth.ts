import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { ApiKeyService, Principal, Scope } from '../features/api-keys/api-keys.service.ts';
import { lacksCsrfHeader, sessionToken } from '../features/console/session-cookie.ts';
import type { SessionService } from '../features/console/sessions.service.ts';
import type { TenantService } from '../features/tenants/tenants.service.ts';

/** What a route needs: nothing, the platform admin, or a tenant key with this scope. */
export type RouteAuth = 'none' | 'platform' | Scope;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** The header with which the platform admin (or the local CLI) acts inside one tenant. */
export const TENANT_HEADER = 'sync-manager-tenant';

/**
 * Authenticates on onRequest, before any body is read, so a 2 GB upload without a key is refused at
 * once. Every 401 says the same thing, whichever check failed.
 */
export function registerAuth(
  app: FastifyInstance,
  keys: ApiKeyService,
  tenants: TenantService,
  sessions?: SessionService,
): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const needed = request.routeOptions.config.auth ?? 'none';
    if (needed === 'none') return;
    const principal = await authenticate(request, keys, sessions);
    if (!principal)
      throw new AppError('unauthorized', 'A valid API key is required: Authorization: Bearer <key>');
    request.principal = await actingPrincipal(request, principal, tenants);
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
  });
}

async function authenticate(
  request: FastifyRequest,
  keys: ApiKeyService,
  sessions: SessionService | undefined,
): Promise<Principal | undefined> {
  const header = request.headers.authorization;
  if (!header) return sessions ? sessionPrincipal(request, sessions) : undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? keys.authenticate(match[1]!) : undefined;
}

/** The console's cookie authenticates like the key that opened the session, with its scopes. */
async function sessionPrincipal(request: FastifyRequest, sessions: SessionService) {
  const token = sessionToken(request);
  if (token === undefined) return undefined;
  const principal = await sessions.principal(token);
  if (principal && lacksCsrfHeader(request)) {
    throw new AppError(
      'csrf_header_missing',
      'A change made with the console cookie needs the header x-sync-manager-csrf: 1',
    );
  }
  return principal;
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
