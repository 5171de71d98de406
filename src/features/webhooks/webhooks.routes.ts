import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { tenantOf } from '../../http/auth.ts';
import { decodeCursor, encodeCursor } from '../../http/pagination.ts';
import { errorResponses, Page } from '../../http/schemas.ts';
import {
  CreateWebhookBody,
  DeliveryParams,
  DeliveryView,
  ListQuery,
  RotateSecretBody,
  TestResult,
  UpdateWebhookBody,
  WebhookParams,
  WebhookView,
  WebhookWithSecret,
} from './webhooks.schemas.ts';
import { DEFAULT_ROTATION_GRACE_HOURS, type DeliveryRow, type WebhookService } from './webhooks.service.ts';

const tags = ['webhooks'];

export const webhookRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhookService }> = async (
  app,
  { webhooks },
) => {
  app.post(
    '/v1/webhooks',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createWebhook',
        summary: 'Register an endpoint; its signing secret is shown this once',
        description: 'Events are signed per Standard Webhooks (docs/changes.md). The URL must be public.',
        tags,
        body: CreateWebhookBody,
        response: { 201: WebhookWithSecret, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await webhooks.create(tenantOf(request), request.body)),
  );

  app.get(
    '/v1/webhooks',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listWebhooks',
        summary: 'The endpoints of the tenant (never their secrets)',
        description: 'Paginated by id.',
        tags,
        querystring: ListQuery,
        response: { 200: Page(WebhookView), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const items = await webhooks.list(tenantOf(request), decodeUuid(request.query.cursor), limit + 1);
      const page = items.slice(0, limit);
      return {
        items: page,
        nextCursor: items.length > limit ? encodeCursor(page[page.length - 1]!.id) : null,
      };
    },
  );

  app.get(
    '/v1/webhooks/:webhookId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getWebhook',
        summary: 'One endpoint',
        description: 'With why it was disabled, if it was.',
        tags,
        params: WebhookParams,
        response: { 200: WebhookView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => webhooks.get(tenantOf(request), request.params.webhookId),
  );

  app.patch(
    '/v1/webhooks/:webhookId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'updateWebhook',
        summary: 'Change an endpoint: url, events, collections, enabled, description',
        description:
          'Members left out stay as they are. Enabling a disabled endpoint resumes its deliveries.',
        tags,
        params: WebhookParams,
        body: UpdateWebhookBody,
        response: { 200: WebhookView, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => webhooks.update(tenantOf(request), request.params.webhookId, request.body),
  );

  app.delete(
    '/v1/webhooks/:webhookId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'deleteWebhook',
        summary: 'Remove an endpoint and its deliveries',
        description: 'Deliveries in flight may still arrive once.',
        tags,
        params: WebhookParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await webhooks.delete(tenantOf(request), request.params.webhookId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/webhooks/:webhookId/rotate-secret',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'A new signing secret, shown once; the old one keeps signing for a grace period',
        description: 'While both are valid, webhook-signature carries a signature by each.',
        tags,
        params: WebhookParams,
        body: Type.Optional(RotateSecretBody),
        response: { 200: WebhookWithSecret, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      webhooks.rotateSecret(
        tenantOf(request),
        request.params.webhookId,
        request.body?.graceHours ?? DEFAULT_ROTATION_GRACE_HOURS,
      ),
  );

  app.get(
    '/v1/webhooks/:webhookId/deliveries',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'Deliveries to an endpoint, newest first, each with its attempts',
        description: 'Status, response codes, durations and the next attempt.',
        tags,
        params: WebhookParams,
        querystring: ListQuery,
        response: { 200: Page(DeliveryView), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await webhooks.deliveries(
        tenantOf(request),
        request.params.webhookId,
        decodeDeliveryCursor(request.query.cursor),
        limit + 1,
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(toDeliveryView),
        nextCursor: rows.length > limit && last ? encodeCursor(`${last.created_key}|${last.id}`) : null,
      };
    },
  );

  app.post(
    '/v1/webhooks/:webhookId/deliveries/:deliveryId/retry',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'retryWebhookDelivery',
        summary: 'Send a delivery again now (same webhook-id), with a fresh retry window',
        description: 'Works on failed, succeeded and pending deliveries alike.',
        tags,
        params: DeliveryParams,
        response: { 202: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await webhooks.retry(tenantOf(request), request.params.webhookId, request.params.deliveryId);
      return reply.code(202).send(null);
    },
  );

  app.post(
    '/v1/webhooks/:webhookId/test',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'testWebhook',
        summary: 'Send a webhook.test ping to this endpoint',
        description: 'Delivered like any event; see its delivery in the listing.',
        tags,
        params: WebhookParams,
        response: { 202: TestResult, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await webhooks.test(tenantOf(request), request.params.webhookId)),
  );
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

function decodeUuid(cursor: string | undefined): string | null {
  const id = decodeCursor(cursor);
  if (id !== null && !UUID.test(id))
    throw new AppError('invalid_cursor', 'The cursor is not one this API returned');
  return id;
}

function decodeDeliveryCursor(cursor: string | undefined): { createdAt: string; id: string } | null {
  const key = decodeCursor(cursor);
  if (key === null) return null;
  const [createdAt, id] = key.split('|');
  if (!createdAt || !id || !KEY.test(createdAt) || !UUID.test(id)) {
    throw new AppError('invalid_cursor', 'The cursor is not one this API returned');
  }
  return { createdAt, id };
}

function toDeliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    eventId: row.event_id,
    webhookId: `msg_${row.event_id}`,
    type: row.type,
    status: row.status as 'pending' | 'succeeded' | 'failed',
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    attemptList: row.attempt_list,
  };
}
