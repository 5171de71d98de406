import { Type } from 'typebox';
import { Name } from '../../http/schemas.ts';
import { SourceBody } from './sources.schemas.ts';

export const NamedSourceParams = Type.Object({ collection: Name, name: Name });
export const CollectionParams = Type.Object({ collection: Name });

export const NamedSourceBody = Type.Object(
  {
    fields: Type.Optional(
      Type.Array(Type.String({ maxLength: 1024 }), {
        minItems: 1,
        maxItems: 256,
        description: 'JSON Pointers this source owns; "/" (the default) owns every field',
      }),
    ),
    priority: Type.Optional(
      Type.Integer({
        minimum: -1_000_000,
        maximum: 1_000_000,
        description: 'where two sources own one field, the higher priority wins (default 0)',
      }),
    ),
    ignoreEmpty: Type.Optional(
      Type.Boolean({
        description: 'a null or "" from this source counts as not having the field (default false)',
      }),
    ),
    url: Type.Optional(SourceBody.properties.url),
    schedule: Type.Optional(SourceBody.properties.schedule),
    mode: SourceBody.properties.mode,
    headers: SourceBody.properties.headers,
  },
  { additionalProperties: false },
);

export const NamedSourceView = Type.Object({
  name: Type.String(),
  fields: Type.Array(Type.String()),
  priority: Type.Integer(),
  ignoreEmpty: Type.Boolean(),
  url: Type.Union([Type.String(), Type.Null()]),
  schedule: Type.Union([Type.String(), Type.Null()]),
  mode: Type.Union([Type.String(), Type.Null()]),
  headerNames: Type.Array(Type.String()),
  nextRunAt: Type.Union([Type.String(), Type.Null()]),
  lastRun: Type.Union([
    Type.Object({
      at: Type.String(),
      status: Type.String(),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  stored: Type.Boolean({
    description: 'false for the implicit `default` of a collection that never stored one',
  }),
});
