import { Type } from 'typebox';
import { Name } from '../../http/schemas.ts';

/** Record ids travel URL-encoded in one path segment; Fastify decodes them. */
export const MAX_RECORD_ID_LENGTH = 512;

export const RecordParams = Type.Object({
  collection: Name,
  // No NUL: PostgreSQL's text and jsonb cannot hold it, so no record has one (feeds refuse it too).
  // Fastify already refuses a segment that is not UTF-8, lone surrogates included.
  id: Type.String({ minLength: 1, maxLength: MAX_RECORD_ID_LENGTH, pattern: '^[^\\u0000]+$' }),
});

export const CollectionOnlyParams = Type.Object({ collection: Name });

export const GetRecordQuery = Type.Object(
  { meta: Type.Optional(Type.Boolean({ description: 'add source value, overrides and version' })) },
  { additionalProperties: false },
);

/** The query parameters of a filtered, sorted or projected listing (docs/querying.md). */
export const RecordQueryParams = Type.Object({
  filter: Type.Optional(
    Type.String({
      maxLength: 16384,
      description: 'JSON, e.g. {"price":{"_lt":20},"category":{"_in":["a","b"]}}',
    }),
  ),
  sort: Type.Optional(Type.String({ maxLength: 1024, description: '`field` or `-field` (dotted names)' })),
  fields: Type.Optional(Type.String({ maxLength: 4096, description: 'comma-separated top-level members' })),
  overridden: Type.Optional(
    Type.Boolean({ description: 'records with (true) or without (false) manual edits' }),
  ),
  conflicts: Type.Optional(Type.Literal('open', { description: 'records with an open conflict' })),
  upstreamGone: Type.Optional(Type.Boolean({ description: 'records the last full feed no longer holds' })),
  deleted: Type.Optional(Type.Boolean({ description: 'true: deleted records (their source value)' })),
});

export const RevertQuery = Type.Object(
  {
    path: Type.Optional(
      Type.String({ maxLength: 4096, description: 'the one override to revert (JSON Pointer)' }),
    ),
  },
  { additionalProperties: false },
);

export const ExportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('ndjson')])) },
  { additionalProperties: false },
);

/** A record is any JSON object; documented here, never used to reshape what is sent. */
export const RecordObject = Type.Object(
  {},
  { additionalProperties: true, description: 'the effective record' },
);

const Override = Type.Object(
  {
    path: Type.String(),
    value: Type.Optional(Type.Unknown()),
    removed: Type.Optional(Type.Boolean()),
    by: Type.Union([Type.String(), Type.Null()]),
    at: Type.String(),
    sourceValue: Type.Optional(Type.Unknown()),
    sourceMissing: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

const ManualDelete = Type.Union([
  Type.Object({ by: Type.Union([Type.String(), Type.Null()]), at: Type.String() }),
  Type.Null(),
]);

export const RecordMetaView = Type.Object(
  {
    id: Type.String(),
    data: Type.Union([RecordObject, Type.Null()]),
    source: Type.Union([RecordObject, Type.Null()]),
    overrides: Type.Array(Override),
    manualDelete: ManualDelete,
    upstreamGone: Type.Boolean(),
    version: Type.Integer(),
    updatedAt: Type.String(),
  },
  { additionalProperties: true },
);

export const OverridesView = Type.Object({
  items: Type.Array(Override),
  nextCursor: Type.Null(),
  manualDelete: ManualDelete,
});

export const HistoryEntryView = Type.Object({
  version: Type.Integer(),
  origin: Type.Object(
    {
      kind: Type.String(),
      apiKeyId: Type.Optional(Type.String()),
      syncRunId: Type.Optional(Type.String()),
      snapshotId: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  at: Type.String(),
  changes: Type.Array(
    Type.Object({
      path: Type.String(),
      op: Type.String(),
      from: Type.Optional(Type.Unknown()),
      to: Type.Optional(Type.Unknown()),
    }),
  ),
});

const EXAMPLE_RECORD = { id: 'p-1', name: 'Desk lamp', price: 24.5, seo: { title: 'A desk lamp' } };

/** PUT's body, for the document only: the route reads it by media type (content-types.ts). */
export const PutRecordBody = {
  description: 'The whole record; every difference from the source value becomes an override',
  content: {
    'application/json': {
      schema: Type.Object({}, { additionalProperties: true, examples: [EXAMPLE_RECORD] }),
    },
  },
};

const MergePatch = Type.Object(
  {},
  {
    additionalProperties: true,
    description: 'RFC 7396 merge patch: members replace, null removes, objects merge',
    examples: [{ price: 19.9, seo: { title: null } }],
  },
);

/** PATCH's body, for the document only: the media type decides how the route reads it. */
export const PatchRecordBody = {
  description: 'A merge patch (RFC 7396; plain application/json is read the same) or a JSON Patch (RFC 6902)',
  content: {
    'application/merge-patch+json': { schema: MergePatch },
    'application/json': { schema: MergePatch },
    'application/json-patch+json': {
      schema: Type.Array(Type.Ref('JsonPatchOperation'), {
        examples: [
          [
            { op: 'test', path: '/price', value: 24.5 },
            { op: 'replace', path: '/price', value: 19.9 },
          ],
        ],
      }),
    },
  },
};

const IfMatch = Type.String({
  description: 'the ETag the change is based on: 412 precondition_failed if the record moved on since',
});

export const EditHeaders = Type.Object({
  'if-match': Type.Optional(IfMatch),
  'if-none-match': Type.Optional(
    Type.String({
      description: '`*` (the record must not exist) or ETags: 412 precondition_failed if one holds',
    }),
  ),
});

export const ReadHeaders = Type.Object({
  'if-none-match': Type.Optional(
    Type.String({ description: 'an ETag the client holds: 304 with no body while it is current' }),
  ),
});
