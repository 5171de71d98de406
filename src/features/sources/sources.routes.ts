import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { tenantOf } from '../../http/auth.ts';
import { decodeCursor, toPage } from '../../http/pagination.ts';
import { errorResponses, Page, PageQuery } from '../../http/schemas.ts';
import { SourceBody, SourceParams, SourceRunView, SourceView } from './sources.schemas.ts';
import { type SourceService, sourceCursorKey } from './sources.service.ts';

export const sourceRoutes: FastifyPluginAsyncTypebox<{ sources: SourceService }> = async (
  app,
  { sources },
) => {
  app.get(
    '/v1/sources',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listSources',
        summary: "List the tenant's scheduled sources",
        description: 'Every collection that has a scheduled feed URL, with its last run.',
        tags: ['sources'],
        querystring: PageQuery,
        response: { 200: Page(SourceView), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await sources.list(tenantOf(request), decodeCursor(request.query.cursor), limit + 1);
      return toPage(rows, limit, sourceCursorKey);
    },
  );

  app.put(
    '/v1/collections/:collection/source',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'putSource',
        description:
          'The URL is fetched on the cron schedule with conditional GET; a changed feed is synced. ' +
          'Private and loopback addresses are refused unless the server allows them.',
        summary:
          "Set the collection's scheduled feed URL (fetched with conditional GET and synced on schedule)",
        tags: ['sources'],
        params: SourceParams,
        body: SourceBody,
        response: { 200: SourceView, 201: SourceView, ...errorResponses(400, 401, 403, 404, 415, 422) },
      },
    },
    async (request, reply) => {
      const { url, schedule, mode, headers } = request.body;
      const result = await sources.put(tenantOf(request), request.params.collection, {
        url,
        schedule,
        mode: mode ?? 'full',
        headers: headers ?? {},
      });
      return reply.code(result.created ? 201 : 200).send(result.source);
    },
  );

  app.get(
    '/v1/collections/:collection/source',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'getSource',
        summary: "The collection's scheduled source and its last run",
        description: 'The URL, schedule, mode and the outcome of the last fetch.',
        tags: ['sources'],
        params: SourceParams,
        response: { 200: SourceView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => sources.get(tenantOf(request), request.params.collection),
  );

  app.delete(
    '/v1/collections/:collection/source',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'deleteSource',
        summary: "Remove the collection's scheduled source (its run history goes with it)",
        description: 'The collection and its records stay; only the schedule goes.',
        tags: ['sources'],
        params: SourceParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await sources.delete(tenantOf(request), request.params.collection);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/collections/:collection/source/run',
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'runSource',
        summary: 'Fetch the source at the next scheduler tick instead of waiting for its schedule',
        description: 'Accepted, not done: follow the outcome in the source runs.',
        tags: ['sources'],
        params: SourceParams,
        response: { 202: SourceView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await sources.runNow(tenantOf(request), request.params.collection)),
  );

  app.get(
    '/v1/collections/:collection/source/runs',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listSourceRuns',
        summary: 'Scheduled fetches, newest first: synced, unchanged (304) or failed with the reason',
        description: 'Each fetch of the feed URL, with the sync it started if the feed changed.',
        tags: ['sources'],
        params: SourceParams,
        querystring: PageQuery,
        response: { 200: Page(SourceRunView), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await sources.runs(
        tenantOf(request),
        request.params.collection,
        decodeCursor(request.query.cursor),
        limit + 1,
      );
      return toPage(rows, limit, (run) => run.id);
    },
  );
};
