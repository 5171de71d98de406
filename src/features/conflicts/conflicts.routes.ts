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
import type { ConflictCursor, ConflictService } from './conflicts.service.ts';

export const conflictRoutes: FastifyPluginAsyncTypebox<{ conflicts: ConflictService }> = async (
  app,
  { conflicts },
) => {
  app.get(
    '/v1/collections/:collection/conflicts',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listConflicts',
        summary: 'Conflicts of a collection (open by default; status=resolved or all)',
        description:
          'A conflict is an override whose field changed upstream: the manual value, the new source value ' +
          'and the source value the override was made over.',
        tags: ['conflicts'],
        params: ConflictListParams,
        querystring: ConflictQuery,
        response: { 200: Page(ConflictView), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const status = request.query.status === 'all' ? null : (request.query.status ?? 'open');
      const { items, next } = await conflicts.list(
        tenantOf(request),
        request.params.collection,
        status,
        decodeCursor(request.query.cursor),
        limit,
      );
      return { items, nextCursor: next && encodeCursor(`${next.createdAt}|${next.id}`) };
    },
  );

  app.post(
    '/v1/collections/:collection/conflicts/:conflictId/resolve',
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'resolveConflict',
        summary: 'Resolve a conflict: keep-manual keeps the override, take-source drops it',
        description: 'An already resolved conflict is 409.',
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

// What encodeCursor wrapped: the last row's created_at to the microsecond, '|', its id. (Cursors made
// before the microsecond key carry milliseconds; they are still read.)
const CURSOR_KEY =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

function decodeCursor(cursor: string | undefined): ConflictCursor | null {
  if (cursor === undefined) return null;
  try {
    const [value]: unknown[] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const match = typeof value === 'string' ? CURSOR_KEY.exec(value) : null;
    if (match && isRealTime(match[1]!)) return { createdAt: match[1]!, id: match[2]! };
  } catch {
    // fall through
  }
  throw new AppError('invalid_cursor', 'The cursor is not one this API returned');
}

// Date.parse takes 2024-02-30 (as 1 March), which PostgreSQL refuses: the date must read back as itself.
function isRealTime(iso: string): boolean {
  const time = Date.parse(iso);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 19) === iso.slice(0, 19);
}
