import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Fuzzes every route and method of /openapi.json through the real server: random and boundary values for
 * every path and query parameter, malformed bodies, valid and invalid auth. No answer may be a 5xx, and
 * every 4xx is problem+json with a `code`. Seeded: FUZZ_SEED repeats a run, FUZZ_REQUESTS sizes it (a
 * few hundred by default, for CI).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 400);

type Operation = {
  parameters?: { in: string; name: string; schema?: { type?: string; enum?: unknown[] } }[];
};
type Finding = { method: string; path: string; status: number; body: string; auth: string; sent: string };

let server: TestServer;
let keys: Record<string, string | undefined>;

before(async () => {
  server = await startTestServer({ bodyIdleMs: 10_000 });
  const tenant = await server.createTenant('fuzz');
  const reader = await server.createKey(tenant.key, ['read']);
  const made = await server.request('PUT', '/v1/collections/items', { key: tenant.key, body: {} });
  assert.ok(made.status < 300, made.text);
  const record = await server.request('PUT', '/v1/collections/items/records/a', {
    key: tenant.key,
    body: { id: 'a', name: 'x', nested: { deep: [1, 2] } },
  });
  assert.ok(record.status < 300, record.text);
  keys = {
    admin: tenant.key,
    reader: reader.key,
    platform: server.adminKey,
    none: undefined,
    malformed: 'smk_not-a-key',
    wrong: `${tenant.key.slice(0, -4)}AAAA`,
  };
});
after(() => server.close());

/** mulberry32: small, seedable, good enough to pick cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('no route answers 5xx, and every 4xx is problem+json with a code', { timeout: 900_000 }, async () => {
  const random = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const randomText = (max: number) => {
    const alphabet = 'aZ09-_.~ %/?#&=+:;@!$\'"()*,[]{}\\|<>^`é€😀\u0000\u0001\u00ff';
    let text = '';
    for (let i = Math.floor(random() * max); i > 0; i--) text += pick([...alphabet]);
    return text;
  };

  const PATH_VALUES = [
    'items',
    'a',
    'missing',
    '',
    ' ',
    '..',
    '.',
    '%00',
    '%FF',
    '%zz',
    'a%',
    '%2F',
    '%E2%82%AC',
    '00000000-0000-0000-0000-000000000000',
    'not-a-uuid',
    '-1',
    '0',
    '99999999999999999999',
    '1e400',
    'x'.repeat(600),
    '%41'.repeat(300),
    'null',
    'undefined',
    '__proto__',
    'constructor',
    '<script>',
    "'; DROP TABLE records; --",
  ];
  const QUERY_VALUES = [
    '',
    '0',
    '-1',
    '1',
    '1000',
    '1001',
    '99999999999999999999',
    '1.5',
    'NaN',
    'true',
    'false',
    'yes',
    'full',
    'partial',
    'all',
    'open',
    'ndjson',
    'json',
    'csv',
    '2024-02-30T00:00:00Z',
    '2020-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59Z',
    '0000-01-01',
    'now',
    '%00',
    '%FF',
    'a%',
    '/seo/title',
    '~2',
    Buffer.from(JSON.stringify(['x'])).toString('base64url'),
    Buffer.from(JSON.stringify(['99999999999999999999'])).toString('base64url'),
    Buffer.from(JSON.stringify([{}])).toString('base64url'),
    Buffer.from('not json').toString('base64url'),
    'x'.repeat(3000),
  ];
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const BODIES: (() => string | Buffer | undefined)[] = [
    () => undefined,
    () => '',
    () => '{',
    () => '{"a":',
    () => 'null',
    () => '[]',
    () => '{}',
    () => '"text"',
    () => '12345678901234567890',
    () => '1e400',
    () => '{"id":"a","n":1e400}',
    () => '{"id":"\\u0000"}',
    () => '{"id":"a","s":"\\ud800"}',
    () => '{"__proto__":{"x":1}}',
    () => '{"constructor":{"prototype":{"x":1}}}',
    () => '{"a":1,"a":2}',
    () => deep(100),
    () => deep(20_000),
    () => `{"id":"a","v":${deep(5000)}}`,
    () => Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
    () => '{"id":"a"}\n{"id":"a"}\n',
    () => '{"id":"b"}\n{bad\n',
    () => '[{"id":1},{"id":null},{"id":{}},{"id":""},7]',
    () => '{"records":[{"id":"x"}]}',
    () => '[{"op":"add","path":"/x","value":1}]',
    () => '[{"op":"move","from":"/a","path":"/a/b"}]',
    () => '{"slug":"t","name":"x"}',
    () => '{"name":"k","scopes":["read","nope"]}',
    () => '{"label":"x","pinned":"yes"}',
    () => '{"resolution":"take-source"}',
    () => '{"url":"http://127.0.0.1/feed","schedule":"* * * * *"}',
    () => '{"url":"file:///etc/passwd"}',
    () => '{"idField":"","deletePolicy":"nope","maxDeleteRatio":2}',
    () => JSON.stringify({ id: 'a', big: 'x'.repeat(200_000) }),
    () => randomText(200),
  ];
  const CONTENT_TYPES = [
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'application/x-ndjson',
    'application/merge-patch+json',
    'application/json-patch+json',
    'text/plain',
    'application/octet-stream',
    'application/json\t',
    ' application/json',
    'multipart/form-data; boundary=x',
  ];

  const doc = (await server.request('GET', '/openapi.json')).body as {
    paths: Record<string, Record<string, Operation>>;
  };
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
  );
  assert.ok(operations.length > 30, 'the OpenAPI document lists the routes');

  const findings: Finding[] = [];
  let answered = 0;
  for (let i = 0; i < REQUESTS; i++) {
    // Every operation at least once, then at random.
    const { path, method, operation } = i < operations.length ? operations[i]! : pick(operations);
    const parameters = operation.parameters ?? [];
    let url = path.replace(/\{(\w+)\}/g, () =>
      random() < 0.8 ? pick(PATH_VALUES) : encodeURIComponent(randomText(40)),
    );
    const query = parameters
      .filter((p) => p.in === 'query' && random() < 0.6)
      .map((p) => {
        const value =
          p.schema?.enum && random() < 0.3
            ? String(pick(p.schema.enum))
            : random() < 0.8
              ? pick(QUERY_VALUES)
              : randomText(30);
        return `${encodeURIComponent(p.name)}=${random() < 0.8 ? encodeURIComponent(value) : value}`;
      });
    if (random() < 0.1) query.push(`unknown=${pick(QUERY_VALUES)}`);
    if (query.length > 0) url += `?${query.join('&')}`;
    const authName = random() < 0.6 ? 'admin' : pick(Object.keys(keys));
    const headers: Record<string, string> = {};
    const key = keys[authName];
    if (key) headers.authorization = `Bearer ${key}`;
    else if (authName === 'none' && random() < 0.3)
      headers.authorization = pick(['Bearer', 'Basic abc', 'Bearer  ', '']);
    let body: string | Buffer | undefined;
    if (method !== 'GET' && method !== 'DELETE' ? true : random() < 0.1) {
      body = pick(BODIES)();
      const type = pick(CONTENT_TYPES);
      if (type !== undefined) headers['content-type'] = type;
    }
    if (random() < 0.1) headers['idempotency-key'] = pick(['', 'k', 'k'.repeat(300), 'é']);
    if (random() < 0.05)
      headers['if-match'] = pick(['"1"', '*', 'W/"x"', '"99999999999999999999"', 'garbage']);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const sent = `${method} ${url.slice(0, 200)} [${headers['content-type'] ?? '-'}] ${body === undefined ? '-' : String(body).slice(0, 60)}`;
    const answer = await send(method, url, headers, body);
    answered++;
    const problem = answer.status >= 400 && answer.status < 500 && !isProblem(answer);
    if (answer.status >= 500 || answer.status === 0 || problem) {
      findings.push({
        method,
        path,
        status: answer.status,
        body: answer.text.slice(0, 300),
        auth: authName,
        sent,
      });
    }
  }
  assert.equal(answered, REQUESTS);
  assert.deepEqual(findings, [], `seed ${SEED}: ${findings.length} bad answers`);
});

function isProblem(answer: { type: string; text: string }): boolean {
  if (!answer.type.startsWith('application/problem+json')) return false;
  try {
    return typeof (JSON.parse(answer.text) as { code?: unknown }).code === 'string';
  } catch {
    return false;
  }
}

/** A raw request: the path goes out exactly as built (fetch would normalise malformed encoding). */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve) => {
    // Only what Node refuses to send is escaped; a raw `%` (malformed encoding) goes out as is.
    const raw = [...path].map((c) => (/[\x21-\x7e]/.test(c) ? c : encodeURIComponent(c))).join('');
    const request = httpRequest(`${server.url}/`, { method, path: raw, headers, agent: false });
    // A malformed answer (e.g. two responses to one request) is a finding too, with status 0.
    request.on('error', (error) => resolve({ status: 0, type: '', text: String(error) }));
    request.on('response', async (response) => {
      let text = '';
      try {
        for await (const chunk of response) text += chunk;
      } catch (error) {
        resolve({ status: 0, type: '', text: String(error) });
        return;
      }
      resolve({ status: response.statusCode!, type: String(response.headers['content-type'] ?? ''), text });
    });
    request.end(body);
  });
}
