import { Type } from 'typebox';
import { Name, PageQuery } from '../../http/schemas.ts';
import { WEBHOOK_EVENTS } from './webhooks.service.ts';

export const WebhookParams = Type.Object({ webhookId: Type.String({ format: 'uuid' }) });
export const DeliveryParams = Type.Object({
  webhookId: Type.String({ format: 'uuid' }),
  deliveryId: Type.String({ format: 'uuid' }),
});

const EventName = Type.Union(
  WEBHOOK_EVENTS.map((event) => Type.Literal(event)),
  { description: 'An event type' },
);
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'http(s); public addresses only' });
const Collections = Type.Union([Type.Array(Name, { maxItems: 100 }), Type.Null()], {
  description: 'Only events of these collections (null: all)',
});
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    events: Type.Array(EventName, { minItems: 1, maxItems: 20 }),
    collections: Type.Optional(Collections),
    enabled: Type.Optional(Type.Boolean()),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Type.Array(EventName, { minItems: 1, maxItems: 20 })),
    collections: Type.Optional(Collections),
    enabled: Type.Optional(Type.Boolean({ description: 'true also clears the reason it was disabled' })),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);

export const RotateSecretBody = Type.Object(
  {
    graceHours: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 720,
        description: 'How long the old secret keeps signing (default 24)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const WebhookView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  collections: Type.Union([Type.Array(Type.String()), Type.Null()]),
  enabled: Type.Boolean(),
  description: Type.Union([Type.String(), Type.Null()]),
  disabledReason: Type.Union([Type.String(), Type.Null()]),
  failingSince: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  previousSecretExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const WebhookWithSecret = Type.Intersect([
  WebhookView,
  Type.Object({ secret: Type.String({ description: 'whsec_…: shown this once' }) }),
]);

export const DeliveryView = Type.Object({
  id: Type.String(),
  eventId: Type.String(),
  webhookId: Type.String({ description: 'The webhook-id header: msg_<eventId>, the same at every attempt' }),
  type: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  attemptList: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      at: Type.String(),
      statusCode: Type.Union([Type.Integer(), Type.Null()]),
      durationMs: Type.Integer(),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export const ListQuery = PageQuery;

export const TestResult = Type.Object({ deliveryId: Type.String(), eventId: Type.String() });
