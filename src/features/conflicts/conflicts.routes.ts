import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../errors.ts';
import { actorOf, tenantOf } from '../../http/auth.ts';
import { encodeCursor } from '../../http/pagination.ts';
import { errorResponses, Page } from '../../http/schemas.ts';
import {
  ConflictListParams,
  ConflictParams,
  ConflictQuery,
  ConflictView,
  ResolveBody,
} from './conflicts.schemas.ts';
import type { ConflictService } from './conflicts.service.ts';

export const conflictRoutes: FastifyPluginAsyncTypebox<{ conflicts: ConflictService }> = async (
  app,
  { conflicts },
) => {
  app.get(
    '/v1/collections/:collection/conflicts',
    {
      config: { auth: 'read' },
      schema: {
        summary: 'Conflicts of a collection (open by default; status=resolved or all)',
        tags: ['conflicts'],
        params: ConflictListParams,
        querystring: ConflictQuery,
        response: { 200: Page(ConflictView), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const status = request.query.status === 'all' ? null : (request.query.status ?? 'open');
      const rows = await conflicts.list(
        tenantOf(request),
        request.params.collection,
        status,
        decodeCursor(request.query.cursor),
        limit + 1,
      );
      if (rows.length <= limit) return { items: rows, nextCursor: null };
      const items = rows.slice(0, limit);
      const last = items[items.length - 1]!;
      return { items, nextCursor: encodeCursor(`${last.createdAt}|${last.id}`) };
    },
  );

  app.post(
    '/v1/collections/:collection/conflicts/:conflictId/resolve',
    {
      config: { auth: 'write' },
      schema: {
        summary: 'Resolve a conflict: keep-manual keeps the override, take-source drops it',
        tags: ['conflicts'],
        params: ConflictParams,
        body: ResolveBody,
        response: { 200: ConflictView, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      conflicts.resolve(
        tenantOf(request),
        request.params.collection,
        request.params.conflictId,
        request.body.resolution,
        actorOf(request),
      ),
  );
};

function decodeCursor(cursor: string | undefined): { createdAt: string; id: string } | null {
  if (cursor === undefined) return null;
  try {
    const [value] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string];
    const [createdAt, id] = value.split('|');
    if (createdAt && id && !Number.isNaN(Date.parse(createdAt))) return { createdAt, id };
  } catch {
    // fall through
  }
  throw new AppError('invalid_cursor', 'The cursor is not one this API returned');
}
