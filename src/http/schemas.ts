import { type TSchema, Type } from 'typebox';

/** RFC 9457 problem document, as every error response carries it. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'a URI naming the kind of problem' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'stable error code (docs/errors.md)' }),
    instance: Type.String({ description: 'the request id, also in the x-request-id header' }),
    // Not typed as an array: a serializer refusing some other shape would turn a 4xx into a 500.
    errors: Type.Optional(
      Type.Unknown({ description: 'the reasons (a list), for a refused feed or an invalid request' }),
    ),
  },
  {
    additionalProperties: true,
    $id: 'Problem',
    description: 'An RFC 9457 problem document',
    examples: [
      {
        type: 'https://sync-manager.dev/problems/record-not-found',
        title: 'Record not found',
        status: 404,
        detail: 'No record p-404 in products',
        code: 'record_not_found',
        instance: '0b6f3c1e-6d3a-4c55-9a0e-2f9c4a7b8d10',
      },
    ],
  },
);

/** One RFC 6902 operation, for the document only (src/json/ checks patches itself). */
export const JsonPatchOperation = Type.Union(
  [
    Type.Object({
      op: Type.Enum(['add', 'replace', 'test']),
      path: Type.String({ description: 'JSON Pointer' }),
      value: Type.Unknown(),
    }),
    Type.Object({ op: Type.Enum(['remove']), path: Type.String({ description: 'JSON Pointer' }) }),
    Type.Object({
      op: Type.Enum(['move', 'copy']),
      from: Type.String({ description: 'JSON Pointer' }),
      path: Type.String({ description: 'JSON Pointer' }),
    }),
  ],
  { $id: 'JsonPatchOperation', description: 'One RFC 6902 operation' },
);

/** Schemas shared by $id: the app adds them, so routes and the document refer to them by name. */
export const SHARED_SCHEMAS = [Problem, JsonPatchOperation];

export const MAX_PAGE_SIZE = 1000;

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 100 })),
    cursor: Type.Optional(
      Type.String({ maxLength: 2048, description: 'the nextCursor of the page before; opaque' }),
    ),
  },
  { additionalProperties: false },
);

/** `{ items, nextCursor }`, the shape of every listing. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/** Names of collections and slugs of tenants: letters, digits, `-` and `_`, starting with a letter or digit. */
export const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', minLength: 1, maxLength: 64 });

export const IsoDate = Type.String({ format: 'date-time' });

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request: the parameters, query or body are not valid',
  401: 'Unauthorized: no API key, or one that is unknown or revoked',
  403: 'Forbidden: the API key lacks the scope',
  404: 'Not Found: no such resource in this tenant',
  405: 'Method Not Allowed',
  409: 'Conflict: the state of the resource does not allow it now',
  412: 'Precondition Failed: If-Match names a version that is no longer current',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content: well-formed, but refused (see `errors`)',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The error responses a route can give: each the shared Problem as application/problem+json. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: `${ERROR_DESCRIPTIONS[status] ?? 'Error'}. The problem's \`code\` says which.`,
        ...(status === 401
          ? { headers: { 'WWW-Authenticate': { type: 'string', description: 'Bearer' } } }
          : {}),
        content: { [PROBLEM_MEDIA_TYPE]: { schema: Type.Ref('Problem') } },
      },
    ]),
  );
}

/** A JSON response with documented headers (ETag, Location…). */
export function withHeaders<T extends TSchema>(
  schema: T,
  description: string,
  headers: Record<string, { description: string; type?: string }>,
) {
  return {
    description,
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, header]) => [name, { type: header.type ?? 'string', ...header }]),
    ),
    content: { 'application/json': { schema } },
  };
}

/** The ETag header of a record response. */
export const ETAG_HEADER = { ETag: { description: 'the record version, for If-Match and If-None-Match' } };
