import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { registeredRoutes } from '../../src/app.ts';
import { type RequestOptions, startTestServer, type TestServer } from '../helpers/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON
type Json = any;

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;
/** Operations that take no request body (actions named by their path). */
const BODYLESS = new Set([
  'runSource',
  'pruneSnapshots',
  'retryWebhookDelivery',
  'testWebhook',
  'revertSync',
  'approveSync',
  'rejectSync',
]);

let server: TestServer;
let document: Json;
before(async () => {
  server = await startTestServer();
  document = (await server.request('GET', '/openapi.json')).body;
});
after(() => server.close());

function operations(): { method: string; path: string; operation: Json }[] {
  return Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ method, path, operation: item[method] })),
  );
}

test('GET /openapi.json is a valid OpenAPI document, without a key', async () => {
  const response = await server.request('GET', '/openapi.json');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.match(response.body.openapi, /^3\.1\./);
  const result = await validate(structuredClone(response.body));
  assert.ok(result.valid, result.valid ? '' : compileErrors(result));
});

test('the document describes every API route the app serves', () => {
  const missing: string[] = [];
  for (const route of registeredRoutes(server.app)) {
    if (route.method === 'HEAD' || route.method === 'OPTIONS') continue;
    if (!route.url.startsWith('/v1/') && route.url !== '/health') continue;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    if (!document.paths?.[path]?.[route.method.toLowerCase()]) missing.push(`${route.method} ${path}`);
  }
  assert.deepEqual(missing, []);
  assert.ok(document.components.securitySchemes.bearer);
});

test('every operation has a unique camelCase operationId, a summary, a description and tags', () => {
  const seen = new Map<string, string>();
  const faults: string[] = [];
  for (const { method, path, operation } of operations()) {
    const where = `${method.toUpperCase()} ${path}`;
    const id = operation.operationId;
    if (typeof id !== 'string' || !/^[a-z]+[A-Z][A-Za-z]*$/.test(id))
      faults.push(`${where}: operationId ${id}`);
    else if (seen.has(id)) faults.push(`${where}: operationId ${id} also on ${seen.get(id)}`);
    else seen.set(id, where);
    for (const field of ['summary', 'description'] as const) {
      if (typeof operation[field] !== 'string' || operation[field] === '')
        faults.push(`${where}: no ${field}`);
    }
    if (!Array.isArray(operation.tags) || operation.tags.length === 0) faults.push(`${where}: no tags`);
  }
  assert.deepEqual(faults, []);
});

test('every POST, PUT and PATCH documents its request body; the hand-read ones with each media type', () => {
  const faults: string[] = [];
  for (const { method, path, operation } of operations()) {
    if (!['post', 'put', 'patch'].includes(method) || BODYLESS.has(operation.operationId)) continue;
    if (!operation.requestBody?.content) faults.push(`${method.toUpperCase()} ${path}: no request body`);
  }
  assert.deepEqual(faults, []);
  const mediaTypes = (path: string, method: string) =>
    Object.keys(document.paths[path][method].requestBody.content).sort();
  assert.deepEqual(mediaTypes('/v1/collections/{collection}/syncs', 'post'), [
    'application/json',
    'application/jsonl',
    'application/ndjson',
    'application/x-ndjson',
  ]);
  assert.deepEqual(mediaTypes('/v1/collections/{collection}/records/{id}', 'put'), ['application/json']);
  assert.deepEqual(mediaTypes('/v1/collections/{collection}/records/{id}', 'patch'), [
    'application/json',
    'application/json-patch+json',
    'application/merge-patch+json',
  ]);
  const jsonPatch = document.paths['/v1/collections/{collection}/records/{id}'].patch.requestBody.content;
  assert.deepEqual(jsonPatch['application/json-patch+json'].schema.items, {
    $ref: '#/components/schemas/JsonPatchOperation',
  });
  const ops = document.components.schemas.JsonPatchOperation.anyOf.flatMap(
    (member: Json) => member.properties.op.enum,
  );
  assert.deepEqual(ops.sort(), ['add', 'copy', 'move', 'remove', 'replace', 'test']);
});

test('every error response is the shared Problem as application/problem+json, and only that', () => {
  const faults: string[] = [];
  for (const { method, path, operation } of operations()) {
    for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
      if (Number(status) < 400) continue;
      const content = response.content ?? {};
      const ok =
        Object.keys(content).join() === 'application/problem+json' &&
        content['application/problem+json'].schema?.$ref === '#/components/schemas/Problem';
      if (!ok) faults.push(`${method.toUpperCase()} ${path} ${status}`);
    }
  }
  assert.deepEqual(faults, []);
  assert.deepEqual(document.components.schemas.Problem.required, [
    'type',
    'title',
    'status',
    'detail',
    'code',
    'instance',
  ]);
});

test('enums list every value, headers in and out are documented', () => {
  const sync = document.paths['/v1/collections/{collection}/syncs'].post;
  const parameter = (operation: Json, name: string) =>
    operation.parameters.find((p: Json) => p.name === name && p.in !== 'path');
  assert.deepEqual(parameter(sync, 'mode').schema.enum, ['full', 'partial']);
  assert.ok(parameter(sync, 'idempotency-key'));
  assert.ok(sync.responses['200'].headers['Idempotent-Replayed']);
  const settings = document.paths['/v1/collections/{collection}'].put.requestBody.content['application/json'];
  assert.deepEqual(settings.schema.properties.deletePolicy.enum, ['delete', 'keep']);
  const resolve = document.paths['/v1/collections/{collection}/conflicts/{conflictId}/resolve'].post;
  assert.deepEqual(resolve.requestBody.content['application/json'].schema.properties.resolution.enum, [
    'keep-manual',
    'take-source',
  ]);
  const record = document.paths['/v1/collections/{collection}/records/{id}'];
  assert.ok(parameter(record.patch, 'if-match'));
  assert.ok(parameter(record.get, 'if-none-match'));
  assert.ok(record.get.responses['200'].headers.ETag);
  assert.ok(record.patch.responses['200'].headers.ETag);
  assert.ok(record.patch.responses['401'].headers['WWW-Authenticate']);
});

/** (method, path template, status, media type) of every answer the scenario below saw. */
const observed: {
  method: string;
  template: string;
  status: number;
  mediaType: string;
  path: string;
  bytes: number;
}[] = [];

function templateOf(path: string): string {
  const bare = path.split('?')[0]!;
  const candidates = Object.keys(document.paths).filter((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare),
  );
  // A literal segment wins over a parameter (/v1/snapshots/prune over /v1/snapshots/{snapshotId}).
  candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  assert.ok(candidates[0], `no path of the document matches ${bare}`);
  return candidates[0];
}

async function call(method: string, path: string, options: RequestOptions = {}) {
  const response = await server.request(method, path, options);
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  observed.push({
    method: method.toLowerCase(),
    template: templateOf(path),
    status: response.status,
    mediaType,
    path,
    bytes: response.text.length,
  });
  return response;
}

test('the answers the API gives are the ones its operations declare, with their media types', async () => {
  const tenant = await server.createTenant('observed');
  const reader = await server.createKey(tenant.key, ['read']);
  const key = tenant.key;
  const records = '/v1/collections/products/records';
  assert.equal((await call('PUT', '/v1/collections/products', { key, body: {} })).status, 201);
  const feed = [
    { id: 'p1', name: 'Lamp', price: 5 },
    { id: 'p2', name: 'Shelf', price: 80 },
  ];
  assert.equal((await call('POST', '/v1/collections/products/syncs', { key, body: feed })).status, 200);
  const ndjson = `${feed.map((record) => JSON.stringify(record)).join('\n')}\n`;
  const headers = { 'content-type': 'application/x-ndjson', 'idempotency-key': 'observed-1' };
  assert.equal(
    (await call('POST', '/v1/collections/products/syncs', { key, rawBody: ndjson, headers })).status,
    200,
  );
  const read = await call('GET', `${records}/p1`, { key });
  const etag = read.headers.get('etag')!;
  assert.ok(etag);
  const notModified = await call('GET', `${records}/p1`, { key, headers: { 'if-none-match': etag } });
  assert.equal(notModified.status, 304);
  const patched = await call('PATCH', `${records}/p1`, {
    key,
    rawBody: JSON.stringify({ price: 4 }),
    headers: { 'content-type': 'application/merge-patch+json', 'if-match': etag },
  });
  assert.equal(patched.status, 200, patched.text);
  const stale = await call('PATCH', `${records}/p1`, {
    key,
    rawBody: JSON.stringify({ price: 3 }),
    headers: { 'content-type': 'application/merge-patch+json', 'if-match': etag },
  });
  assert.equal(stale.status, 412);
  const failedTest = await call('PATCH', `${records}/p1`, {
    key,
    rawBody: JSON.stringify([{ op: 'test', path: '/price', value: 99 }]),
    headers: { 'content-type': 'application/json-patch+json' },
  });
  assert.equal(failedTest.status, 409);
  assert.equal((await call('PUT', `${records}/p3`, { key, body: { name: 'Chair' } })).status, 201);
  assert.equal((await call('DELETE', `${records}/p3`, { key })).status, 204);
  assert.equal((await call('GET', `${records}/missing`, { key })).status, 404);
  assert.equal((await call('GET', records)).status, 401);
  assert.equal((await call('GET', records, { key: 'smk_not_a_key' })).status, 401);
  assert.equal((await call('PATCH', `${records}/p1`, { key: reader.key, body: { price: 1 } })).status, 403);
  const wrongType = await call('POST', '/v1/collections/products/syncs', {
    key,
    rawBody: 'id,name',
    headers: { 'content-type': 'text/csv' },
  });
  assert.equal(wrongType.status, 415);
  const invalidFeed = await call('POST', '/v1/collections/products/syncs', {
    key,
    body: [{ name: 'no id' }],
  });
  assert.equal(invalidFeed.status, 422);
  assert.equal((await call('GET', `${records}?limit=0`, { key })).status, 400);

  // Upstream moves the price under the override: a conflict, resolved once, refused the second time.
  const moved = [{ ...feed[0], price: 6 }, feed[1]];
  assert.equal((await call('POST', '/v1/collections/products/syncs', { key, body: moved })).status, 200);
  const conflicts = await call('GET', '/v1/collections/products/conflicts', { key });
  assert.equal(conflicts.body.items.length, 1, conflicts.text);
  const resolve = `/v1/collections/products/conflicts/${conflicts.body.items[0].id}/resolve`;
  assert.equal((await call('POST', resolve, { key, body: { resolution: 'keep-manual' } })).status, 200);
  assert.equal((await call('POST', resolve, { key, body: { resolution: 'take-source' } })).status, 409);
  assert.equal((await call('GET', '/v1/collections/products/export', { key })).status, 200);
  assert.equal((await call('GET', '/v1/collections/products/export?format=ndjson', { key })).status, 200);

  const faults: string[] = [];
  for (const { method, template, status, mediaType, path, bytes } of observed) {
    const where = `${method.toUpperCase()} ${path} → ${status} ${mediaType}`;
    const declared = document.paths[template][method]?.responses?.[String(status)];
    if (!declared) {
      faults.push(`${where}: status not declared`);
      continue;
    }
    const mediaTypes = Object.keys(declared.content ?? {});
    // No content declared: no body (a 304 may still name the representation's type).
    if (mediaTypes.length === 0 ? bytes !== 0 : !mediaTypes.includes(mediaType)) {
      faults.push(`${where}: declared ${mediaTypes.join(', ') || 'no content'}`);
    }
  }
  assert.deepEqual(faults, []);
  const statuses = new Set(observed.map((answer) => answer.status));
  for (const status of [200, 201, 204, 304, 400, 401, 403, 404, 409, 412, 415, 422]) {
    assert.ok(statuses.has(status), `the scenario saw a ${status}`);
  }
});

test('/docs serves the browsable HTML', async () => {
  const response = await server.request('GET', '/docs');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(response.text, /<html/i);
});
