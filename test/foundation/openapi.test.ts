import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { registeredRoutes } from '../../src/app.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

test('GET /openapi.json is a valid OpenAPI document, without a key', async () => {
  const response = await server.request('GET', '/openapi.json');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const document = response.body;
  assert.match(document.openapi, /^3\.1\./);
  const result = await validate(structuredClone(document));
  assert.ok(result.valid, result.valid ? '' : compileErrors(result));
});

test('the document describes every API route the app serves', async () => {
  const { body: document } = await server.request('GET', '/openapi.json');
  const missing: string[] = [];
  for (const route of registeredRoutes(server.app)) {
    if (route.method === 'HEAD' || route.method === 'OPTIONS') continue;
    if (!route.url.startsWith('/v1/') && route.url !== '/health') continue;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    if (!document.paths?.[path]?.[route.method.toLowerCase()]) missing.push(`${route.method} ${path}`);
  }
  assert.deepEqual(missing, []);
  // Tenant routes declare the bearer scheme; the error answers point at the problem schema.
  assert.ok(document.components.securitySchemes.bearer);
  const getCollection = document.paths['/v1/collections/{collection}'].get;
  assert.ok(getCollection.responses['404'], 'GET /v1/collections/{collection} documents its 404');
});

test('/docs serves the browsable HTML', async () => {
  const response = await server.request('GET', '/docs');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(response.text, /<html/i);
});
