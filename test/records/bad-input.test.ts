import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MERGE, type RecordsFixture, startRecordsFixture } from './fixture.ts';

let f: RecordsFixture;
before(async () => {
  f = await startRecordsFixture();
  await f.call('PUT', f.records('b1'), { body: { name: 'ok' } });
});
after(() => f.close());

const JSON_TYPE = { 'content-type': 'application/json' };

/** Sends `raw` as a PUT and a merge PATCH; both must refuse with `status` and leave b1 as it was. */
async function refused(raw: string | Uint8Array, status: number, code: string, detail: RegExp) {
  for (const [method, headers] of [
    ['PUT', JSON_TYPE],
    ['PATCH', MERGE],
  ] as const) {
    const response = await f.call(method, f.records('b1'), { rawBody: raw, headers });
    assert.equal(response.status, status, `${method}: ${response.text}`);
    assert.equal(response.body.code, code);
    assert.match(response.headers.get('content-type') ?? '', /problem\+json/);
    assert.match(response.body.detail, detail);
  }
  const get = await f.call('GET', f.records('b1'));
  assert.deepEqual(get.body, { id: 'b1', name: 'ok' });
  assert.equal(get.headers.get('etag'), '"1"');
}

function nested(depth: number): string {
  return `{"name":"x","deep":${'['.repeat(depth)}1${']'.repeat(depth)}}`;
}

test('nesting deeper than 64 levels → 422 naming the pointer; 64 is stored exactly', async () => {
  await refused(nested(64), 422, 'unsafe_json', /"\/deep(\/0)+".*deeper than 64/);
  const ok = await f.call('PUT', f.records('deep'), { rawBody: nested(63), headers: JSON_TYPE });
  assert.equal(ok.status, 201, ok.text);
  const get = await f.call('GET', f.records('deep'));
  assert.equal(JSON.stringify(get.body.deep), `${'['.repeat(63)}1${']'.repeat(63)}`);
  await refused(nested(20000), 422, 'unsafe_json', /deeper than 64/);
});

test('\\u0000 in a string or a key → 422 naming the pointer', async () => {
  await refused('{"name":"a\\u0000b"}', 422, 'unsafe_json', /"\/name".*NUL/);
  await refused('{"na\\u0000me":"x"}', 422, 'unsafe_json', /NUL/);
});

test('lone surrogates → 422 naming the pointer; a proper pair is stored exactly', async () => {
  await refused('{"name":{"t":"\\ud800"}}', 422, 'unsafe_json', /"\/name\/t".*surrogate/);
  await refused('{"name":"\\udc00x"}', 422, 'unsafe_json', /surrogate/);
  const ok = await f.call('PUT', f.records('emoji'), {
    rawBody: '{"s":"\\ud83d\\ude00"}',
    headers: JSON_TYPE,
  });
  assert.equal(ok.status, 201);
  assert.equal((await f.call('GET', f.records('emoji'))).body.s, '😀');
});

test('invalid UTF-8 → 400 naming the byte offset, never a silent U+FFFD', async () => {
  const bytes = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xc3]), Buffer.from('"}')]);
  await refused(bytes, 400, 'invalid_json', /UTF-8 \(byte offset 12\)/);
  const overlong = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]);
  await refused(overlong, 400, 'invalid_json', /UTF-8/);
  const surrogate = Buffer.concat([
    Buffer.from('{"name":"'),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from('"}'),
  ]);
  await refused(surrogate, 400, 'invalid_json', /UTF-8/);
});

test('numbers beyond double precision → 422 naming the pointer, never rounded', async () => {
  await refused(
    '{"name":"x","big":12345678901234567890}',
    422,
    'unsafe_json',
    /"\/big".*12345678901234567890/,
  );
  await refused('{"name":"x","a":[1,{"b":1e400}]}', 422, 'unsafe_json', /"\/a\/1\/b".*overflow/);
  await refused('{"name":"x","tiny":1e-400}', 422, 'unsafe_json', /"\/tiny".*underflow/);
  await refused('{"name":"x","p":0.12345678901234567890123}', 422, 'unsafe_json', /"\/p"/);
  const exact = '{"max":9007199254740991,"f":0.1,"e":1e300,"s":"12345678901234567890"}';
  const ok = await f.call('PUT', f.records('num'), { rawBody: exact, headers: JSON_TYPE });
  assert.equal(ok.status, 201, ok.text);
  const get = await f.call('GET', f.records('num'));
  assert.deepEqual(get.body, {
    id: 'num',
    max: 9007199254740991,
    f: 0.1,
    e: 1e300,
    s: '12345678901234567890',
  });
});

test('__proto__ → 422 naming the pointer; constructor and prototype are stored exactly, nothing polluted', async () => {
  await refused('{"name":"x","__proto__":{"polluted":true}}', 422, 'unsafe_json', /"\/__proto__"/);
  await refused('{"name":"x","a":{"__proto__":{"polluted":true}}}', 422, 'unsafe_json', /"\/a\/__proto__"/);
  const body = '{"constructor":{"prototype":{"polluted":true}},"prototype":{"x":1}}';
  const put = await f.call('PUT', f.records('proto'), { rawBody: body, headers: JSON_TYPE });
  assert.equal(put.status, 201, put.text);
  const patch = await f.call('PATCH', f.records('proto'), {
    rawBody: '{"constructor":{"prototype":{"also":1}}}',
    headers: MERGE,
  });
  assert.equal(patch.status, 200, patch.text);
  const get = await f.call('GET', f.records('proto'));
  assert.deepEqual(get.body, {
    id: 'proto',
    constructor: { prototype: { polluted: true, also: 1 } },
    prototype: { x: 1 },
  });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).also, undefined);
  const jsonPatch = await f.call('PATCH', f.records('proto'), {
    body: [{ op: 'add', path: '/__proto__', value: { polluted: true } }],
    headers: { 'content-type': 'application/json-patch+json' },
  });
  assert.equal(jsonPatch.status, 422, jsonPatch.text);
});

test('a patch that nests a value past the depth limit is refused after merging', async () => {
  await f.call('PUT', f.records('grow'), { rawBody: nested(40), headers: JSON_TYPE });
  const deepValue = `${'{"a":'.repeat(30)}1${'}'.repeat(30)}`;
  const patch = await f.call('PATCH', f.records('grow'), {
    rawBody: `[{"op":"replace","path":"/deep/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0","value":${deepValue}}]`,
    headers: { 'content-type': 'application/json-patch+json' },
  });
  assert.equal(patch.status, 422, patch.text);
  assert.equal(patch.body.code, 'unsafe_json');
});

test('malformed and empty JSON → 400; a body over 1 MB → 413 problem+json', async () => {
  await refused('{"name":', 400, 'invalid_json', /not valid JSON/);
  await refused('', 400, 'invalid_json', /empty/);
  const big = JSON.stringify({ name: 'x', pad: 'x'.repeat(1024 * 1024) });
  const response = await f.call('PUT', f.records('b1'), { rawBody: big, headers: JSON_TYPE });
  assert.equal(response.status, 413);
  assert.equal(response.body.code, 'payload_too_large');
  assert.match(response.headers.get('content-type') ?? '', /problem\+json/);
});

test('the strict parser guards other routes too (collections)', async () => {
  const bytes = Buffer.concat([Buffer.from('{"idField":"i'), Buffer.from([0xff]), Buffer.from('"}')]);
  const response = await f.server.request('PUT', '/v1/collections/other', {
    key: f.key,
    rawBody: bytes,
    headers: JSON_TYPE,
  });
  assert.ok(response.status === 400 || response.status === 403, response.text);
});

test('a record id or a cursor PostgreSQL cannot hold (NUL, a lone surrogate) → 400, never a 5xx', async () => {
  const cursorOf = (id: string) => Buffer.from(JSON.stringify([id])).toString('base64url');
  const answers = await Promise.all([
    f.call('GET', f.records('\u0000')),
    f.call('GET', f.records('a\u0000b')),
    f.call('PATCH', f.records('a\u0000b'), { body: { name: 'x' }, headers: MERGE }),
    f.call('PUT', f.records('\u0000'), { body: { name: 'x' } }),
    f.call('DELETE', f.records('\u0000')),
    f.call('GET', `${f.records('\u0000')}/history`),
    f.call('GET', `${f.records()}/%ED%A0%80`),
    f.call('GET', `${f.records()}?cursor=${cursorOf('\u0000')}`),
    f.call('GET', `${f.records()}?cursor=${cursorOf('\ud800')}`),
  ]);
  for (const answer of answers) {
    assert.equal(answer.status, 400, answer.text);
    assert.match(answer.headers.get('content-type') ?? '', /json/);
  }
  // Elsewhere a NUL is refused or found nowhere, never a 5xx.
  for (const path of [`${f.records('b1')}/overrides?path=%2Fna%00me`, `${f.records('b1')}?asOf=%00`]) {
    const answer = await f.call(path.includes('overrides') ? 'DELETE' : 'GET', path);
    assert.ok(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status} ${answer.text}`);
  }
  // A cursor the API hands out still works.
  const page = await f.call('GET', `${f.records()}?cursor=${cursorOf('a')}&limit=1`);
  assert.equal(page.status, 200, page.text);
  assert.equal(page.body.items.length, 1);
});
