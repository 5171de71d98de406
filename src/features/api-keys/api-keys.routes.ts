import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { tenantOf } from '../../http/auth.ts';
import { decodeUuidCursor, toPage } from '../../http/pagination.ts';
import { errorResponses, Page, PageQuery } from '../../http/schemas.ts';
import { ApiKey, ApiKeyCreated, CreateApiKeyBody, KeyIdParams } from './api-keys.schemas.ts';
import type { ApiKeyService } from './api-keys.service.ts';

export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ keys: ApiKeyService }> = async (app, { keys }) => {
  app.get(
    '/v1/api-keys',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listApiKeys',
        summary: "List the tenant's API keys (never their secrets)",
        description: 'Each key with its name, scopes, a hint of its secret and when it was last used.',
        tags: ['api-keys'],
        querystring: PageQuery,
        response: { 200: Page(ApiKey), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await keys.list(tenantOf(request), decodeUuidCursor(request.query.cursor), limit + 1);
      return toPage(rows, limit, (key) => key.id);
    },
  );

  app.post(
    '/v1/api-keys',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createApiKey',
        summary: 'Create an API key; the secret is in this answer only',
        description: 'Scopes: read, write, admin. Store `key` now: it is never shown again.',
        tags: ['api-keys'],
        body: CreateApiKeyBody,
        response: { 201: ApiKeyCreated, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => reply.code(201).send(await keys.create(tenantOf(request), request.body)),
  );

  app.delete(
    '/v1/api-keys/:keyId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key: it stops working at once',
        description: 'The key is kept, marked revoked, so listings still show it.',
        tags: ['api-keys'],
        params: KeyIdParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await keys.revoke(tenantOf(request), request.params.keyId);
      return reply.code(204).send(null);
    },
  );
};
