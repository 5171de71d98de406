import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { decodeCursor, toPage } from '../../http/pagination.ts';
import { errorResponses, Page, PageQuery } from '../../http/schemas.ts';
import { CreateTenantBody, Tenant, TenantCreated } from './tenants.schemas.ts';
import type { TenantService } from './tenants.service.ts';

export const tenantRoutes: FastifyPluginAsyncTypebox<{ tenants: TenantService }> = async (
  app,
  { tenants },
) => {
  app.post(
    '/v1/tenants',
    {
      config: { auth: 'platform' },
      schema: {
        operationId: 'createTenant',
        summary: 'Create a tenant; the answer holds its first admin key, shown this once',
        description: 'Platform admin key only. The slug must be new (409 tenant_exists).',
        tags: ['tenants'],
        body: CreateTenantBody,
        response: { 201: TenantCreated, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await tenants.create(request.body)),
  );

  app.get(
    '/v1/tenants',
    {
      config: { auth: 'platform' },
      schema: {
        operationId: 'listTenants',
        summary: 'List tenants',
        description: 'Platform admin key only. In slug order.',
        tags: ['tenants'],
        querystring: PageQuery,
        response: { 200: Page(Tenant), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await tenants.list(decodeCursor(request.query.cursor), limit + 1);
      return toPage(rows, limit, (tenant) => tenant.slug);
    },
  );
};
