import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type CliResult, runCli } from '../helpers/cli.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sm-changes-cli-'));
const env = { SYNC_MANAGER_DATA_DIR: dataDir, LOG_LEVEL: 'silent', SYNC_MANAGER_ALLOW_PRIVATE_URLS: 'true' };
const cli = (...args: string[]) => runCli(args, env);
after(() => rmSync(dataDir, { recursive: true, force: true }));

function ok(result: CliResult): string {
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

test('changes prints NDJSON and resumes from a cursor; webhooks create, list, deliveries, delete', {
  timeout: 900_000,
}, async () => {
  ok(await cli('init', '--json'));
  ok(await cli('tenants', 'create', 'shop'));
  ok(await cli('collections', 'put', 'products', '--tenant', 'shop'));
  const feed = join(dataDir, 'feed.json');
  writeFileSync(feed, JSON.stringify([{ id: 'a' }, { id: 'b' }]));
  ok(await cli('sync', 'products', feed, '--tenant', 'shop'));
  const lines = ok(await cli('changes', 'products', '--tenant', 'shop'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => `${line.recordId} ${line.op}`),
    ['a create', 'b create'],
  );
  writeFileSync(feed, JSON.stringify([{ id: 'a', v: 2 }, { id: 'b' }]));
  ok(await cli('sync', 'products', feed, '--tenant', 'shop'));
  const more = ok(await cli('changes', 'products', '--tenant', 'shop', '--cursor', lines[1].cursor, '--data'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    more.map((line) => [line.recordId, line.op, line.fields, line.data]),
    [['a', 'update', ['/v'], { id: 'a', v: 2 }]],
  );
  const asArray = JSON.parse(ok(await cli('changes', 'products', '--tenant', 'shop', '--json')));
  assert.deepEqual(
    asArray.map((change: { recordId: string; op: string }) => `${change.recordId} ${change.op}`),
    ['a create', 'b create', 'a update'],
  );
  const combined = await cli('changes', 'products', '--tenant', 'shop', '--json', '--follow');
  assert.equal(combined.code, 2);
  const bad = await cli('changes', 'products', '--tenant', 'shop', '--cursor', 'nonsense');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid_cursor/);

  const created = JSON.parse(
    ok(
      await cli(
        'webhooks',
        'create',
        '--tenant',
        'shop',
        '--url',
        'http://127.0.0.1:9/hook',
        '--events',
        'records.changed,sync.succeeded',
        '--json',
      ),
    ),
  );
  assert.match(created.secret, /^whsec_/);
  const listed = ok(await cli('webhooks', 'list', '--tenant', 'shop', '--json'));
  assert.equal(JSON.parse(listed)[0].id, created.id);
  assert.ok(!listed.includes(created.secret));
  assert.deepEqual(
    JSON.parse(ok(await cli('webhooks', 'deliveries', created.id, '--tenant', 'shop', '--json'))),
    [],
  );
  assert.match(ok(await cli('webhooks', 'delete', created.id, '--tenant', 'shop')), /deleted/);
});
