import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { tenantOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import {
  CollectionParams,
  NamedSourceBody,
  NamedSourceParams,
  NamedSourceView,
} from './named-sources.schemas.ts';
import type { NamedSourceService } from './named-sources.service.ts';

export const namedSourceRoutes: FastifyPluginAsyncTypebox<{ namedSources: NamedSourceService }> = async (
  app,
  { namedSources },
) => {
  app.get(
    '/v1/collections/:collection/sources',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listCollectionSources',
        summary: "The collection's named sources: the fields each owns, priorities, schedules",
        description: 'Always includes `default` (owning every field at priority 0 unless stored otherwise).',
        tags: ['sources'],
        params: CollectionParams,
        response: {
          200: Type.Object({ items: Type.Array(NamedSourceView) }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => ({ items: await namedSources.list(tenantOf(request), request.params.collection) }),
  );

  app.get(
    '/v1/collections/:collection/sources/:name',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'getCollectionSource',
        summary: 'One named source of the collection',
        description: 'Its fields, priority, ignoreEmpty and schedule (header names only).',
        tags: ['sources'],
        params: NamedSourceParams,
        response: { 200: NamedSourceView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => namedSources.get(tenantOf(request), request.params.collection, request.params.name),
  );

  app.put(
    '/v1/collections/:collection/sources/:name',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'putCollectionSource',
        summary: 'Create or replace a named source: the fields it owns, its priority, optionally a schedule',
        description:
          'A sync names its source (`?source=`); it writes only the fields the source owns. `url` and ' +
          '`schedule` go together (a scheduled fetch, as …/source); without them the source is fed by pushed syncs.',
        tags: ['sources'],
        params: NamedSourceParams,
        body: NamedSourceBody,
        response: {
          200: NamedSourceView,
          201: NamedSourceView,
          ...errorResponses(400, 401, 403, 404, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const { fields, priority, ignoreEmpty, url, schedule, mode, headers } = request.body;
      if ((url === undefined) !== (schedule === undefined)) {
        throw new AppError('validation_failed', 'url and schedule go together: give both or neither');
      }
      const result = await namedSources.put(
        tenantOf(request),
        request.params.collection,
        request.params.name,
        {
          fields: fields ?? ['/'],
          priority: priority ?? 0,
          ignoreEmpty: ignoreEmpty ?? false,
          schedule:
            url !== undefined && schedule !== undefined
              ? { url, schedule, mode: mode ?? 'full', headers: headers ?? {} }
              : null,
        },
      );
      return reply.code(result.created ? 201 : 200).send(result.source);
    },
  );

  app.delete(
    '/v1/collections/:collection/sources/:name',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'deleteCollectionSource',
        summary: 'Remove a named source (the values it gave records stay until they are next synced)',
        description: 'Its settings and schedule go; `default` then owns every field again if it was stored.',
        tags: ['sources'],
        params: NamedSourceParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await namedSources.delete(tenantOf(request), request.params.collection, request.params.name);
      return reply.code(204).send(null);
    },
  );
};
