import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, tenantOf } from '../../http/auth.ts';
import { decodeBigintCursor, toPage } from '../../http/pagination.ts';
import { errorResponses, Page, PageQuery } from '../../http/schemas.ts';
import {
  CreateSnapshotBody,
  DiffQuery,
  DiffResult,
  PatchSnapshotBody,
  PruneQuery,
  PruneResult,
  RestoreBody,
  RestoreResult,
  SnapshotParams,
  SnapshotView,
} from './snapshots.schemas.ts';
import type { SnapshotService } from './snapshots.service.ts';

export const snapshotRoutes: FastifyPluginAsyncTypebox<{ snapshots: SnapshotService }> = async (
  app,
  { snapshots },
) => {
  app.get(
    '/v1/snapshots',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listSnapshots',
        summary: "List the tenant's snapshots, newest first",
        description: 'Automatic ones (before each sync and restore) and those taken by hand.',
        tags: ['snapshots'],
        querystring: PageQuery,
        response: { 200: Page(SnapshotView), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await snapshots.list(
        tenantOf(request),
        decodeBigintCursor(request.query.cursor),
        limit + 1,
      );
      return toPage(rows, limit, (snapshot) => snapshot.changeId);
    },
  );

  app.post(
    '/v1/snapshots',
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'createSnapshot',
        summary: 'Take a snapshot: a point in the history, O(1) whatever the data size',
        description: 'Optionally labelled and pinned (a pinned snapshot never expires).',
        tags: ['snapshots'],
        body: Type.Optional(CreateSnapshotBody),
        response: { 201: SnapshotView, ...errorResponses(400, 401, 403, 415) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await snapshots.create(tenantOf(request), request.body ?? {})),
  );

  app.post(
    '/v1/snapshots/prune',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'pruneSnapshots',
        summary: 'Expire old unpinned snapshots and prune the versions nothing retained needs',
        description:
          'With dryRun=true, lists what would go and why each kept snapshot stays; changes nothing.',
        tags: ['snapshots'],
        querystring: PruneQuery,
        response: { 200: PruneResult, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => snapshots.prune(tenantOf(request), { dryRun: request.query.dryRun ?? false }),
  );

  app.get(
    '/v1/snapshots/:snapshotId',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'getSnapshot',
        summary: 'Read one snapshot',
        description: 'Its label, whether it is automatic or pinned, when it was taken and when it expires.',
        tags: ['snapshots'],
        params: SnapshotParams,
        response: { 200: SnapshotView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => snapshots.get(tenantOf(request), request.params.snapshotId),
  );

  app.patch(
    '/v1/snapshots/:snapshotId',
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'updateSnapshot',
        summary: 'Pin, unpin or relabel a snapshot (a pinned snapshot never expires)',
        description: 'Send only the members to change: `label`, `pinned`.',
        tags: ['snapshots'],
        params: SnapshotParams,
        body: PatchSnapshotBody,
        response: { 200: SnapshotView, ...errorResponses(400, 401, 403, 404, 415) },
      },
    },
    async (request) => snapshots.update(tenantOf(request), request.params.snapshotId, request.body),
  );

  app.delete(
    '/v1/snapshots/:snapshotId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'deleteSnapshot',
        summary: 'Delete a snapshot (the versions only it needed go at the next prune)',
        description: 'The records are untouched; only the point in history goes.',
        tags: ['snapshots'],
        params: SnapshotParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await snapshots.delete(tenantOf(request), request.params.snapshotId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/snapshots/:snapshotId/diff',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'diffSnapshot',
        description: 'Paginated per record; `collection` narrows it to one collection.',
        summary:
          'What changed since the snapshot: per collection, records created, changed (field by field), deleted',
        tags: ['snapshots'],
        params: SnapshotParams,
        querystring: DiffQuery,
        response: { 200: DiffResult, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { collection, limit, cursor } = request.query;
      return snapshots.diff(tenantOf(request), request.params.snapshotId, {
        limit: limit ?? 100,
        ...(collection !== undefined ? { collection } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      });
    },
  );

  app.post(
    '/v1/snapshots/:snapshotId/restore',
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'restoreSnapshot',
        summary: 'Restore the tenant, or the collections named, to the snapshot (all or nothing)',
        description:
          'Source values, overrides and manual deletes come back as they were; records made since are deleted. ' +
          'An automatic snapshot is taken first: restore it to undo.',
        tags: ['snapshots'],
        params: SnapshotParams,
        body: Type.Optional(RestoreBody),
        response: { 200: RestoreResult, ...errorResponses(400, 401, 403, 404, 415) },
      },
    },
    async (request) =>
      snapshots.restore(tenantOf(request), request.params.snapshotId, {
        apiKeyId: actorOf(request),
        ...(request.body?.collections ? { collections: request.body.collections } : {}),
      }),
  );
};
