import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { tenantOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { SyncIdParams, SyncRunView } from '../syncs/syncs.schemas.ts';
import type { HeldRunService } from './held-runs.service.ts';

export const heldRunRoutes: FastifyPluginAsyncTypebox<{ held: HeldRunService }> = async (app, { held }) => {
  app.post(
    '/v1/syncs/:syncId/approve',
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'approveSync',
        summary: 'Apply a held run exactly as it was planned (its staged rows, not the feed again)',
        description:
          'All or nothing. 409 collection_changed when any record of the collection was written since the run ' +
          'was planned (sync again); 409 run_not_held when it is not held (applied, rejected or expired).',
        tags: ['syncs'],
        params: SyncIdParams,
        response: { 200: SyncRunView, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => held.approve(tenantOf(request), request.params.syncId),
  );
  app.post(
    '/v1/syncs/:syncId/reject',
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'rejectSync',
        summary: 'Discard a held run and its staged rows',
        description:
          'The run becomes `rejected`; nothing of it is applied. 409 run_not_held when it is not held.',
        tags: ['syncs'],
        params: SyncIdParams,
        response: { 200: SyncRunView, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => held.reject(tenantOf(request), request.params.syncId),
  );
};
