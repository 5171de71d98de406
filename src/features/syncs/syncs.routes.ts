import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { actorOf, tenantOf } from '../../http/auth.ts';
import { encodeCursor } from '../../http/pagination.ts';
import { errorResponses, Page, withHeaders } from '../../http/schemas.ts';
import { isUuid } from '../../lib/uuid.ts';
import type { FeedFormat } from '../../sync/feed/index.ts';
import { type SpooledBody, spoolBody } from './body-spool.ts';
import { acceptedRun } from './sync-outcome.ts';
import {
  SyncCollectionParams,
  SyncFeedBody,
  SyncHeaders,
  SyncIdParams,
  SyncListQuery,
  SyncQuery,
  SyncRunView,
} from './syncs.schemas.ts';
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
export const syncRoutes: FastifyPluginAsyncTypebox<{
  syncs: SyncService;
  bodyLimit: number;
  intake: BodyIntake;
}> = async (app, { syncs, bodyLimit, intake }) => {
  const running = new TenantSlots(intake.syncsPerTenant);
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
        operationId: 'runSync',
        summary: 'Run a sync from the request body (JSON array, { "records": [...] }, or NDJSON), streamed',
        description:
          'Content-Type application/json (an array, or an object with a `records` array) or application/x-ndjson. ' +
          // The limit is named, not given: the document stays the same whatever the configuration.
          'The body is streamed, never buffered, up to SYNC_MANAGER_SYNC_BODY_LIMIT bytes (2 GiB by default). ' +
          'A feed with any invalid record is refused whole (422 feed_invalid, every reason listed, capped at 100). ' +
          'mode=full removes what the feed lacks (per the delete policy, within the delete guard unless force=true); ' +
          'mode=partial only upserts. dryRun=true returns the plan and changes nothing. ' +
          'A second sync of the collection while one runs is 409 sync_in_progress.',
        tags: ['syncs'],
        params: SyncCollectionParams,
        querystring: SyncQuery,
        headers: SyncHeaders,
        documentedBody: SyncFeedBody,
        response: {
          200: withHeaders(SyncRunView, 'The run: succeeded, planned (dry run) or failed, with its counts', {
            'Idempotent-Replayed': {
              description: '`true` when an earlier run with this Idempotency-Key answers',
            },
          }),
          ...errorResponses(400, 401, 403, 404, 408, 409, 413, 415, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const format = FEED_TYPES[mediaType(request)];
      if (!format)
        throw new AppError(
          'unsupported_media_type',
          'Send the feed as application/json or application/x-ndjson',
        );
      const key = idempotencyKeyOf(request);
      if ((declaredLength(request) ?? 0) > bodyLimit) {
        throw new AppError('payload_too_large', `The feed is larger than ${bodyLimit} bytes`);
      }
      const tenantId = tenantOf(request);
      const release = running.take(tenantId);
      try {
        const body = (request.body as Readable | undefined) ?? Readable.from([]);
        const hasher = key === undefined ? null : createHash('sha256');
        let feed: AsyncIterable<Uint8Array>;
        let spooled: SpooledBody | null = null;
        if (intake.spool) {
          try {
            spooled = await spoolBody(body, {
              dir: intake.dir,
              limit: bodyLimit,
              idleMs: intake.idleMs,
              hasher,
            });
          } catch (error) {
            // The rest of a refused body is never read: close the connection rather than drain it.
            reply.header('connection', 'close');
            throw error;
          }
          feed = spooled.read();
        } else {
          feed = limited(body, bodyLimit, hasher);
        }
        try {
          const outcome = await syncs.run({
            tenantId,
            collection: request.params.collection,
            mode: request.query.mode ?? 'full',
            ...(request.query.source !== undefined ? { source: request.query.source } : {}),
            ...(spooled ? { feedBytes: spooled.bytes } : {}),
            dryRun: request.query.dryRun ?? false,
            force: request.query.force ?? false,
            invalidRecords: request.query.invalidRecords ?? 'refuse',
            format,
            feed,
            origin: originOf(request),
            ...(hasher && key !== undefined ? { idempotency: { key, requestHash: digestOnce(hasher) } } : {}),
          });
          // A replayed held run answers its 409 again, marked as a replay like any other.
          if (outcome.kind === 'replayed') reply.header('idempotent-replayed', 'true');
          // Returned, not sent: the answer goes out after the spooled file is removed (finally). A held
          // run's 409 is thrown, for the error handler.
          return acceptedRun(outcome);
        } finally {
          await spooled?.remove();
        }
      } finally {
        release();
      }
    },
  );

  app.get(
    '/v1/collections/:collection/syncs',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listSyncs',
        summary: "A collection's sync history, newest first",
        description:
          'Every run of the collection, newest first: status, counts, timings and origin. `status=held` lists the runs waiting for approval.',
        tags: ['syncs'],
        params: SyncCollectionParams,
        querystring: SyncListQuery,
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
        request.query.status ?? null,
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
        operationId: 'getSync',
        summary: 'One sync run: mode, counts, timings, errors, origin, its snapshot',
        description:
          'A run with its counts, timings, errors (for a refused feed) and the snapshot taken before it.',
        tags: ['syncs'],
        params: SyncIdParams,
        response: { 200: SyncRunView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => syncs.get(tenantOf(request), request.params.syncId),
  );
};

/** How sync bodies are received (docs/sync.md, "Body intake"). */
export interface BodyIntake {
  /** Receive the whole body into a file before the sync starts (off only in the CLI's own process). */
  spool: boolean;
  dir: string;
  idleMs: number;
  syncsPerTenant: number;
}

/** Longest Idempotency-Key accepted: keys are stored as given, in an index. */
export const IDEMPOTENCY_KEY_MAX = 255;

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') return undefined;
  if (key.length > IDEMPOTENCY_KEY_MAX || !/^[\x21-\x7e]+$/.test(key)) {
    throw new AppError(
      'validation_failed',
      `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX} visible ASCII characters`,
    );
  }
  return key;
}

function digestOnce(hasher: Hash): () => string {
  let digest: string | undefined;
  return () => {
    digest ??= hasher.digest('hex');
    return digest;
  };
}

/** Counts each tenant's syncs in this process; past the cap a new one is refused with 429. */
class TenantSlots {
  private readonly counts = new Map<string, number>();

  constructor(private readonly perTenant: number) {}

  take(tenantId: string): () => void {
    const count = this.counts.get(tenantId) ?? 0;
    if (count >= this.perTenant) {
      throw new AppError(
        'too_many_syncs',
        `This tenant already has ${count} syncs uploading or running; retry when one has finished`,
      );
    }
    this.counts.set(tenantId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(tenantId) ?? 1) - 1;
      if (left === 0) this.counts.delete(tenantId);
      else this.counts.set(tenantId, left);
    };
  }
}

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
  hasher: Hash | null,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > limit) throw new AppError('payload_too_large', `The feed is larger than ${limit} bytes`);
    hasher?.update(chunk);
    yield chunk;
  }
}
