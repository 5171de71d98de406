import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf, tenantOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { SyncIdParams } from '../syncs/syncs.schemas.ts';
import { RevertQuery, RevertResult } from './revert.schemas.ts';
import type { RevertService } from './revert.service.ts';

export const revertRoutes: FastifyPluginAsyncTypebox<{ reverts: RevertService }> = async (
  app,
  { reverts },
) => {
  app.post(
    '/v1/syncs/:syncId/revert',
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'revertSync',
        summary: 'Undo what one run changed, field by field, keeping what later changes rewrote',
        description:
          'Values, creations, deletions and revivals of the run go back, except fields a later change ' +
          '(a run, a manual edit, a restore, a revert) rewrote: those stay and are listed with what kept them. ' +
          'All or nothing, one change of origin `revert`, itself a run that can be reverted (which re-applies). ' +
          'dryRun=true reports the same and writes nothing. A run older than the history retention: 410.',
        tags: ['syncs'],
        params: SyncIdParams,
        querystring: RevertQuery,
        response: { 200: RevertResult, ...errorResponses(400, 401, 403, 404, 409, 410) },
      },
    },
    async (request) =>
      reverts.revert(tenantOf(request), request.params.syncId, {
        dryRun: request.query.dryRun ?? false,
        apiKeyId: actorOf(request),
      }),
  );
};
