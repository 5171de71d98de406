import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BACKEND } from '../helpers/database.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

test('health names the database kind', async () => {
  const response = await server.request('GET', '/health');
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, { status: 'ok', database: BACKEND });
});
