import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../../db/database.ts';
import { appliedVersions, listMigrations } from '../../db/migrate.ts';
import { AppError } from '../../errors.ts';
import { errorResponses } from '../../http/schemas.ts';

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  // Read once: a readiness probe every few seconds need not list the migration files each time.
  const expected = listMigrations().map((migration) => migration.version);
  app.get(
    '/health',
    {
      // Probes never count against a rate limit.
      config: { auth: 'none', rateLimit: false },
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness and the kind of database in use',
        description: 'Answers once the database answers a query. No API key needed.',
        security: [],
        tags: ['health'],
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            database: Type.Union([Type.Literal('postgres'), Type.Literal('pglite')]),
          }),
        },
      },
    },
    async () => {
      await db.query('SELECT 1');
      return { status: 'ok' as const, database: db.kind };
    },
  );

  app.get(
    '/ready',
    {
      // Probes never count against a rate limit.
      config: { auth: 'none', rateLimit: false },
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database answers and its schema is current',
        description:
          'For load balancers and orchestrators: 200 once the server can serve requests, 503 problem+json ' +
          'while the database is unreachable or migrations are pending (run `sync-manager migrate`). ' +
          '`/health` only says the process is alive.',
        tags: ['health'],
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            database: Type.Union([Type.Literal('postgres'), Type.Literal('pglite')]),
          }),
          ...errorResponses(503),
        },
      },
    },
    async () => {
      let pending: number;
      try {
        const applied = new Set(await appliedVersions(db));
        pending = expected.filter((version) => !applied.has(version)).length;
      } catch {
        throw new AppError('service_unavailable', 'The database does not answer');
      }
      if (pending > 0) {
        throw new AppError(
          'service_unavailable',
          `The database schema is ${pending} migration(s) behind: run \`sync-manager migrate\``,
        );
      }
      return { status: 'ready' as const, database: db.kind };
    },
  );
};
