import type { FastifyReply, FastifyRequest } from 'fastify';

/** The console's session cookie. HttpOnly: scripts in the page never see it. */
export const SESSION_COOKIE = 'sm_session';

/**
 * A request authenticated by the cookie that changes state must carry this header too. A cross-site
 * page cannot send a custom header without a CORS preflight, which this server does not grant; the
 * cookie's SameSite=Strict is the first wall, this the second.
 */
export const CSRF_HEADER = 'x-sync-manager-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function sessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request may change state on the strength of a cookie alone (it lacks the header). */
export function lacksCsrfHeader(request: FastifyRequest): boolean {
  return !SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== '1';
}

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  maxAgeSeconds: number,
): void {
  reply.header('set-cookie', cookie(request, token, maxAgeSeconds));
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', cookie(request, '', 0));
}

function cookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  // request.protocol honours x-forwarded-proto only when the server trusts its proxy (trustProxy).
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`;
}
