import assert from 'node:assert/strict';
import type { Ctx } from '../sync/sync-helpers.ts';
import { makeCollection } from '../sync/sync-helpers.ts';

// Three sources of a catalog, as the field-ownership tests use them (docs/sources.md).

export async function defineSource(
  ctx: Ctx,
  collection: string,
  name: string,
  body: Record<string, unknown>,
) {
  const response = await ctx.server.request('PUT', `/v1/collections/${collection}/sources/${name}`, {
    key: ctx.key,
    body,
  });
  assert.ok(response.status === 200 || response.status === 201, response.text);
  return response;
}

/** ERP owns names and prices, a supplier the stock, a scraper the description. */
export async function threeSources(ctx: Ctx, collection: string, settings: Record<string, unknown> = {}) {
  await makeCollection(ctx, collection, settings);
  await defineSource(ctx, collection, 'erp', { fields: ['/name', '/price'], priority: 10 });
  await defineSource(ctx, collection, 'supplier', { fields: ['/stock'], priority: 5 });
  await defineSource(ctx, collection, 'scraper', {
    fields: ['/description'],
    priority: 1,
    ignoreEmpty: true,
  });
}

export const erp = [
  { id: 'p1', name: 'Chair', price: 40, stock: 999 },
  { id: 'p2', name: 'Table', price: 90 },
];
export const supplier = [
  { id: 'p1', stock: 4, name: 'supplier name' },
  { id: 'p2', stock: 0 },
];
export const scraper = [{ id: 'p1', description: 'A chair' }];
