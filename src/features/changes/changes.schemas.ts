import { Type } from 'typebox';
import { MAX_PAGE_SIZE, Name } from '../../http/schemas.ts';

export const CollectionChangesParams = Type.Object({ collection: Name });

export const ChangesQuery = Type.Object(
  {
    cursor: Type.Optional(
      Type.String({
        maxLength: 4096,
        description: 'Where to continue: a cursor the feed or an export returned',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 100 })),
    include: Type.Optional(Type.Literal('data', { description: "'data' adds each record's new value" })),
    wait: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 60,
        description: 'Long poll: with nothing to serve, wait up to this many seconds for a commit',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ChangeView = Type.Object({
  cursor: Type.String({ description: 'The position after this change: read on from here' }),
  collection: Type.String(),
  recordId: Type.String(),
  op: Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('delete')]),
  version: Type.Integer(),
  origin: Type.Object(
    {
      kind: Type.String({ description: 'sync, manual, restore or revert' }),
      apiKeyId: Type.Optional(Type.String()),
      syncRunId: Type.Optional(Type.String()),
      snapshotId: Type.Optional(Type.String()),
    },
    { additionalProperties: true },
  ),
  fields: Type.Array(Type.String(), { description: "JSON Pointers that changed ('' = the whole record)" }),
  at: Type.String({ format: 'date-time' }),
  changeId: Type.String(),
  data: Type.Optional(
    Type.Unknown({ description: 'With include=data: the new effective value (null: deleted)' }),
  ),
});

export const ChangesPage = Type.Object({
  items: Type.Array(ChangeView),
  nextCursor: Type.String({ description: 'Always set: the feed never ends' }),
  hasMore: Type.Boolean({ description: 'More changes can be read right away (false: caught up)' }),
});
