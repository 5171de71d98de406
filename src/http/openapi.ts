import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { SHARED_SCHEMAS } from './schemas.ts';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The request body as /openapi.json shows it, for a route that reads its body by hand (a streamed
     * feed, a record whose media type decides how it is read). Fastify never sees it, so it neither
     * validates nor buffers anything: `body` would do both.
     */
    documentedBody?: unknown;
  }
}

/** Adds the schemas routes refer to by $id (Problem, JsonPatchOperation); before any route. */
export function addSharedSchemas(app: FastifyInstance): void {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
}

/** @fastify/swagger's options: the document is generated from the route schemas. */
export function openApiOptions(): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Sync Manager API',
        version: '1.0.0',
        description:
          'Keeps website data in step with upstream JSON feeds without losing manual edits. ' +
          'Errors are RFC 9457 application/problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key: smk_… (tenant) or smp_… (platform admin)',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    // Shared schemas keep their $id as their name under components/schemas (not def-0, def-1…).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transform: ({ schema, url }) => {
      if (!schema) return { schema, url };
      const { documentedBody, ...rest } = schema;
      const body = documentedBody ?? rest.body;
      // @fastify/swagger marks every body required; TypeBox's Optional (a hidden `~optional`) says otherwise.
      const optional = (body as { '~optional'?: boolean } | undefined)?.['~optional'] === true;
      return { schema: { ...rest, body, ...(optional ? { [OPTIONAL_BODY]: true } : {}) }, url };
    },
    transformObject: (documentObject) => {
      const document =
        'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
      markOptionalBodies(document);
      literalUnionsToEnums(document);
      return document;
    },
  };
}

/** An operation extension (copied into the document as is) that markOptionalBodies turns into `required: false`. */
const OPTIONAL_BODY = 'x-optional-body';

function markOptionalBodies(document: { paths?: unknown }): void {
  for (const item of Object.values((document.paths ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const operation of Object.values(item) as Record<string, unknown>[]) {
      if (typeof operation !== 'object' || operation === null || !(OPTIONAL_BODY in operation)) continue;
      delete operation[OPTIONAL_BODY];
      const requestBody = operation.requestBody as { required?: boolean } | undefined;
      if (requestBody) requestBody.required = false;
    }
  }
}

/**
 * TypeBox writes `'a' | 'b'` as `anyOf: [{ const: 'a' }, { const: 'b' }]` (here `enum: ['a']` each):
 * valid, but generators and Swagger UI offer only the first. One `enum` says the same plainly.
 */
function literalUnionsToEnums(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) literalUnionsToEnums(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  for (const value of Object.values(schema)) literalUnionsToEnums(value);
  const members = schema.anyOf;
  if (!Array.isArray(members) || members.length === 0) return;
  const values: unknown[] = [];
  let type: unknown;
  for (const member of members as Record<string, unknown>[]) {
    const keys = Object.keys(member);
    const single = Array.isArray(member.enum) && member.enum.length === 1 ? member.enum[0] : member.const;
    if (single === undefined || !keys.every((key) => ['type', 'enum', 'const'].includes(key))) return;
    if (type !== undefined && member.type !== type) return;
    type = member.type;
    values.push(single);
  }
  delete schema.anyOf;
  if (type !== undefined) schema.type = type;
  schema.enum = values;
}
