import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BODY_LIMIT } from '../../src/app.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertProblem, tenantFingerprint } from './fixtures.ts';

let server: TestServer;
let tenant: { id: string; slug: string; key: string };
before(async () => {
  server = await startTestServer();
  tenant = await server.createTenant('input-tenant');
});
after(() => server.close());

/** Counts every row the bad requests below could have written. */
async function everything(): Promise<string> {
  const [counts] = await server.db.query(
    `SELECT (SELECT count(*)::int FROM tenants) AS tenants, (SELECT count(*)::int FROM api_keys) AS keys,
            (SELECT count(*)::int FROM collections) AS collections`,
  );
  return JSON.stringify({ counts, rows: await tenantFingerprint(server.db, tenant.id) });
}

const json = { 'content-type': 'application/json' };

test('malformed JSON, wrong types, unknown fields and invalid names are 400 problems that write nothing', async () => {
  const before = await everything();
  const cases: [string, string, { rawBody?: string; body?: unknown; key?: string }, string][] = [
    ['PUT', '/v1/collections/c1', { rawBody: '{"idField": ' }, 'invalid_json'],
    ['PUT', '/v1/collections/c1', { rawBody: '{"idField": "a",}' }, 'invalid_json'],
    ['POST', '/v1/api-keys', { rawBody: "{'name': 'x'}" }, 'invalid_json'],
    ['PUT', '/v1/collections/c1', { body: { maxDeleteRatio: '0.5' } }, 'validation_failed'],
    ['PUT', '/v1/collections/c1', { body: { maxDeleteRatio: 2 } }, 'validation_failed'],
    ['PUT', '/v1/collections/c1', { body: { deletePolicy: 'sometimes' } }, 'validation_failed'],
    ['PUT', '/v1/collections/c1', { body: [] }, 'validation_failed'],
    ['PUT', '/v1/collections/c1', { body: 'products' }, 'validation_failed'],
    ['PUT', '/v1/collections/c1', { body: { idField: 'id', colour: 'blue' } }, 'validation_failed'],
    ['POST', '/v1/api-keys', { body: { name: 'x', scopes: ['read'], admin: true } }, 'validation_failed'],
    ['POST', '/v1/api-keys', { body: { name: 'x', scopes: ['root'] } }, 'validation_failed'],
    ['POST', '/v1/api-keys', { body: { name: 'x', scopes: [] } }, 'validation_failed'],
    ['POST', '/v1/api-keys', { body: { name: 42, scopes: ['read'] } }, 'validation_failed'],
    ['PUT', '/v1/collections/-starts-with-dash', { body: {} }, 'validation_failed'],
    ['PUT', '/v1/collections/has%20space', { body: {} }, 'validation_failed'],
    ['PUT', '/v1/collections/%C3%A9t%C3%A9', { body: {} }, 'validation_failed'],
    ['PUT', `/v1/collections/${'x'.repeat(65)}`, { body: {} }, 'validation_failed'],
    ['DELETE', '/v1/api-keys/not-a-uuid', {}, 'validation_failed'],
    ['GET', '/v1/collections?limit=0', {}, 'validation_failed'],
    ['GET', '/v1/collections?limit=100000', {}, 'validation_failed'],
    ['GET', '/v1/collections?limit=ten', {}, 'validation_failed'],
    ['GET', '/v1/collections?cursor=%%%', {}, 'invalid_cursor'],
    ['GET', '/v1/collections?cursor=bm90LWpzb24', {}, 'invalid_cursor'],
  ];
  for (const [method, path, options, code] of cases) {
    const headers = options.rawBody !== undefined ? json : undefined;
    const response = await server.request(method, path, {
      key: tenant.key,
      ...options,
      ...(headers ? { headers } : {}),
    });
    assertProblem(response, 400, code || undefined);
  }
  const platformCases: unknown[] = [
    { slug: 'Has Space' },
    { slug: '' },
    { slug: 'ok', name: '' },
    { slug: 'ok', plan: 'gold' },
    { slug: 5 },
    {},
  ];
  for (const body of platformCases) {
    assertProblem(
      await server.request('POST', '/v1/tenants', { key: server.adminKey, body }),
      400,
      'validation_failed',
    );
  }
  // __proto__ is refused (400 by Fastify's poisoning guard, or 422 by a stricter JSON parser).
  const poisoned = await server.request('POST', '/v1/api-keys', {
    key: tenant.key,
    rawBody: '{"name":"x","scopes":["read"],"__proto__":{"admin":true}}',
    headers: json,
  });
  assert.ok([400, 422].includes(poisoned.status), poisoned.text);
  assertProblem(poisoned, poisoned.status);
  assert.equal(await everything(), before);
});

test('a body over the limit is 413, and writes nothing', async () => {
  const before = await everything();
  const big = JSON.stringify({ idField: 'x'.repeat(BODY_LIMIT + 10) });
  const response = await server.request('PUT', '/v1/collections/too-big', {
    key: tenant.key,
    rawBody: big,
    headers: json,
  });
  assertProblem(response, 413, 'payload_too_large');
  const justUnder = JSON.stringify({ name: 'x', scopes: ['read'], pad: 'y'.repeat(BODY_LIMIT - 100) });
  const under = await server.request('POST', '/v1/api-keys', {
    key: tenant.key,
    rawBody: justUnder,
    headers: json,
  });
  assertProblem(under, 400, 'validation_failed'); // read and validated, refused for the unknown member
  assert.equal(await everything(), before);
});

test('unsupported content types are 415, and write nothing', async () => {
  const before = await everything();
  const types = [
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/xml',
    'multipart/form-data; boundary=x',
  ];
  for (const type of types) {
    const response = await server.request('PUT', '/v1/collections/typed', {
      key: tenant.key,
      rawBody: '{}',
      headers: { 'content-type': type },
    });
    assertProblem(response, 415, 'unsupported_media_type');
  }
  assert.equal(await everything(), before);
});

test('an empty body where one is required is a 400 problem', async () => {
  const response = await server.request('POST', '/v1/api-keys', {
    key: tenant.key,
    rawBody: '',
    headers: json,
  });
  assertProblem(response, 400);
  assert.ok(['invalid_json', 'validation_failed'].includes(response.body.code));
});

test('unknown routes are a 404 problem; a wrong method is 405 with an Allow header', async () => {
  for (const path of ['/nope', '/v1', '/v1/collection', '/v1/collections/a/b/c/d/e']) {
    const response = await server.request('GET', path, { key: tenant.key });
    assertProblem(response, 404, 'route_not_found');
  }
  const cases: [string, string, string[]][] = [
    ['PATCH', '/v1/collections', ['GET']],
    ['POST', '/v1/collections/x', ['GET', 'PUT', 'DELETE']],
    ['PUT', '/v1/tenants', ['GET', 'POST']],
    ['DELETE', '/v1/api-keys', ['GET', 'POST']],
    ['POST', '/health', ['GET']],
  ];
  for (const [method, path, expected] of cases) {
    const response = await server.request(method, path, { key: tenant.key });
    assertProblem(response, 405, 'method_not_allowed');
    const allow = (response.headers.get('allow') ?? '').split(/,\s*/);
    for (const m of expected) assert.ok(allow.includes(m), `${method} ${path}: Allow ${allow} lacks ${m}`);
    assert.ok(!allow.includes(method), `${method} ${path}: Allow lists ${method}`);
  }
});

test('problem answers carry instance = x-request-id, unique per request; a client id is kept only when plain', async () => {
  const first = await server.request('GET', '/nope', { headers: { 'x-request-id': 'chosen by client <b>' } });
  const second = await server.request('GET', '/nope');
  const third = await server.request('GET', '/nope', { headers: { 'x-request-id': 'chosen-by-client' } });
  assertProblem(first, 404);
  assertProblem(second, 404);
  assert.notEqual(first.body.instance, 'chosen by client <b>');
  assert.notEqual(first.body.instance, second.body.instance);
  assert.equal(third.body.instance, 'chosen-by-client');
});
