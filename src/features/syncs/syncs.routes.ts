import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { actorOf, tenantOf } from '../../http/auth.ts';
import { encodeCursor } from '../../http/pagination.ts';
import { errorResponses, Page, PageQuery } from '../../http/schemas.ts';
import { isUuid } from '../../lib/uuid.ts';
import type { FeedFormat } from '../../sync/feed/index.ts';
import { SyncCollectionParams, SyncIdParams, SyncQuery, SyncRunView } from './syncs.schemas.ts';
import type { SyncOrigin, SyncService } from './syncs.service.ts';

const FEED_TYPES: Record<string, FeedFormat> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
};

/** Header by which the CLI (or auto-import) names itself as a run's origin. */
export const ORIGIN_HEADER = 'sync-manager-origin';
export const SOURCE_HEADER = 'sync-manager-source';

/**
 * Sync routes. Feed bodies are never buffered: the content-type parsers of this (encapsulated) plugin
 * hand the raw request stream to the service, which reads it once, straight into COPY. The body limit
 * (config.syncBodyLimit, default 2 GiB) is enforced while streaming.
 */
export const syncRoutes: FastifyPluginAsyncTypebox<{ syncs: SyncService; bodyLimit: number }> = async (
  app,
  { syncs, bodyLimit },
) => {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(Object.keys(FEED_TYPES), { bodyLimit }, (_request, payload, done) =>
    done(null, payload),
  );

  app.post(
    '/v1/collections/:collection/syncs',
    {
      bodyLimit,
      config: { auth: 'write' },
      schema: {
        summary: 'Run a sync from the request body (JSON array, { "records": [...] }, or NDJSON), streamed',
        description:
          'Content-Type application/json (an array, or an object with a `records` array) or application/x-ndjson. ' +
          `The body is streamed, never buffered; limit ${bodyLimit} bytes (SYNC_MANAGER_SYNC_BODY_LIMIT). ` +
          'A feed with any invalid record is refused whole (422 feed_invalid, every reason listed, capped at 100).',
        tags: ['syncs'],
        params: SyncCollectionParams,
        querystring: SyncQuery,
        response: { 200: SyncRunView, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const format = FEED_TYPES[mediaType(request)];
      if (!format)
        throw new AppError(
          'unsupported_media_type',
          'Send the feed as application/json or application/x-ndjson',
        );
      const key = request.headers['idempotency-key'];
      const hasher = typeof key === 'string' && key !== '' ? createHash('sha256') : null;
      if ((declaredLength(request) ?? 0) > bodyLimit) {
        throw new AppError('payload_too_large', `The feed is larger than ${bodyLimit} bytes`);
      }
      const outcome = await syncs.run({
        tenantId: tenantOf(request),
        collection: request.params.collection,
        mode: request.query.mode ?? 'full',
        dryRun: request.query.dryRun ?? false,
        force: request.query.force ?? false,
        invalidRecords: request.query.invalidRecords ?? 'refuse',
        format,
        feed: limited((request.body as Readable | undefined) ?? empty(), bodyLimit, hasher),
        origin: originOf(request),
        ...(hasher && typeof key === 'string'
          ? { idempotency: { key, requestHash: () => hasher.digest('hex') } }
          : {}),
      });
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(200).send(outcome.run);
    },
  );

  app.get(
    '/v1/collections/:collection/syncs',
    {
      config: { auth: 'read' },
      schema: {
        summary: "A collection's sync history, newest first",
        tags: ['syncs'],
        params: SyncCollectionParams,
        querystring: PageQuery,
        response: { 200: Page(SyncRunView), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const { runs, cursorKeys } = await syncs.list(
        tenantOf(request),
        request.params.collection,
        decodeRunCursor(request.query.cursor),
        limit + 1,
      );
      if (runs.length <= limit) return { items: runs, nextCursor: null };
      return { items: runs.slice(0, limit), nextCursor: encodeCursor(cursorKeys[limit - 1]!) };
    },
  );

  app.get(
    '/v1/syncs/:syncId',
    {
      config: { auth: 'read' },
      schema: {
        summary: 'One sync run: mode, counts, timings, errors, origin, its snapshot',
        tags: ['syncs'],
        params: SyncIdParams,
        response: { 200: SyncRunView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => syncs.get(tenantOf(request), request.params.syncId),
  );
};

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function declaredLength(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  return raw === undefined ? undefined : Number(raw);
}

function originOf(request: FastifyRequest): SyncOrigin {
  const kind = request.headers[ORIGIN_HEADER] === 'cli' ? 'cli' : 'api';
  const source = request.headers[SOURCE_HEADER];
  return {
    kind,
    apiKeyId: actorOf(request),
    ...(typeof source === 'string' && source !== '' ? { file: source.slice(0, 512) } : {}),
  };
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A cursor's UTC time to the microsecond, and a real date (no 30 February for the database to refuse). */
function isExactInstant(text: string): boolean {
  if (!INSTANT.test(text)) return false;
  const millis = `${text.slice(0, 23)}Z`;
  const date = new Date(millis);
  return !Number.isNaN(date.getTime()) && date.toISOString() === millis;
}

function decodeRunCursor(cursor: string | undefined): { startedAt: string; id: string } | null {
  if (cursor === undefined) return null;
  try {
    const [value] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string];
    const [startedAt, id] = value.split('|');
    if (startedAt && id && isUuid(id) && isExactInstant(startedAt)) return { startedAt, id };
  } catch {
    // fall through
  }
  throw new AppError('invalid_cursor', 'The cursor is not one this API returned');
}

/** The request stream, counted against the limit and hashed (for Idempotency-Key) as it passes. */
async function* limited(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  hasher: ReturnType<typeof createHash> | null,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > limit) throw new AppError('payload_too_large', `The feed is larger than ${limit} bytes`);
    hasher?.update(chunk);
    yield chunk;
  }
}

async function* empty(): AsyncGenerator<Uint8Array> {}
