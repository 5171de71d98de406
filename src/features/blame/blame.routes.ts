import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { tenantOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { RecordParams } from '../records/records.schemas.ts';
import type { BlameService } from './blame.service.ts';

const SetBy = Type.Object(
  {
    kind: Type.String({
      description: 'source (a sync) | api (an edit with an API key) | restore | another change kind',
    }),
    source: Type.Optional(Type.String({ description: 'the named source whose value this is' })),
    syncRunId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    apiKeyId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    snapshotId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: false },
);

const BlameView = Type.Object({
  id: Type.String(),
  leaves: Type.Array(
    Type.Object({
      path: Type.String({ description: 'JSON Pointer of a leaf (a value that is not an object)' }),
      value: Type.Unknown(),
      setBy: SetBy,
      at: Type.Union([Type.String(), Type.Null()]),
      changeId: Type.String(),
      version: Type.Integer(),
      complete: Type.Boolean({
        description:
          'false when the leaf had this value already in the oldest version read (500): it was set earlier',
      }),
    }),
  ),
});

export const blameRoutes: FastifyPluginAsyncTypebox<{ blame: BlameService }> = async (app, { blame }) => {
  app.get(
    '/v1/collections/:collection/records/:id/blame',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'blameRecord',
        summary: 'Who set each field of a record, and when: a source and its sync run, an API key, a restore',
        description:
          'For every leaf of the effective value: its value, the change that set it (the oldest version, ' +
          'walking back from now, in which it already had that value) and who made that change.',
        tags: ['records'],
        params: RecordParams,
        response: { 200: BlameView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => blame.blame(tenantOf(request), request.params.collection, request.params.id),
  );
};
