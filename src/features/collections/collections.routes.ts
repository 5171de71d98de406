import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { tenantOf } from '../../http/auth.ts';
import { decodeCursor, toPage } from '../../http/pagination.ts';
import { errorResponses, Page, PageQuery } from '../../http/schemas.ts';
import { CollectionParams, CollectionSettingsBody, CollectionView } from './collections.schemas.ts';
import type { CollectionService } from './collections.service.ts';

export const collectionRoutes: FastifyPluginAsyncTypebox<{ collections: CollectionService }> = async (
  app,
  { collections },
) => {
  app.get(
    '/v1/collections',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listCollections',
        summary: 'List collections with their counts',
        description: "The tenant's collections in name order, each with its settings and counts.",
        tags: ['collections'],
        querystring: PageQuery,
        response: { 200: Page(CollectionView), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await collections.list(tenantOf(request), decodeCursor(request.query.cursor), limit + 1);
      return toPage(rows, limit, (collection) => collection.name);
    },
  );

  app.put(
    '/v1/collections/:collection',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'putCollection',
        summary: 'Create a collection or replace its settings (omitted settings take their defaults)',
        description:
          'Settings: idField (default `id`), deletePolicy (`delete` or `keep`), conflictPolicy ' +
          '(`keep-manual` or `take-source`), maxDeleteRatio (the delete guard, default 0.5).',
        tags: ['collections'],
        params: CollectionParams,
        body: CollectionSettingsBody,
        response: {
          200: CollectionView,
          201: CollectionView,
          ...errorResponses(400, 401, 403, 409, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const result = await collections.put(tenantOf(request), request.params.collection, request.body);
      return reply.code(result.created ? 201 : 200).send(result.collection);
    },
  );

  app.get(
    '/v1/collections/:collection',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'getCollection',
        summary: 'Read settings and counts (records, overrides, open conflicts, last sync)',
        description:
          'The settings, the counts of records, overridden records and open conflicts, and the last sync.',
        tags: ['collections'],
        params: CollectionParams,
        response: { 200: CollectionView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => collections.get(tenantOf(request), request.params.collection),
  );

  app.delete(
    '/v1/collections/:collection',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'deleteCollection',
        summary: 'Delete a collection with its records and history',
        description: 'Irreversible: snapshots do not bring a deleted collection back.',
        tags: ['collections'],
        params: CollectionParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await collections.delete(tenantOf(request), request.params.collection);
      return reply.code(204).send(null);
    },
  );
};
