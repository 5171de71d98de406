// A collection schema is the tenant's input: its regular expressions must not be able to stall the server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let key: string;
before(async () => {
  server = await startTestServer();
  key = (await server.createTenant('patterns')).key;
});
after(() => server.close());

const call = (method: string, path: string, body?: unknown) => server.request(method, path, { key, body });

test('a catastrophic pattern runs in linear time: a record that would backtrack for ages is refused at once', async () => {
  const made = await call('PUT', '/v1/collections/words', {
    schema: {
      type: 'object',
      properties: { word: { type: 'string', pattern: '^(a+)+$' } },
      patternProperties: { '^(x+x+)+y$': { type: 'number' } },
    },
  });
  assert.equal(made.status, 201, made.text);
  // A backtracking engine needs about 2^n steps for n letters here; 40 would take hours.
  const evil = `${'a'.repeat(40_000)}!`;
  const refused = await call('PUT', '/v1/collections/words/records/w1', { id: 'w1', word: evil });
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.body.code, 'schema_violation');
  assert.equal(refused.body.errors[0].pointer, '/word');
  const keyEvil = { id: 'w2', [`${'x'.repeat(5_000)}z`]: 'not checked: the key does not match' };
  assert.equal((await call('PUT', '/v1/collections/words/records/w2', keyEvil)).status, 201);
  const fine = await call('PUT', '/v1/collections/words/records/w3', { id: 'w3', word: 'aaaa' });
  assert.equal(fine.status, 201, fine.text);
});

test('a pattern with lookaround or a backreference is refused when the schema is saved', async () => {
  for (const pattern of ['^(?=a)a$', '^(a)\\1$', '(?<!x)y']) {
    const refused = await call('PUT', '/v1/collections/looks', {
      schema: { type: 'object', properties: { v: { type: 'string', pattern } } },
    });
    assert.equal(refused.status, 422, `${pattern}: ${refused.text}`);
    assert.equal(refused.body.code, 'invalid_schema');
  }
});
