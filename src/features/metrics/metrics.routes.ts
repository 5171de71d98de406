import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { errorResponses } from '../../http/schemas.ts';
import { recordHttpRequest, registerPoolStats, registry } from './metrics.ts';
import { countedDatabase } from './pool.ts';

/**
 * Counts every answered request by route pattern and status, and returns the database with its calls
 * counted for the pool gauges. Called on the root instance: the response hook must see every route.
 */
export function registerMetrics(app: FastifyInstance, db: Database): Database {
  const counted = countedDatabase(db);
  const unregister = registerPoolStats(counted.stats);
  app.addHook('onClose', async () => unregister());
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    recordHttpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
  return counted.db;
}

/** GET /metrics, unless the setting turns it off. */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  if (config.metrics === 'off') return;
  app.get(
    '/metrics',
    {
      config: { auth: config.metrics === 'admin' ? 'platform' : 'none' },
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          'Requests by route and status, sync runs and records, database connections, queue backlogs and ' +
          'process figures, in the Prometheus text format. Needs the platform admin key unless ' +
          'SYNC_MANAGER_METRICS=public; absent when it is off.',
        tags: ['health'],
        produces: ['text/plain'],
        response: {
          200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
};
