import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCollection, stored, sync, tenantServer } from './sync-helpers.ts';

// Decided (docs/sync.md, "Duplicate member names"): a feed row keeps the last of a member named twice,
// as JSON.parse and jsonb do; a request body with one is refused (test/hardening/bad-requests.test.ts).
const fixture = tenantServer('dupes');

for (const [name, body, contentType] of [
  ['a JSON array', '[{"id":"p1","name":"first","name":"last"}]', 'application/json'],
  ['NDJSON', '{"id":"p1","name":"first","name":"last"}\n', 'application/x-ndjson'],
] as const) {
  test(`a feed row in ${name} with a member named twice keeps the last`, async () => {
    const collection = `c${name.replace(/\W/g, '').toLowerCase()}`;
    await makeCollection(fixture.ctx, collection);
    const response = await sync(fixture.ctx, collection, body, '', { 'content-type': contentType });
    assert.equal(response.status, 200, response.text);
    const records = await stored(fixture.ctx, fixture.tenantId, collection);
    assert.equal(records.size, 1);
    assert.deepEqual(records.get('p1')?.data, { id: 'p1', name: 'last' });
  });
}
