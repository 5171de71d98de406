import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, runCli } from '../helpers/cli.ts';

/** The real executable on an embedded data folder of its own. */
const dataDir = mkdtempSync(join(tmpdir(), 'sm-cli-'));
const env = { SYNC_MANAGER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
const cli = (...args: string[]) => runCli(args, env);

function assertOk(result: CliResult): void {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
}

/** A refusal: exit 1, one line on stderr naming the code, no stack trace. */
function assertRefused(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 1, `exit ${result.code}\nstderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `stderr has ${lines.length} lines:\n${result.stderr}`);
  assert.match(lines[0]!, /^sync-manager: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
}

let adminKey: string;
before(async () => {
  const init = await cli('init', '--json');
  assertOk(init);
  const made = JSON.parse(init.stdout);
  assert.equal(made.database.kind, 'pglite');
  assert.equal(made.database.dataDir, dataDir);
  assert.match(made.adminKey, /^smp_[A-Za-z0-9_-]{38}$/);
  adminKey = made.adminKey;
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** The command paths listed under "Commands:" in a help text. */
function subcommands(help: string): string[] {
  const section = help.split(/^Commands:\s*$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

test('--help on every command and subcommand exits 0 and prints usage', async () => {
  const top = await cli('--help');
  assertOk(top);
  const commands = subcommands(top.stdout);
  for (const expected of ['init', 'serve', 'tenants', 'keys', 'collections', 'migrate']) {
    assert.ok(commands.includes(expected), `--help lists ${expected}`);
  }
  const paths: string[][] = commands.map((c) => [c]);
  const seen: string[] = [];
  while (paths.length > 0) {
    const batch = paths.splice(0, 4);
    const results = await Promise.all(batch.map((path) => cli(...path, '--help')));
    results.forEach((result, i) => {
      const path = batch[i]!;
      assertOk(result);
      assert.match(result.stdout, /^Usage: sync-manager /, path.join(' '));
      seen.push(path.join(' '));
      for (const sub of subcommands(result.stdout)) paths.push([...path, sub]);
    });
  }
  for (const expected of ['keys create', 'keys list', 'keys revoke', 'collections put', 'tenants create']) {
    assert.ok(seen.includes(expected), `${expected} --help was checked`);
  }
});

test('an unknown command or a bad option is a usage error: exit 2', async () => {
  const cases = [
    ['bogus'],
    ['tenants', 'bogus'],
    ['tenants', 'create', 'x', '--no-such-option'],
    ['keys', 'create', '--tenant', 't', '--name', 'n', '--scopes', 'root'],
    ['keys', 'create', '--name', 'n'],
    ['collections', 'put', 'c', '--tenant', 't', '--max-delete-ratio', '2'],
  ];
  for (const args of cases) {
    const result = await cli(...args);
    assert.equal(result.code, 2, `${args.join(' ')}: exit ${result.code} ${result.stderr}`);
    assert.ok(result.stderr.length > 0);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  }
});

test('tenants, keys and collections work end to end', async () => {
  const created = await cli('tenants', 'create', 'shop', '--name', 'The Shop', '--json');
  assertOk(created);
  const tenant = JSON.parse(created.stdout);
  assert.equal(tenant.tenant.slug, 'shop');
  assert.match(tenant.apiKey.key, /^smk_/);

  const listed = await cli('tenants', 'list', '--json');
  assertOk(listed);
  assert.deepEqual(
    JSON.parse(listed.stdout).map((t: { slug: string }) => t.slug),
    ['shop'],
  );

  const key = await cli(
    'keys',
    'create',
    '--tenant',
    'shop',
    '--name',
    'site',
    '--scopes',
    'read,write',
    '--json',
  );
  assertOk(key);
  const made = JSON.parse(key.stdout);
  assert.deepEqual(made.scopes, ['read', 'write']);
  assert.match(made.key, /^smk_/);

  const keys = await cli('keys', 'list', '--tenant', 'shop', '--json');
  assertOk(keys);
  assert.ok(!keys.stdout.includes(made.key), 'keys list prints a secret');
  assert.equal(JSON.parse(keys.stdout).length, 2);
  const table = await cli('keys', 'list', '--tenant', 'shop');
  assertOk(table);
  assert.match(table.stdout, /^id\s+name\s+hint/);

  assertOk(await cli('keys', 'revoke', made.id, '--tenant', 'shop'));
  const revoked = JSON.parse((await cli('keys', 'list', '--tenant', 'shop', '--json')).stdout);
  assert.ok(revoked.find((k: { id: string }) => k.id === made.id).revokedAt);

  assertOk(
    await cli(
      'collections',
      'put',
      'products',
      '--tenant',
      'shop',
      '--id-field',
      'sku',
      '--delete-policy',
      'keep',
    ),
  );
  const got = await cli('collections', 'get', 'products', '--tenant', 'shop', '--json');
  assertOk(got);
  assert.equal(JSON.parse(got.stdout).idField, 'sku');
  assert.equal(JSON.parse(got.stdout).deletePolicy, 'keep');
  const collections = await cli('collections', 'list', '--tenant', 'shop', '--json');
  assertOk(collections);
  assert.deepEqual(
    JSON.parse(collections.stdout).map((c: { name: string }) => c.name),
    ['products'],
  );
  assertOk(await cli('collections', 'delete', 'products', '--tenant', 'shop', '--yes'));
  assertRefused(await cli('collections', 'get', 'products', '--tenant', 'shop'), /collection_not_found/);
});

test('refusals are one line on stderr with exit 1, and no stack trace', async () => {
  assertOk(await cli('tenants', 'create', 'dup'));
  assertRefused(await cli('tenants', 'create', 'dup'), /already exists.*\[tenant_exists\]/);
  assertRefused(await cli('collections', 'list', '--tenant', 'no-such-tenant'), /\[tenant_not_found\]/);
  assertRefused(await cli('keys', 'revoke', 'not-a-uuid', '--tenant', 'dup'), /\[validation_failed\]/);
  assertRefused(await cli('keys', 'revoke', crypto.randomUUID(), '--tenant', 'dup'), /\[api_key_not_found\]/);
  assertRefused(await cli('tenants', 'create', 'Not A Slug'), /\[validation_failed\]/);
  assertRefused(await runCli(['tenants', 'list'], { ...env, PORT: 'eighty' }), /PORT must be an integer/);
});

test('init again keeps the data and makes another working admin key', async () => {
  const again = await cli('init', '--json');
  assertOk(again);
  const made = JSON.parse(again.stdout);
  assert.deepEqual(made.migrationsApplied, []);
  assert.notEqual(made.adminKey, adminKey);
  const listed = await cli('tenants', 'list', '--json');
  assert.ok(JSON.parse(listed.stdout).some((t: { slug: string }) => t.slug === 'shop'));
});
