import { Type } from 'typebox';
import { Name, PageQuery } from '../../http/schemas.ts';

export const SyncCollectionParams = Type.Object({ collection: Name });
export const SyncIdParams = Type.Object({ syncId: Type.String({ format: 'uuid' }) });

export const SyncQuery = Type.Object(
  {
    mode: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('partial')], { default: 'full' })),
    dryRun: Type.Optional(Type.Boolean({ default: false })),
    source: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
        maxLength: 64,
        description:
          "the collection's named source this feed is for (default `default`); it writes only that source's fields",
      }),
    ),
    force: Type.Optional(Type.Boolean({ default: false })),
    invalidRecords: Type.Optional(
      Type.Union([Type.Literal('refuse'), Type.Literal('skip')], {
        description:
          "rows the collection's schema refuses: 'refuse' the feed (default) or 'skip' them, listed in the run",
      }),
    ),
  },
  { additionalProperties: false },
);

const Counts = Type.Object(
  {
    created: Type.Optional(Type.Integer()),
    updated: Type.Optional(Type.Integer()),
    unchanged: Type.Optional(Type.Integer()),
    deleted: Type.Optional(Type.Integer()),
    conflicts: Type.Optional(Type.Integer()),
    revived: Type.Optional(Type.Integer()),
    overridesRetired: Type.Optional(Type.Integer()),
    rows: Type.Optional(Type.Integer()),
    skipped: Type.Optional(Type.Integer()),
    ignoredFields: Type.Optional(
      Type.Integer({
        description: 'fields of the feed the source does not own, left out (several sources only)',
      }),
    ),
  },
  { additionalProperties: true },
);

/** A run's status (docs/sync.md, docs/run-safety.md). */
export const RunStatus = Type.Union([
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('planned'),
  Type.Literal('held'),
  Type.Literal('rejected'),
  Type.Literal('expired'),
]);

/** The sync history's query: a page, optionally of one status (`held`: the runs waiting for approval). */
export const SyncListQuery = Type.Object(
  {
    ...PageQuery.properties,
    status: Type.Optional(RunStatus),
  },
  { additionalProperties: false },
);

export const SyncRunView = Type.Object({
  id: Type.String(),
  collection: Type.String(),
  source: Type.Union([Type.String(), Type.Null()], {
    description: 'the named source the run wrote for; null for a collection whose one source owns everything',
  }),
  mode: Type.String(),
  dryRun: Type.Boolean(),
  forced: Type.Boolean(),
  status: RunStatus,
  counts: Counts,
  snapshotId: Type.Union([Type.String(), Type.Null()]),
  changeId: Type.Union([Type.String(), Type.Null()]),
  errors: Type.Array(Type.Unknown()),
  timings: Type.Record(Type.String(), Type.Number()),
  origin: Type.Record(Type.String(), Type.Unknown()),
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  heldUntil: Type.Optional(
    Type.String({ description: 'a held run: when it expires unless approved or rejected' }),
  ),
  revertOf: Type.Optional(Type.String({ description: 'a revert (mode `revert`): the run it undid' })),
  plan: Type.Optional(
    Type.Object({
      create: Type.Array(Type.String()),
      update: Type.Array(Type.String()),
      delete: Type.Array(Type.String()),
    }),
  ),
});

const FeedRecord = Type.Object(
  {},
  { additionalProperties: true, description: "a record: an object with the collection's id field" },
);
const NdjsonFeed = Type.String({
  description: 'NDJSON: one record object a line',
  examples: ['{"id":"p-1","name":"Desk lamp","price":24.5}\n{"id":"p-2","name":"Shelf","price":80}\n'],
});

/** The feed, for the document only: the route streams the body itself, never parsed by Fastify. */
export const SyncFeedBody = {
  description: 'The feed: a JSON array of records, an object with a `records` array, or NDJSON',
  content: {
    'application/json': {
      schema: Type.Union(
        [
          Type.Array(FeedRecord),
          Type.Object({ records: Type.Array(FeedRecord) }, { additionalProperties: true }),
        ],
        {
          examples: [
            [
              { id: 'p-1', name: 'Desk lamp', price: 24.5 },
              { id: 'p-2', name: 'Shelf', price: 80 },
            ],
          ],
        },
      ),
    },
    'application/x-ndjson': { schema: NdjsonFeed },
    'application/ndjson': { schema: NdjsonFeed },
    'application/jsonl': { schema: NdjsonFeed },
  },
};

export const SyncHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        'the same key with the same body returns the first run again (Idempotent-Replayed: true) and applies once',
    }),
  ),
});
