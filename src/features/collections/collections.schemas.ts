import { Type } from 'typebox';
import { Name } from '../../http/schemas.ts';

export const CollectionParams = Type.Object({ collection: Name });

const Policy = Type.Union([Type.Literal('keep-manual'), Type.Literal('take-source')]);
const PolicyMap = Type.Record(Type.String({ pattern: '^(/.*)?$', maxLength: 1024 }), Policy, {
  minProperties: 1,
  maxProperties: 256,
  additionalProperties: false,
});

/** A JSON member name to read record ids from (top-level only). */
const IdField = Type.String({ minLength: 1, maxLength: 128 });

export const CollectionSettingsBody = Type.Object(
  {
    idField: Type.Optional(IdField),
    deletePolicy: Type.Optional(Type.Union([Type.Literal('delete'), Type.Literal('keep')])),
    conflictPolicy: Type.Optional(
      Type.Union([Policy, PolicyMap], {
        description:
          'one policy, or a map from JSON Pointer to policy: { "/price": "take-source", "/": "keep-manual" } (the longest matching pointer wins)',
      }),
    ),
    overlap: Type.Optional(
      Type.Union([Type.Literal('priority'), Type.Literal('conflict')], {
        description:
          'two sources with different values for a field they both own: the higher priority wins (priority, the default), or wins and opens a conflict of kind source (conflict)',
      }),
    ),
    maxDeleteRatio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    maxChangeRatio: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'hold a run that updates more than this share of records',
      }),
    ),
    maxFieldChangeRatio: Type.Optional(
      Type.Record(Type.String({ maxLength: 512 }), Type.Number({ minimum: 0, maximum: 1 }), {
        description:
          'JSON Pointer → share: hold a run that changes that field in more than that share of records',
      }),
    ),
    requiredFields: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        maxItems: 64,
        description: 'JSON Pointers every feed record must carry: a record without one is a feed error',
      }),
    ),
    schema: Type.Optional(
      Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
        description: 'a JSON Schema (2020-12) every record must fit (docs/querying.md); null: none',
      }),
    ),
    indexes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        maxItems: 32,
        description: 'fields (dotted names) to index for filters and sorts',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      { idField: 'sku', deletePolicy: 'delete', conflictPolicy: 'keep-manual', maxDeleteRatio: 0.5 },
    ],
  },
);

export const CollectionView = Type.Object({
  name: Type.String(),
  idField: Type.String(),
  deletePolicy: Type.String(),
  conflictPolicy: Type.Union([Type.String(), Type.Record(Type.String(), Type.String())]),
  overlap: Type.String(),
  maxDeleteRatio: Type.Number(),
  maxChangeRatio: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'hold a run that updates more than this share of records',
    }),
  ),
  maxFieldChangeRatio: Type.Optional(
    Type.Record(Type.String({ maxLength: 512 }), Type.Number({ minimum: 0, maximum: 1 }), {
      description:
        'JSON Pointer → share: hold a run that changes that field in more than that share of records',
    }),
  ),
  requiredFields: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
      maxItems: 64,
      description: 'JSON Pointers every feed record must carry: a record without one is a feed error',
    }),
  ),
  schema: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  indexes: Type.Array(Type.String()),
  indexStates: Type.Array(
    Type.Object({
      field: Type.String(),
      state: Type.Union([Type.Literal('building'), Type.Literal('ready'), Type.Literal('failed')]),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  counts: Type.Object({ records: Type.Integer(), overridden: Type.Integer(), openConflicts: Type.Integer() }),
  lastSync: Type.Union([
    Type.Object({
      id: Type.String(),
      status: Type.String(),
      mode: Type.String(),
      startedAt: Type.String(),
      finishedAt: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
});
