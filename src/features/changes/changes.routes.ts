import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { tenantOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { ChangesPage, ChangesQuery, CollectionChangesParams } from './changes.schemas.ts';
import { type ChangeFeed, entryText, type FeedPage } from './changes.service.ts';

/** Changes per statement when streaming NDJSON. */
const STREAM_BATCH = 20_000;

type Query = { cursor?: string; limit?: number; include?: 'data'; wait?: number };

export const changeRoutes: FastifyPluginAsyncTypebox<{ feed: ChangeFeed }> = async (app, { feed }) => {
  const description =
    'Every change of an effective value after `cursor`, in commit order (docs/changes.md): a JSON page, ' +
    'or with `Accept: application/x-ndjson` one change a line until caught up. `wait` long-polls. ' +
    "A cursor older than retention answers 410 cursor_expired: export and follow from the export's cursor.";
  app.get(
    '/v1/changes',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listChanges',
        summary: "The tenant's change feed",
        description,
        tags: ['changes'],
        querystring: ChangesQuery,
        response: { 200: ChangesPage, ...errorResponses(400, 401, 403, 410) },
      },
    },
    (request, reply) => serve(request, reply, null, request.query),
  );
  app.get(
    '/v1/collections/:collection/changes',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listCollectionChanges',
        summary: "A collection's change feed",
        description,
        tags: ['changes'],
        params: CollectionChangesParams,
        querystring: ChangesQuery,
        response: { 200: ChangesPage, ...errorResponses(400, 401, 403, 404, 410) },
      },
    },
    (request, reply) => serve(request, reply, request.params.collection, request.query),
  );

  async function serve(
    request: FastifyRequest,
    reply: FastifyReply,
    collection: string | null,
    query: Query,
  ) {
    const tenantId = tenantOf(request);
    const includeData = query.include === 'data';
    const aborted = new AbortController();
    reply.raw.once('close', () => aborted.abort());
    const waitMs = (query.wait ?? 0) * 1000;
    if (/application\/(x-)?ndjson/i.test(request.headers.accept ?? '')) {
      // The first page before any byte: a bad or expired cursor is still a problem document.
      const first = await feed.read(tenantId, collection, query.cursor, {
        limit: STREAM_BATCH,
        withData: includeData,
        waitMs,
        signal: aborted.signal,
      });
      // Below the first read's xmin: the stream ends where the feed stood when it began. The next
      // page is read while this one is written, so the database and the writing overlap.
      const after = (page: FeedPage) =>
        page.hasMore && !aborted.signal.aborted
          ? feed.read(tenantId, collection, page.nextCursor, {
              limit: STREAM_BATCH,
              upTo: first.upTo,
              withData: includeData,
            })
          : null;
      async function* lines(): AsyncGenerator<string> {
        let page: FeedPage | null = first;
        while (page) {
          const next = after(page);
          next?.catch(() => {}); // awaited below; a stream closed meanwhile drops it
          if (page.entries.length > 0) {
            yield `${page.entries.map((entry) => entryText(entry, includeData)).join('\n')}\n`;
          }
          page = await next;
        }
      }
      reply.type('application/x-ndjson');
      return reply.send(Readable.from(lines(), { objectMode: false }));
    }
    const page = await feed.read(tenantId, collection, query.cursor, {
      limit: query.limit ?? 100,
      withData: includeData,
      waitMs,
      signal: aborted.signal,
    });
    const items = page.entries.map((entry) => entryText(entry, includeData)).join(',');
    const text = `{"items":[${items}],"nextCursor":${JSON.stringify(page.nextCursor)},"hasMore":${page.hasMore}}`;
    return reply.type('application/json; charset=utf-8').send(text);
  }
};
