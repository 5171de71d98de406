import { Type } from 'typebox';

export const RevertQuery = Type.Object(
  { dryRun: Type.Optional(Type.Boolean({ default: false, description: 'report the same, write nothing' })) },
  { additionalProperties: false },
);

const KeptBy = Type.Object({
  kind: Type.Union([
    Type.Literal('sync'),
    Type.Literal('manual'),
    Type.Literal('restore'),
    Type.Literal('revert'),
    Type.Literal('unknown'),
  ]),
  changeId: Type.String(),
  at: Type.Union([Type.String(), Type.Null()]),
  syncRunId: Type.Optional(Type.String()),
  apiKeyId: Type.Optional(Type.String()),
  snapshotId: Type.Optional(Type.String()),
});

export const RevertResult = Type.Object({
  id: Type.Union([Type.String(), Type.Null()], {
    description: "the revert's own run (mode `revert`, itself revertable); null for a dry run",
  }),
  syncId: Type.String({ description: 'the run reverted' }),
  collection: Type.String(),
  dryRun: Type.Boolean(),
  changeId: Type.Union([Type.String(), Type.Null()]),
  snapshotId: Type.Union([Type.String(), Type.Null()], { description: 'taken just before the revert' }),
  counts: Type.Object({
    records: Type.Integer({ description: 'records the run wrote' }),
    reverted: Type.Integer({ description: 'records whose effective value the revert changes' }),
    written: Type.Integer({
      description:
        'records the revert writes, one version each (also those whose source value alone goes back)',
    }),
    revived: Type.Integer({ description: 'deleted by the run, back now' }),
    deleted: Type.Integer({ description: 'made or revived by the run, deleted now' }),
    keptFields: Type.Integer({ description: 'fields a later change rewrote, left as they are' }),
    keptRecords: Type.Integer(),
  }),
  kept: Type.Array(
    Type.Object({
      recordId: Type.String(),
      path: Type.String({ description: "JSON Pointer ('' = the whole record)" }),
      keptBy: KeptBy,
    }),
    { description: 'the first 1,000 kept fields, each with the last change after the run that rewrote it' },
  ),
  keptTruncated: Type.Boolean(),
});
