import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCollection, stored, sync, tenantServer } from './sync-helpers.ts';

// A record nested 10,000 levels deep: every path that walks JSON must refuse it without recursion.
const DEPTH = 10_000;
const deepRecord = (id: string) => `{"id":"${id}","v":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`;

const fixture = tenantServer('deep');

for (const [name, body, contentType] of [
  ['a JSON array', () => `[{"id":"ok"},${deepRecord('deep')}]`, 'application/json'],
  ['a {records} wrapper', () => `{"records":[{"id":"ok"},${deepRecord('deep')}]}`, 'application/json'],
  ['NDJSON', () => `{"id":"ok"}\n${deepRecord('deep')}\n`, 'application/x-ndjson'],
] as const) {
  test(`a record nested 10,000 deep in ${name} is a feed error naming its row, not a 500`, async () => {
    const collection = `c${name.replace(/\W/g, '').toLowerCase()}`;
    await makeCollection(fixture.ctx, collection);
    const response = await sync(fixture.ctx, collection, body(), '', { 'content-type': contentType });
    assert.equal(response.status, 422, response.text);
    assert.equal(response.body.code, 'feed_invalid');
    assert.equal(response.body.errors[0].row, 2);
    assert.match(response.body.errors[0].message, /deeper than 64/);
    assert.equal((await stored(fixture.ctx, fixture.tenantId, collection)).size, 0);
  });
}
