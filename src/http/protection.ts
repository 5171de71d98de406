import { createHash, randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';

/** An incoming X-Request-Id is kept when it is this short and plain (it ends up in logs and headers). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** For Fastify's genReqId: the caller's X-Request-Id when it is safe to echo, a new UUID otherwise. */
export function requestIdOf(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The API's own pages answer JSON, so nothing may run or be framed; the same-origin rules still let a
 * Vite-built single-page app (scripts and stylesheets from 'self') work. A route with other needs (the
 * docs below, a console) sets its own header.
 */
const API_CSP = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
};

/** Swagger UI (/docs) sets element styles inline, which a strict style-src would block. */
export const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; form-action 'self'; " +
  "frame-ancestors 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; " +
  "script-src-attr 'none'; style-src 'self' 'unsafe-inline'";

/** CORS for the configured origins, security headers, and per-key rate limits. */
export async function registerProtection(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(cors, {
    // An empty list answers preflights without any Access-Control-Allow-* header: the browser refuses.
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: [
      'ETag',
      'Location',
      'X-Request-Id',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ],
    maxAge: 600,
  });
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    // HSTS is for the TLS terminator (the proxy) to send: it knows the domain; this server speaks HTTP.
    strictTransportSecurity: false,
  });
  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      // A route hook: it runs after the auth hook, so the principal is known.
      hook: 'onRequest',
      keyGenerator: rateLimitKey,
      // The local CLI and the server's own operator token are the operator at the console.
      allowList: (request) => request.principal?.kind === 'platform' && request.principal.keyId === null,
      enableDraftSpec: true,
      errorResponseBuilder: (_request, context) =>
        new AppError(
          'rate_limited',
          `More than ${context.max} requests in a minute; retry in ${Math.ceil(context.ttl / 1000)} s`,
        ),
    });
  }
}

/** The API key's id; without a known key, a hash of the bearer token; without a token, the address. */
function rateLimitKey(request: FastifyRequest): string {
  const keyId = request.principal?.keyId;
  if (keyId) return `key:${keyId}`;
  const header = request.headers.authorization;
  if (header) return `token:${createHash('sha256').update(header).digest('base64url')}`;
  return `ip:${request.ip}`;
}
