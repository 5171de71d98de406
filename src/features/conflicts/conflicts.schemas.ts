import { Type } from 'typebox';
import { Name, PageQuery } from '../../http/schemas.ts';

export const ConflictListParams = Type.Object({ collection: Name });
export const ConflictParams = Type.Object({ collection: Name, conflictId: Type.String({ format: 'uuid' }) });

export const ConflictQuery = Type.Object(
  {
    ...PageQuery.properties,
    status: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('all')], { default: 'open' }),
    ),
  },
  { additionalProperties: false },
);

export const ResolveBody = Type.Object(
  { resolution: Type.Union([Type.Literal('keep-manual'), Type.Literal('take-source')]) },
  { additionalProperties: false, examples: [{ resolution: 'keep-manual' }] },
);

export const ConflictView = Type.Object({
  id: Type.String(),
  recordId: Type.String(),
  path: Type.String(),
  manualValue: Type.Unknown(),
  sourceValue: Type.Unknown(),
  previousSourceValue: Type.Unknown(),
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  resolution: Type.Union([Type.String(), Type.Null()]),
  syncId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String({
    description:
      'override: upstream moved under a manual value; source: two sources disagree on a field both own (overlap: conflict), the higher priority shown',
  }),
  source: Type.Union([Type.String(), Type.Null()], {
    description: 'the source that moved (override) or won (source); null with one source',
  }),
  otherSource: Type.Union([Type.String(), Type.Null()], {
    description: 'kind source: the lower-priority source, whose value is manualValue',
  }),
});
