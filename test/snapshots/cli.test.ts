// sync-manager snapshots list|create|diff|restore|prune, the real executable on an embedded data folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, runCli } from '../helpers/cli.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sm-snapshots-cli-'));
const env = { SYNC_MANAGER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
const cli = (...args: string[]) => runCli(args, env);

function assertOk(result: CliResult): string {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

before(async () => {
  assertOk(await cli('init'));
  assertOk(await cli('tenants', 'create', 'shop'));
  assertOk(await cli('collections', 'put', 'products', '--tenant', 'shop'));
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('snapshots create, list, diff, restore and prune from the command line', async () => {
  const feed = join(dataDir, 'products.json');
  writeFileSync(
    feed,
    JSON.stringify([
      { id: 'a', price: 1 },
      { id: 'b', price: 2 },
    ]),
  );
  assertOk(await cli('sync', 'products', feed, '--tenant', 'shop'));

  const created = JSON.parse(
    assertOk(await cli('snapshots', 'create', '--tenant', 'shop', '--label', 'good', '--json')),
  );
  assert.equal(created.label, 'good');

  writeFileSync(
    feed,
    JSON.stringify([
      { id: 'a', price: 10 },
      { id: 'b', price: 2 },
      { id: 'c', price: 3 },
    ]),
  );
  assertOk(await cli('sync', 'products', feed, '--tenant', 'shop'));

  const listed = JSON.parse(assertOk(await cli('snapshots', 'list', '--tenant', 'shop', '--json')));
  assert.ok(listed.some((s: { id: string }) => s.id === created.id));
  assert.ok(
    listed.some((s: { auto: boolean }) => s.auto),
    'the syncs took automatic snapshots',
  );

  const diff = assertOk(await cli('snapshots', 'diff', created.id, '--tenant', 'shop'));
  assert.match(diff, /products\s+1\s+1\s+0/);
  assert.match(diff, /a\s+changed\s+\/price/);

  const restore = assertOk(
    await cli('snapshots', 'restore', created.id, '--tenant', 'shop', '--collection', 'products'),
  );
  assert.match(restore, /to undo: sync-manager snapshots restore [0-9a-f-]{36}/);
  assert.match(restore, /reopenedConflicts/, 'the table names the conflicts the restore reopened');
  const after = JSON.parse(
    assertOk(await cli('snapshots', 'diff', created.id, '--tenant', 'shop', '--json')),
  );
  assert.deepEqual(after[0].counts, { created: 0, changed: 0, deleted: 0 });

  const dry = assertOk(await cli('snapshots', 'prune', '--dry-run'));
  assert.match(dry, /tenant shop/);
  assert.match(dry, /good\s+\S+\s+kept\s+inside the window/);
  assertOk(await cli('snapshots', 'prune', '--tenant', 'shop'));

  const missing = await cli(
    'snapshots',
    'restore',
    '00000000-0000-4000-8000-000000000000',
    '--tenant',
    'shop',
  );
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /snapshot_not_found/);
});
