import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ServeFixture, startServe, waitFor } from '../auto-import/serve.ts';

let serve: ServeFixture;
let tenantDir: string;
let key: string;

before(async () => {
  serve = await startServe({ heldRunDays: 2 }); // the setting reaches the importer's syncs too
  ({ key } = await serve.createTenant('acme'));
  tenantDir = join(serve.importDir, 'acme');
  mkdirSync(tenantDir, { recursive: true });
});
after(() => serve.close());

const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const feed = (ids: number[], price: number) => JSON.stringify(ids.map((id) => ({ id, price })));

test('a held auto-import file goes to .held/ with its reasons; approving applies what was held, not the file', async () => {
  writeFileSync(join(tenantDir, 'stock.json'), feed([1, 2, 3, 4, 5, 6], 1));
  await waitFor(
    'the first file processed',
    () => list(join(tenantDir, '.processed')).length === 1 || undefined,
  );

  writeFileSync(join(tenantDir, 'stock.json'), feed([1, 2], 5));
  const held = join(tenantDir, '.held');
  const report = await waitFor('the held file and its report', () =>
    list(held).find((name) => name.endsWith('-stock.json.error.json')),
  );
  const reasons = JSON.parse(readFileSync(join(held, report), 'utf8'));
  assert.equal(reasons.code, 'delete_guard');
  assert.equal(reasons.syncStatus, 'held');
  assert.equal(reasons.reasons[0].code, 'delete_guard');
  assert.ok(list(held).includes(report.replace(/\.error\.json$/, '')), 'the file beside its report');
  assert.ok(!existsSync(join(tenantDir, 'stock.json')));
  const run = await serve.call('GET', `/v1/syncs/${reasons.syncId}`, { key });
  const heldFor = Date.parse(run.body.heldUntil) - Date.parse(run.body.startedAt);
  assert.ok(heldFor > 0 && heldFor <= 2 * 86_400_000 + 60_000, `held until ${run.body.heldUntil}`);

  // The held file is edited by someone afterwards: the approval does not read it.
  writeFileSync(join(held, report.replace(/\.error\.json$/, '')), feed([1], 99));
  const approved = await serve.call('POST', `/v1/syncs/${reasons.syncId}/approve`, { key });
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.equal(approved.body.counts.deleted, 4);
  const records = await serve.call('GET', '/v1/collections/stock/records', { key });
  assert.deepEqual(
    records.body.items.map((r: { id: number; price: number }) => [r.id, r.price]),
    [
      [1, 5],
      [2, 5],
    ],
  );
});
