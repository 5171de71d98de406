// sync-manager records list: filter, sort and fields from the command line (the real executable).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, runCli } from '../helpers/cli.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sm-records-cli-'));
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
  const feed = join(dataDir, 'products.json');
  writeFileSync(
    feed,
    JSON.stringify([
      { id: 'a', price: 30, name: 'A' },
      { id: 'b', price: 10, name: 'B' },
      { id: 'c', price: 20, name: 'C' },
      { id: 'd', name: 'D' },
    ]),
  );
  assertOk(await cli('sync', 'products', feed, '--tenant', 'shop'));
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('records list prints NDJSON when piped, a JSON array with --json; bad filters exit 1', async () => {
  const piped = assertOk(
    await cli(
      'records',
      'list',
      'products',
      '--tenant',
      'shop',
      '--sort',
      '-price',
      '--fields',
      'price',
      '--limit',
      '3',
    ),
  );
  assert.deepEqual(
    piped
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line)),
    [
      { id: 'a', price: 30 },
      { id: 'c', price: 20 },
      { id: 'b', price: 10 },
    ],
  );
  const json = JSON.parse(
    assertOk(
      await cli(
        'records',
        'list',
        'products',
        '--tenant',
        'shop',
        '--filter',
        '{"price":{"_lt":25}}',
        '--json',
      ),
    ),
  );
  assert.deepEqual(
    json.map((r: { id: string }) => r.id),
    ['b', 'c'],
  );
  const bad = await cli(
    'records',
    'list',
    'products',
    '--tenant',
    'shop',
    '--filter',
    '{"price":{"_like":1}}',
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid_filter/);
});
