import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyInstance } from 'fastify';
import { type Config, serverFile } from '../config.ts';
import { dataDirHolder } from '../db/data-dir-lock.ts';
import type { Database } from '../db/database.ts';
import { migrate, pendingMigrations } from '../db/migrate.ts';
import { openDatabase } from '../db/open.ts';
import { AppError, type ErrorCode } from '../errors.ts';
import { generateKey } from '../features/api-keys/key-format.ts';
import { TENANT_HEADER } from '../http/auth.ts';

/**
 * The CLI is a thin adapter over the HTTP API: every command is a request. When a server holds the
 * embedded data folder, requests go to it (with the operator token it left in the folder); otherwise
 * the CLI opens the database itself and serves the request in-process. Either way the same routes,
 * validation and errors apply.
 */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  tenant?: string;
  body?: unknown;
  /** A stream body (sync feeds), sent as is with this content type. */
  stream?: { body: Readable; contentType: string };
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | number | string[] | undefined>;
  body: string;
  json<T = unknown>(): T;
}

/** An answer whose body is read as it arrives (exports), not held whole. */
export interface ApiStreamResponse {
  status: number;
  headers: Record<string, string | number | string[] | undefined>;
  body: Readable;
}

export interface ApiClient {
  request(request: ApiRequest): Promise<ApiResponse>;
  /** Like request, but the body streams; a problem+json answer becomes a thrown CliApiError. */
  stream(request: ApiRequest): Promise<ApiStreamResponse>;
  /** Like request, but a problem+json answer becomes a thrown CliApiError. */
  call<T = unknown>(request: ApiRequest): Promise<T>;
  /** Like call, with the answer's headers (an ETag) too. */
  exchange<T = unknown>(request: ApiRequest): Promise<{ body: T; headers: ApiResponse['headers'] }>;
  close(): Promise<void>;
  /** Where requests go: 'server at http://…' or 'embedded database …'. */
  readonly target: string;
}

export class CliApiError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode | string,
    readonly status: number,
    readonly problem: Record<string, unknown>,
  ) {
    super(message);
  }
}

export async function openClient(config: Config): Promise<ApiClient> {
  if (!config.databaseUrl && dataDirHolder(config.dataDir)) {
    const server = readServerFile(config);
    if (server) return remoteClient(server.url, server.token);
  }
  const db = await openDatabase(config, `sync-manager ${process.argv.slice(2, 4).join(' ')}`);
  try {
    await ensureSchema(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  const token = generateKey('platform');
  // Loaded here, not at the top: a command that talks to a running server (or only prints its help)
  // then never loads the server's modules, most of what a CLI start costs after opening the database.
  const { buildApp } = await import('../app.ts');
  // The sync body limit guards a server from what clients send it; here the operator syncs a local file
  // or stream in their own process, which the feed reader streams whatever its size.
  const local = { ...config, syncBodyLimit: Number.MAX_SAFE_INTEGER };
  const app = await buildApp({
    config: local,
    db,
    operatorTokens: [token],
    logRequests: false,
    spoolSyncBodies: false,
  });
  await app.ready();
  return inProcessClient(app, db, token);
}

async function ensureSchema(db: Database): Promise<void> {
  if (db.kind === 'pglite') await migrate(db);
  else if ((await pendingMigrations(db)).length > 0) {
    throw new AppError(
      'service_unavailable',
      'the database schema is not up to date: run `sync-manager migrate`',
    );
  }
}

function readServerFile(config: Config): { url: string; token: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(serverFile(config), 'utf8')) as { url?: string; token?: string };
    return parsed.url && parsed.token ? { url: parsed.url, token: parsed.token } : undefined;
  } catch {
    return undefined;
  }
}

function headersFor(request: ApiRequest, token: string): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...request.headers };
  if (request.tenant) headers[TENANT_HEADER] = request.tenant;
  if (request.stream) headers['content-type'] = request.stream.contentType;
  else if (request.body !== undefined) headers['content-type'] ??= 'application/json';
  return headers;
}

function withCall(client: Omit<ApiClient, 'call' | 'exchange'>): ApiClient {
  const exchange = async <T>(request: ApiRequest) => {
    const response = await client.request(request);
    if (response.status >= 400) throw problemError(response);
    return { body: (response.body === '' ? undefined : response.json()) as T, headers: response.headers };
  };
  return {
    exchange,
    ...client,
    async stream(request: ApiRequest): Promise<ApiStreamResponse> {
      const response = await client.stream(request);
      if (response.status < 400) return response;
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
      const body = Buffer.concat(chunks).toString('utf8');
      throw problemError({ ...response, body, json: () => JSON.parse(body) });
    },
    async call<T>(request: ApiRequest): Promise<T> {
      return (await exchange<T>(request)).body;
    },
  };
}

function problemError(response: ApiResponse): CliApiError {
  let problem: Record<string, unknown> = {};
  try {
    problem = response.json();
  } catch {
    // not JSON: keep the raw text as the message
  }
  const detail =
    typeof problem.detail === 'string' ? problem.detail : response.body || `HTTP ${response.status}`;
  return new CliApiError(detail, String(problem.code ?? response.status), response.status, problem);
}

function inProcessClient(app: FastifyInstance, db: Database, token: string): ApiClient {
  return withCall({
    target: `embedded database (${db.kind})`,
    async request(request) {
      const response = await app.inject({
        method: request.method,
        url: request.path,
        headers: headersFor(request, token),
        payload: request.stream
          ? request.stream.body
          : request.body === undefined
            ? undefined
            : JSON.stringify(request.body),
      });
      return {
        status: response.statusCode,
        headers: response.headers,
        body: response.body,
        json: () => response.json(),
      };
    },
    async stream(request) {
      const response = await app.inject({
        method: request.method,
        url: request.path,
        headers: headersFor(request, token),
        payloadAsStream: true,
      });
      return { status: response.statusCode, headers: response.headers, body: response.stream() };
    },
    async close() {
      await app.close();
      await db.close();
    },
  });
}

function remoteClient(baseUrl: string, token: string): ApiClient {
  return withCall({
    target: `server at ${baseUrl}`,
    async request(request) {
      const init: RequestInit & { duplex?: 'half' } = {
        method: request.method,
        headers: headersFor(request, token),
      };
      if (request.stream) {
        init.body = request.stream.body as unknown as ReadableStream;
        init.duplex = 'half';
      } else if (request.body !== undefined) init.body = JSON.stringify(request.body);
      const response = await fetch(baseUrl + request.path, init);
      const body = await response.text();
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body,
        json: () => JSON.parse(body),
      };
    },
    async stream(request) {
      const response = await fetch(baseUrl + request.path, {
        method: request.method,
        headers: headersFor(request, token),
      });
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body: response.body
          ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
          : Readable.from([]),
      };
    },
    async close() {},
  });
}
