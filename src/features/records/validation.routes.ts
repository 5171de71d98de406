import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../../db/database.ts';
import { readAsTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import { tenantOf } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { compileRecordSchema, type SchemaFailure } from '../collections/record-schema.ts';
import { CollectionOnlyParams } from './records.schemas.ts';
import * as sql from './records.sql.ts';

const ValidateQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);

const ValidateBody = Type.Object(
  { schema: Type.Object({}, { additionalProperties: true, description: 'a JSON Schema (2020-12) to try' }) },
  { additionalProperties: false },
);

const ValidationReport = Type.Object({
  schema: Type.Union([Type.Literal('stored'), Type.Literal('body'), Type.Literal('none')]),
  checked: Type.Integer({ description: 'live records checked' }),
  invalidCount: Type.Integer(),
  invalid: Type.Array(
    Type.Object({
      id: Type.String(),
      errors: Type.Array(Type.Object({ pointer: Type.String(), message: Type.String() })),
    }),
    { description: 'the first `limit` records that do not fit, in id order' },
  ),
});

/** Records read per statement while checking a collection. */
const BATCH = 1000;

/**
 * Which current records do not fit a schema: the collection's own (GET) or one in the body (POST,
 * to try a schema before saving it). Changing a schema rewrites no record; this is how to find those
 * that no longer fit.
 */
export const validationRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const report = async (tenantId: string, collection: string, schema: object | null, limit: number) => {
    const [found] = await readAsTenant(db, tenantId, (tx) =>
      tx.query<{ id: string; record_schema: object | null }>(
        'SELECT id, record_schema FROM collections WHERE tenant_id = $1 AND name = $2',
        [tenantId, collection],
      ),
    );
    if (!found) throw new AppError('collection_not_found', `No collection "${collection}"`);
    const used = schema ?? found.record_schema;
    const validate = used === null ? null : compileRecordSchema(used);
    const invalid: Array<{ id: string; errors: SchemaFailure[] }> = [];
    let checked = 0;
    let invalidCount = 0;
    let after: string | null = null;
    for (;;) {
      const rows: Array<{ record_id: string; data_text: string }> = await readAsTenant(db, tenantId, (tx) =>
        tx.query(sql.listEffective(tenantId, found.id, after, BATCH)),
      );
      for (const row of rows) {
        checked++;
        const failures = validate?.(JSON.parse(row.data_text));
        if (!failures) continue;
        invalidCount++;
        if (invalid.length < limit) invalid.push({ id: row.record_id, errors: failures });
      }
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1]!.record_id;
    }
    return { schema: schema ? 'body' : used ? 'stored' : 'none', checked, invalidCount, invalid } as const;
  };

  app.get(
    '/v1/collections/:collection/validate',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'validateRecords',
        summary: "Report the records that do not fit the collection's schema",
        description:
          'Reads every live record (effective value) and checks it against the stored schema. ' +
          'A collection without one reports every record as fitting (`schema: "none"`).',
        tags: ['records'],
        params: CollectionOnlyParams,
        querystring: ValidateQuery,
        response: { 200: ValidationReport, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => report(tenantOf(request), request.params.collection, null, request.query.limit ?? 100),
  );

  app.post(
    '/v1/collections/:collection/validate',
    {
      config: { auth: 'read' },
      schema: {
        operationId: 'validateRecordsAgainstSchema',
        summary: 'Report the records that would not fit the schema in the body',
        description:
          'As GET …/validate, with a candidate schema instead of the stored one: try a schema before saving it. ' +
          'An invalid schema is a 422 invalid_schema.',
        tags: ['records'],
        params: CollectionOnlyParams,
        querystring: ValidateQuery,
        body: ValidateBody,
        response: { 200: ValidationReport, ...errorResponses(400, 401, 403, 404, 415, 422) },
      },
    },
    async (request) =>
      report(tenantOf(request), request.params.collection, request.body.schema, request.query.limit ?? 100),
  );
};
