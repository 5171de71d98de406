import { Type } from 'typebox';
import { Name } from '../../http/schemas.ts';

export const SourceParams = Type.Object({ collection: Name });

// RFC 9110: a field name is a token; a value is visible ASCII, spaces and tabs. Anything else (non-ASCII,
// control characters) would be refused by Node's HTTP client at every run, so it is refused when saved.
const HeaderName = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$";
const HeaderValue = '^[\\t\\x20-\\x7E]*$';

export const SourceBody = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'http or https; public addresses only unless the operator allows private ones',
    }),
    schedule: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'cron expression in UTC: 5 fields, 6 with seconds first, or a preset such as @hourly',
    }),
    mode: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('partial')], { default: 'full' })),
    headers: Type.Optional(
      Type.Record(
        Type.String({ pattern: HeaderName }),
        Type.String({ maxLength: 8192, pattern: HeaderValue }),
        {
          maxProperties: 32,
          // Without it a name that does not match the key pattern would be let through.
          additionalProperties: false,
          description:
            'extra request headers, e.g. an upstream Authorization; never shown back, and not sent after a redirect to another origin. Names are RFC 9110 tokens, values printable ASCII',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const SourceView = Type.Object({
  collection: Type.String(),
  name: Type.String({ description: 'the named source; the routes of …/source act on `default`' }),
  url: Type.String(),
  schedule: Type.String(),
  mode: Type.String(),
  headerNames: Type.Array(Type.String()),
  nextRunAt: Type.String(),
  lastRun: Type.Union([
    Type.Object({
      at: Type.String(),
      status: Type.String(),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const SourceRunView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  status: Type.String({ description: 'synced | unchanged (304, nothing parsed) | failed' }),
  httpStatus: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  syncId: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.String(),
  finishedAt: Type.String(),
});
