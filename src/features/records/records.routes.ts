import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { actorOf, tenantOf } from '../../http/auth.ts';
import { mediaTypeOf, registerStrictJson } from '../../http/json-body.ts';
import { decodeCursor, encodeCursor } from '../../http/pagination.ts';
import { ETAG_HEADER, errorResponses, Page, PageQuery, withHeaders } from '../../http/schemas.ts';
import type { ChangeFeed } from '../changes/changes.service.ts';
import { AsOf } from '../snapshots/snapshots.schemas.ts';
import type { SnapshotService } from '../snapshots/snapshots.service.ts';
import { PATCH_MEDIA_TYPES, patchEdit, putEdit } from './content-types.ts';
import type { Edit } from './edits/apply-edit.ts';
import type { WriteResult } from './edits/plan-series.ts';
import { exportRecords } from './export.ts';
import { etagOf, notModified, type Preconditions } from './preconditions.ts';
import type { RecordQueries } from './record-queries.ts';
import { parseRecordQuery } from './record-query.ts';
import {
  CollectionOnlyParams,
  EditHeaders,
  ExportQuery,
  GetRecordQuery,
  HistoryEntryView,
  OverridesView,
  PatchRecordBody,
  PutRecordBody,
  ReadHeaders,
  RecordMetaView,
  RecordObject,
  RecordParams,
  RecordQueryParams,
  RevertQuery,
} from './records.schemas.ts';
import type { RecordService } from './records.service.ts';

const RECORD = '/v1/collections/:collection/records/:id';

/** `?asOf=` (snapshot id or timestamp) on the two read routes; served by the snapshots feature. */
const ListQuery = Type.Object(
  { ...PageQuery.properties, asOf: Type.Optional(AsOf), ...RecordQueryParams.properties },
  { additionalProperties: false },
);
const ReadQuery = Type.Object(
  { ...GetRecordQuery.properties, asOf: Type.Optional(AsOf) },
  { additionalProperties: false },
);

export const recordRoutes: FastifyPluginAsyncTypebox<{
  records: RecordService;
  snapshots?: SnapshotService;
  queries?: RecordQueries;
  /** Gives an export the change feed cursor it was taken at. */
  feed?: ChangeFeed;
}> = async (app, { records, snapshots, queries, feed }) => {
  registerStrictJson(app, PATCH_MEDIA_TYPES);

  app.get(
    '/v1/collections/:collection/records',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listRecords',
        summary: 'List effective records in id order (keyset pagination), filtered, sorted and projected',
        description:
          '`filter` (JSON, Directus-style operators), `sort` (`field` or `-field`; ties by id, records ' +
          'without the field last), `fields` (top-level members), and the record-state filters ' +
          '`overridden`, `conflicts=open`, `upstreamGone`, `deleted`. See docs/querying.md. A filter or ' +
          'sort no ready declared index serves answers 422 index_required on a large collection.',
        tags: ['records'],
        params: CollectionOnlyParams,
        querystring: ListQuery,
        response: { 200: Page(RecordObject), ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const limit = request.query.limit ?? 100;
      const { asOf } = request.query;
      const query = parseRecordQuery(request.query);
      if (query && asOf !== undefined)
        throw new AppError(
          'invalid_filter',
          'filter, sort, fields and the record-state filters cannot be combined with asOf (the history keeps no index to query it by)',
          { part: 'asOf' },
        );
      if (query && queries) {
        const page = await queries.page(
          tenantOf(request),
          request.params.collection,
          query,
          request.query.cursor,
          limit,
        );
        const next = JSON.stringify(page.next);
        return sendJsonText(reply, `{"items":[${page.items}],"nextCursor":${next}}`);
      }
      const after = decodeCursor(request.query.cursor);
      const past =
        asOf !== undefined && snapshots
          ? await snapshots.listRecordsAt(
              tenantOf(request),
              request.params.collection,
              asOf,
              after,
              limit + 1,
            )
          : null;
      if (past) {
        const page = past.slice(0, limit);
        const next = past.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
        const items = page.map((row) => row.dataText).join(',');
        return sendJsonText(reply, `{"items":[${items}],"nextCursor":${JSON.stringify(next)}}`);
      }
      const page = await records.pageEffective(tenantOf(request), request.params.collection, after, limit);
      const next = page.next === null ? null : encodeCursor(page.next);
      // The stored JSON text goes out as is: no parse, no serialise.
      return sendJsonText(reply, `{"items":[${page.items}],"nextCursor":${JSON.stringify(next)}}`);
    },
  );

  app.get(
    RECORD,
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'getRecord',
        summary: 'The effective record, with its ETag; ?meta=true adds source value, overrides and version',
        description:
          'The record as the site sees it. Its ETag goes into If-Match on an edit (412 when stale) and into ' +
          'If-None-Match here (304 while current). `asOf` reads the record as it was at a snapshot or time.',
        tags: ['records'],
        params: RecordParams,
        querystring: ReadQuery,
        headers: ReadHeaders,
        response: {
          200: withHeaders(
            Type.Union([RecordObject, RecordMetaView]),
            'The effective record, or with meta=true its source value, overrides and version',
            ETAG_HEADER,
          ),
          304: Type.Null({ description: 'If-None-Match holds: the client has this version' }),
          ...errorResponses(400, 401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { collection, id } = request.params;
      const ifNoneMatch = request.headers['if-none-match'];
      const { asOf } = request.query;
      if (asOf !== undefined && snapshots && request.query.meta) {
        const past = await snapshots.readRecordMetaAt(tenantOf(request), collection, id, asOf);
        if (past) {
          reply.header('etag', etagOf(past.version));
          return sendJsonText(reply, JSON.stringify(past));
        }
      } else if (asOf !== undefined && snapshots) {
        const past = await snapshots.readRecordAt(tenantOf(request), collection, id, asOf);
        if (past) {
          reply.header('etag', etagOf(past.version));
          return sendJsonText(reply, past.dataText!);
        }
      }
      if (request.query.meta) {
        const meta = await records.getMeta(tenantOf(request), collection, id);
        reply.header('etag', etagOf(meta.version));
        if (notModified(ifNoneMatch, meta.version)) return reply.code(304).send(null);
        return sendJsonText(reply, JSON.stringify(meta));
      }
      const record = await records.getEffective(tenantOf(request), collection, id);
      reply.header('etag', etagOf(record.version));
      if (notModified(ifNoneMatch, record.version)) return reply.code(304).send(null);
      return sendJsonText(reply, record.text);
    },
  );

  app.put(
    RECORD,
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'putRecord',
        summary: 'Create or replace a record by hand (every difference from the source value is an override)',
        description:
          'Takes application/json: the whole record. Its id member, if present, must match the path. ' +
          'If-Match makes the write conditional on the ETag read before (412 when stale).',
        tags: ['records'],
        params: RecordParams,
        headers: EditHeaders,
        documentedBody: PutRecordBody,
        response: {
          200: withHeaders(RecordObject, 'Replaced: the effective record', ETAG_HEADER),
          201: withHeaders(RecordObject, 'Created: the effective record', ETAG_HEADER),
          ...errorResponses(400, 401, 403, 404, 412, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const edit = putEdit(mediaTypeOf(request), request.body);
      const result = await applyEdit(request, edit);
      return sendRecord(reply.code(result.created ? 201 : 200), result);
    },
  );

  app.patch(
    RECORD,
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'patchRecord',
        summary: 'Change a record by hand with a merge patch or a JSON Patch',
        description:
          'application/merge-patch+json (RFC 7396; plain application/json is read the same) or ' +
          'application/json-patch+json (RFC 6902, all six operations; a failed `test` is 409 ' +
          'patch_test_failed). Each changed field becomes an override. A patch that fails changes nothing. ' +
          'If-Match makes the change conditional on the ETag read before (412 when stale).',
        tags: ['records'],
        params: RecordParams,
        headers: EditHeaders,
        documentedBody: PatchRecordBody,
        response: {
          200: withHeaders(RecordObject, 'The effective record after the patch', ETAG_HEADER),
          ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const edit = patchEdit(mediaTypeOf(request), request.body);
      return sendRecord(reply, await applyEdit(request, edit));
    },
  );

  app.delete(
    RECORD,
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'deleteRecord',
        summary: 'Delete a record by hand (an override: a sync does not bring it back until reverted)',
        description: 'A soft delete kept as an override; revert the overrides to bring the record back.',
        tags: ['records'],
        params: RecordParams,
        headers: EditHeaders,
        response: {
          204: Type.Null({
            description: 'Deleted',
            headers: { ETag: { type: 'string', description: 'the new version' } },
          }),
          ...errorResponses(400, 401, 403, 404, 412),
        },
      },
    },
    async (request, reply) => {
      const result = await applyEdit(request, { kind: 'delete' });
      return reply.code(204).header('etag', etagOf(result.version)).send(null);
    },
  );

  app.get(
    `${RECORD}/overrides`,
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listOverrides',
        summary: 'The manual changes of a record: overrides by JSON Pointer, and a manual delete',
        description: 'Each override with its value, who made it and when, and the source value it hides.',
        tags: ['records'],
        params: RecordParams,
        response: {
          200: withHeaders(OverridesView, 'The overrides and the manual delete, if any', ETAG_HEADER),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const meta = await records.getMeta(tenantOf(request), request.params.collection, request.params.id);
      reply.header('etag', etagOf(meta.version));
      return { items: meta.overrides, nextCursor: null, manualDelete: meta.manualDelete };
    },
  );

  app.delete(
    `${RECORD}/overrides`,
    {
      config: { auth: 'write' },
      schema: {
        operationId: 'revertOverrides',
        summary: 'Revert every manual change (or only ?path=) back to the source value',
        description:
          'Drops the overrides (and a manual delete) so the record shows its source value again. ' +
          'A record made by hand has no source value: 409 no_source_value.',
        tags: ['records'],
        params: RecordParams,
        querystring: RevertQuery,
        headers: EditHeaders,
        response: {
          200: withHeaders(RecordMetaView, 'The record with its remaining overrides', ETAG_HEADER),
          ...errorResponses(400, 401, 403, 404, 409, 412, 422),
        },
      },
    },
    async (request, reply) => {
      const result = await applyEdit(request, { kind: 'revert', path: request.query.path });
      reply.header('etag', etagOf(result.version));
      return sendJsonText(reply, JSON.stringify(result.meta));
    },
  );

  app.get(
    `${RECORD}/history`,
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'listRecordHistory',
        summary: 'Versions newest first, each with its origin and field-level changes',
        description:
          'Every version of the record: which sync run, API key or restore made it, and what changed.',
        tags: ['records'],
        params: RecordParams,
        querystring: PageQuery,
        response: { 200: Page(HistoryEntryView), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { collection, id } = request.params;
      const limit = request.query.limit ?? 100;
      const cursor = decodeCursor(request.query.cursor);
      const before = cursor === null ? null : Number(cursor);
      if (before !== null && !Number.isSafeInteger(before)) throw new AppError('invalid_cursor');
      const entries = await records.history(tenantOf(request), collection, id, before, limit);
      const items = entries.slice(0, limit);
      const nextCursor =
        entries.length > limit ? encodeCursor(String(items[items.length - 1]!.version)) : null;
      return { items, nextCursor };
    },
  );

  app.get(
    '/v1/collections/:collection/export',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'exportRecords',
        summary: 'Every effective record, streamed: a JSON array, or NDJSON with ?format=ndjson',
        description:
          'The whole collection in record id order, streamed. NDJSON with format=ndjson or ' +
          'Accept: application/x-ndjson.',
        tags: ['records'],
        params: CollectionOnlyParams,
        querystring: ExportQuery,
        response: {
          200: {
            description: 'A JSON array of records, or NDJSON: one record a line',
            content: {
              // Typed unknown: the handler sends a stream, which the type provider would refuse.
              'application/json': { schema: Type.Unsafe<unknown>(Type.Array(RecordObject)) },
              'application/x-ndjson': { schema: Type.String({ description: 'one JSON object a line' }) },
            },
          },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? (wantsNdjson(request) ? 'ndjson' : 'json');
      // Taken before the first record is read: following the feed from it serves every change the
      // export may have missed (and perhaps some it already holds; docs/changes.md).
      if (feed) reply.header('changes-cursor', await feed.currentCursor(tenantOf(request)));
      const stream = await exportRecords(records, tenantOf(request), request.params.collection, format);
      reply.type(format === 'ndjson' ? 'application/x-ndjson' : 'application/json');
      return reply.send(stream);
    },
  );

  function applyEdit(request: FastifyRequest, edit: Edit): Promise<WriteResult> {
    const preconditions: Preconditions = {
      ifMatch: request.headers['if-match'],
      ifNoneMatch: request.headers['if-none-match'],
    };
    const { collection, id } = request.params as { collection: string; id: string };
    return records.edit(tenantOf(request), collection, id, edit, actorOf(request), preconditions);
  }
};

function sendRecord(reply: FastifyReply, result: WriteResult): FastifyReply {
  reply.header('etag', etagOf(result.version));
  return sendJsonText(reply, JSON.stringify(result.meta.data));
}

/** JSON already in text form goes out untouched (Fastify does not serialise a string payload). */
function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}

function wantsNdjson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /application\/(x-)?ndjson/i.test(accept);
}
