import { Type } from 'typebox';
import { Name } from '../../http/schemas.ts';

export const SnapshotParams = Type.Object({ snapshotId: Type.String({ format: 'uuid' }) });

const Label = Type.String({ minLength: 1, maxLength: 200 });

export const SnapshotView = Type.Object({
  id: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  auto: Type.Boolean(),
  pinned: Type.Boolean(),
  createdAt: Type.String(),
  /** null while pinned. */
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  /** The change id the snapshot stands for: it sees every change with a smaller id. */
  changeId: Type.String(),
});

export const CreateSnapshotBody = Type.Object(
  { label: Type.Optional(Label), pinned: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, examples: [{ label: 'before the spring catalogue', pinned: true }] },
);

export const PatchSnapshotBody = Type.Object(
  { label: Type.Optional(Type.Union([Label, Type.Null()])), pinned: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);

export const RestoreBody = Type.Object(
  { collections: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000, uniqueItems: true })) },
  { additionalProperties: false, examples: [{ collections: ['products'] }] },
);

const Counts = Type.Object({ created: Type.Integer(), changed: Type.Integer(), deleted: Type.Integer() });

export const RestoreResult = Type.Object({
  snapshotId: Type.String(),
  /** The automatic snapshot taken just before: restoring it undoes this restore. */
  undoSnapshotId: Type.String(),
  changeId: Type.String(),
  collections: Type.Array(
    Type.Object({
      name: Type.String(),
      /** Records written back: created (deleted now, alive then), deleted (the reverse), changed (any other). */
      restored: Counts,
      /** Open conflicts whose premise the restore undid (closed, no resolution). */
      closedConflicts: Type.Integer(),
      /** Conflicts resolved since the snapshot whose premise the restore brought back (open again). */
      reopenedConflicts: Type.Integer(),
    }),
  ),
});

export const DiffQuery = Type.Object(
  {
    collection: Type.Optional(Name),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);

const FieldChange = Type.Object({
  path: Type.String(),
  op: Type.Union([Type.Literal('add'), Type.Literal('remove'), Type.Literal('replace')]),
  from: Type.Optional(Type.Unknown()),
  to: Type.Optional(Type.Unknown()),
});

export const DiffResult = Type.Object({
  snapshotId: Type.String(),
  collections: Type.Array(
    Type.Object({
      name: Type.String(),
      /** Over the whole collection, whatever the page. */
      counts: Counts,
      records: Type.Array(
        Type.Object({
          id: Type.String(),
          change: Type.Union([Type.Literal('created'), Type.Literal('changed'), Type.Literal('deleted')]),
          changes: Type.Array(FieldChange),
        }),
      ),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const PruneQuery = Type.Object(
  { dryRun: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);

const SnapshotBrief = Type.Object({
  id: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  auto: Type.Boolean(),
  createdAt: Type.String(),
});

export const PruneResult = Type.Object({
  dryRun: Type.Boolean(),
  now: Type.String(),
  retentionDays: Type.Integer(),
  windowStart: Type.String(),
  expired: Type.Array(Type.Object({ ...SnapshotBrief.properties, reason: Type.String() })),
  kept: Type.Array(
    Type.Object({
      ...SnapshotBrief.properties,
      reason: Type.Union([Type.Literal('pinned'), Type.Literal('inside the window')]),
    }),
  ),
  versions: Type.Array(
    Type.Object({ collection: Type.String(), pruned: Type.Integer(), kept: Type.Integer() }),
  ),
});

/** `asOf` on the records routes: a snapshot id or an ISO 8601 timestamp. */
export const AsOf = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'read the past: a snapshot id, or an ISO 8601 timestamp inside the retention window',
});
