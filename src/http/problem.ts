import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOG, type ErrorCode } from '../errors.ts';

/** Only this file builds error responses: RFC 9457 problem+json with a stable `code`. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  // RFC 9110: a 401 must say which scheme would be accepted.
  if (error.status === 401) reply.header('www-authenticate', 'Bearer');
  if (error.code === 'database_unavailable') reply.header('retry-after', '5');
  return reply.code(error.status).type('application/problem+json').send(problemDocument(error, request.id));
}

function problemDocument(error: AppError, instance: string): Record<string, unknown> {
  return {
    type: `https://sync-manager.dev/problems/${error.code.replaceAll('_', '-')}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    instance,
    ...error.extensions,
  };
}

/**
 * Fastify's `clientErrorHandler`: bytes Node's HTTP parser cannot read as a request (a body without a
 * length, a malformed header line), or a request not received within requestTimeout, are answered with
 * problem+json on the raw socket, which is then closed (as Node and Fastify do by default).
 */
export function clientErrorProblem(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError('body_timeout', 'The request did not arrive in time')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError('validation_failed', 'The request headers are too large')
        : new AppError('validation_failed', 'The request is not valid HTTP');
  const body = JSON.stringify(problemDocument(problem, randomUUID()));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Fastify's own errors (parsing, limits, validation) mapped onto the catalog. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_VALIDATION: 'validation_failed',
};

export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'request';
    return new AppError('validation_failed', `${where}: ${fastifyError.message}`, {
      errors: fastifyError.validation,
    });
  }
  const code = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (code) return new AppError(code, fastifyError.message);
  // secure-json-parse and JSON.parse throw a SyntaxError with status 400 for a malformed body.
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new AppError('invalid_json', error.message);
  }
  if (isDatabaseUnreachable(error)) {
    return new AppError('database_unavailable', 'The database does not answer; try again shortly');
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    const match = Object.entries(ERROR_CATALOG).find(([, entry]) => entry.status === status);
    if (match) return new AppError(match[0] as ErrorCode, fastifyError.message);
  }
  return undefined;
}

/** postgres.js's codes for a connection that could not be made or was lost. */
const LOST_CONNECTION = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * True for a database that cannot be reached or went away: a 503 the client may retry, not a 500.
 * SQLSTATE class 08 is a connection exception; 57P01–57P03 an administrator or crash shutdown.
 */
function isDatabaseUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return LOST_CONNECTION.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code);
}

/**
 * Fastify's `frameworkErrors`: errors raised before routing (a path with malformed percent-encoding such as
 * `%FF`, `%zz` or a trailing `%`; a path parameter over the length limit) answer problem+json too.
 */
export function frameworkProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A path segment is longer than this API accepts'
      : 'The path is not valid: malformed percent-encoding';
  sendProblem(request, reply, new AppError('validation_failed', detail));
}

export function registerErrorHandling(app: FastifyInstance, routePatterns: () => RoutePattern[]): void {
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    if (appError) return sendProblem(request, reply, appError);
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, new AppError('internal_error', 'An unexpected error occurred'));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = routePatterns()
      .filter((route) => route.regex.test(path))
      .flatMap((route) => route.methods);
    if (allowed.length > 0) {
      reply.header('allow', [...new Set(allowed)].join(', '));
      return sendProblem(
        request,
        reply,
        new AppError('method_not_allowed', `${request.method} is not allowed here`),
      );
    }
    return sendProblem(request, reply, new AppError('route_not_found', `No route ${request.method} ${path}`));
  });
}

export interface RoutePattern {
  regex: RegExp;
  methods: string[];
}

/** `/v1/collections/:collection` → a regex matching concrete paths, for the 405 check. */
export function routePattern(url: string, methods: string[]): RoutePattern {
  const source = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return { regex: new RegExp(`^${source}/?$`), methods };
}
