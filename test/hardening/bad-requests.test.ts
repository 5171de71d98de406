import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startTestServer, type TestResponse, type TestServer } from '../helpers/server.ts';

/** Issue 20 items 11-14: requests that answered 500 or Fastify's own JSON now answer a 4xx problem. */
let server: TestServer;
let tenant: { id: string; key: string };

before(async () => {
  server = await startTestServer();
  tenant = await server.createTenant('acme');
  const made = await server.request('PUT', '/v1/collections/items', { key: tenant.key, body: {} });
  assert.ok(made.status < 300, made.text);
});
after(() => server.close());

function assertProblem(response: TestResponse, status: number, code: string): void {
  assert.equal(response.status, status, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(response.body.code, code, response.text);
}

const cursorOf = (key: unknown) => Buffer.from(JSON.stringify([key])).toString('base64url');

test('every listing refuses a cursor of the right encoding but the wrong key with 400 invalid_cursor', async () => {
  const cases: [string, string, string][] = [
    ['/v1/api-keys', cursorOf('abc'), tenant.key],
    ['/v1/snapshots', cursorOf('9999999999999999999'), tenant.key],
    ['/v1/snapshots', cursorOf('-1'), tenant.key],
    ['/v1/snapshots/00000000-0000-0000-0000-000000000000/diff', cursorOf('["x",null]'), tenant.key],
    ['/v1/collections', cursorOf(7), tenant.key],
    ['/v1/collections/items/syncs', cursorOf('yesterday|abc'), tenant.key],
    ['/v1/collections/items/conflicts', cursorOf('abc'), tenant.key],
    ['/v1/collections/items/records', 'not base64 at all!', tenant.key],
    ['/v1/tenants', cursorOf(['nested']), server.adminKey],
  ];
  for (const [path, cursor, key] of cases) {
    const response = await server.request('GET', `${path}?cursor=${encodeURIComponent(cursor)}`, { key });
    assert.ok(response.status < 500, `${path}: ${response.status} ${response.text}`);
    if (!path.includes('/diff')) assertProblem(response, 400, 'invalid_cursor');
  }
  // The two that answered 500 before (uuid syntax, bigint overflow): exactly invalid_cursor.
  assertProblem(
    await server.request('GET', `/v1/api-keys?cursor=${cursorOf('abc')}`, { key: tenant.key }),
    400,
    'invalid_cursor',
  );
  assertProblem(
    await server.request('GET', `/v1/snapshots?cursor=${cursorOf('9999999999999999999')}`, {
      key: tenant.key,
    }),
    400,
    'invalid_cursor',
  );
});

test('an Idempotency-Key longer than 255 characters is refused with 400 before anything runs', async () => {
  const response = await server.request('POST', '/v1/collections/items/syncs?mode=partial', {
    key: tenant.key,
    rawBody: '{"id":"a"}\n',
    headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'k'.repeat(10_000) },
  });
  assertProblem(response, 400, 'validation_failed');
  assert.match(response.body.detail, /255/);
  const runs = await server.request('GET', '/v1/collections/items/syncs', { key: tenant.key });
  assert.deepEqual(runs.body.items, []);
  const longest = await server.request('POST', '/v1/collections/items/syncs?mode=partial', {
    key: tenant.key,
    rawBody: '{"id":"a"}\n',
    headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'k'.repeat(255) },
  });
  assert.equal(longest.status, 200, longest.text);
});

/** A raw request: fetch and URL would normalise a malformed path before sending it. */
function rawGet(
  path: string,
  key: string,
): Promise<{ status: number; type: string; body: { code?: string; instance?: unknown } }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${server.url}/`, {
      method: 'GET',
      path,
      headers: { authorization: `Bearer ${key}` },
    });
    request.on('error', reject);
    request.on('response', async (response) => {
      let text = '';
      for await (const chunk of response) text += chunk;
      resolve({
        status: response.statusCode!,
        type: String(response.headers['content-type']),
        body: JSON.parse(text),
      });
    });
    request.end();
  });
}

test('a path with malformed percent-encoding answers 400 problem+json', async () => {
  for (const path of [
    '/v1/collections/items/records/%FF',
    '/v1/collections/items/records/%zz',
    '/v1/collections/items/records/a%',
    '/v1/collections/%E0%A4%A',
  ]) {
    const response = await rawGet(path, tenant.key);
    assert.equal(response.status, 400, `${path}: ${JSON.stringify(response.body)}`);
    assert.match(response.type, /^application\/problem\+json/);
    assert.equal(response.body.code, 'validation_failed');
    assert.equal(typeof response.body.instance, 'string');
  }
});

test('a JSON body with a member name twice in one object is refused with 422 naming its pointer', async () => {
  const response = await server.request('PUT', '/v1/collections/items/records/d', {
    key: tenant.key,
    rawBody: '{"id":"d","seo":{"title":"one","\\u0074itle":"two"}}',
    headers: { 'content-type': 'application/json' },
  });
  assertProblem(response, 422, 'unsafe_json');
  assert.deepEqual(
    response.body.errors.map((e: { pointer: string; reason: string }) => [e.pointer, e.reason]),
    [['/seo/title', 'duplicate-member']],
  );
  assert.equal(
    (await server.request('GET', '/v1/collections/items/records/d', { key: tenant.key })).status,
    404,
  );
  // The same name in two different objects is no duplicate.
  const fine = await server.request('PUT', '/v1/collections/items/records/d', {
    key: tenant.key,
    rawBody: '{"id":"d","a":{"id":1},"b":[{"id":2},{"id":3}]}',
    headers: { 'content-type': 'application/json' },
  });
  assert.ok(fine.status < 300, fine.text);
});

test('bytes that are not HTTP are answered with problem+json and the connection closed', async () => {
  const { port } = new URL(server.url);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n');
    });
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
  const [head, body] = answer.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 400 /);
  assert.match(head!, /content-type: application\/problem\+json/i);
  assert.equal(JSON.parse(body!).code, 'validation_failed');
});
