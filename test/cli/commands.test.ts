// The commands of PRODUCT §4 through the real executable, with their exit codes: 0 ok, 1 refused or
// failed with one line on stderr, 2 usage (checked before anything is sent or changed). On PGlite a
// `serve` holds the data folder and every command goes through it (the remote client, streamed export
// included); on PostgreSQL (TEST_DATABASE_URL) each command opens the database itself (in-process).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../foundation/fixtures.ts';
import { CLI, type CliResult, runCli } from '../helpers/cli.ts';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/database.ts';

const folder = mkdtempSync(join(tmpdir(), 'sm-cli-commands-'));
let database: TestDatabase | undefined;
let server: ChildProcess | undefined;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, env);
const withStdin = (stdin: string, ...args: string[]) => runCli(args, env, stdin);

function ok(result: CliResult): string {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON output, which the assertions check
const json = <T = any>(result: CliResult): T => JSON.parse(ok(result)) as T;

/** Exit 1 or 2 with exactly one line on stderr, matching `pattern`, and no stack trace. */
function failed(result: CliResult, code: 1 | 2, pattern: RegExp): void {
  assert.equal(result.code, code, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `stderr has ${lines.length} lines:\n${result.stderr}`);
  assert.match(lines[0]!, /^sync-manager: /);
  assert.match(lines[0]!, pattern);
}

function feed(name: string, records: unknown[]): string {
  const path = join(folder, name);
  writeFileSync(path, JSON.stringify(records));
  return path;
}

before(async () => {
  if (TEST_DATABASE_URL) {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.url!, LOG_LEVEL: 'silent' };
  } else {
    env = { SYNC_MANAGER_DATA_DIR: join(folder, 'data'), LOG_LEVEL: 'silent' };
    server = await serve();
  }
  // tenants create --json hands a script the tenant's first key.
  const created = json(await cli('tenants', 'create', 'shop', '--json'));
  assert.match(created.apiKey.key, /^smk_/);
  ok(await cli('collections', 'put', 'products', '--tenant', 'shop'));
  const products = [
    { id: 'p1', name: 'Chair', price: 10 },
    { id: 'p2', name: 'Table', price: 20 },
    { id: 'p3', name: 'Lamp', price: 30 },
  ];
  ok(await cli('sync', 'products', feed('products-1.json', products), '--tenant', 'shop'));
});
/** `serve` on the data folder, once it says it listens (its log line, not a timer). */
async function serve(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH, ...env, LOG_LEVEL: 'info', PORT: String(await freePort()) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stdout!.on('data', (chunk) => {
      log += chunk;
      if (log.includes('sync-manager is listening')) resolve();
    });
    child.stderr!.on('data', (chunk) => (log += chunk));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${log}`)));
  });
  return child;
}

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.on('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  await database?.close();
  rmSync(folder, { recursive: true, force: true });
});

test('--version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(ok(await cli('--version')).trim(), pkg.version);
});

test('every command but serve takes --json', async () => {
  const leaves: string[] = [];
  const queue: string[][] = [[]];
  while (queue.length > 0) {
    const batch = queue.splice(0, 4);
    const helps = await Promise.all(batch.map(async (path) => ok(await cli(...path, '--help'))));
    batch.forEach((path, i) => {
      const section = helps[i]!.split(/^Commands:\s*$/m)[1];
      if (!section) {
        leaves.push(path.join(' '));
        if (path[0] !== 'serve') assert.match(helps[i]!, /^\s+--json\b/m, `${path.join(' ')} has --json`);
        return;
      }
      for (const match of section.matchAll(/^ {2}([a-z][a-z-]*)/gm))
        if (match[1] !== 'help') queue.push([...path, match[1]!]);
    });
  }
  for (const expected of ['export', 'records patch', 'conflicts resolve', 'syncs get', 'keys revoke'])
    assert.ok(leaves.includes(expected), `${expected} is a command`);
});

test('usage errors exit 2 with one line, before anything is sent or changed', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['collections', 'put', 'other', '--tenant', 'shop', '--delete-policy', 'maybe'], /delete, keep/],
    [['collections', 'put', 'other', '--tenant', 'shop', '--conflict-policy', 'mine'], /keep-manual/],
    [['collections', 'put', 'other', '--tenant', 'shop', '--max-delete-ratio', 'x'], /0 to 1/],
    [['sync', 'products', '-', '--tenant', 'shop', '--mode', 'some'], /full, partial/],
    [['export', 'products', '--tenant', 'shop', '--format', 'xml'], /json, ndjson/],
    [['conflicts', 'list', 'products', '--tenant', 'shop', '--status', 'stale'], /open, resolved, all/],
    [['conflicts', 'resolve', 'products', '--all', '--tenant', 'shop'], /--keep-manual or --take-source/],
    [
      ['conflicts', 'resolve', 'products', '--keep-manual', '--take-source', '--all', '--tenant', 'shop'],
      /cannot be used with/,
    ],
    [['conflicts', 'resolve', 'products', '--keep-manual', '--tenant', 'shop'], /conflict ids, or --all/],
    [['records', 'patch', 'products', 'p1', '{price:', '--tenant', 'shop'], /not valid JSON/],
    [['records', 'put', 'products', 'p1', '[1]', '--tenant', 'shop'], /must be a JSON object/],
    [['records', 'patch', 'products', 'p1', '{}', '--json-patch', '--tenant', 'shop'], /array of operations/],
    [['records', 'get', 'products', 'p1'], /--tenant/],
    [['collections', 'delete', 'products', '--tenant', 'shop'], /needs --yes/],
  ];
  for (const [args, pattern] of cases) failed(await cli(...args), 2, pattern);
  const names = json<Array<{ name: string }>>(await cli('collections', 'list', '--tenant', 'shop', '--json'));
  assert.deepEqual(
    names.map((c) => c.name),
    ['products'],
  );
  assert.equal(json(await cli('records', 'get', 'products', 'p1', '--tenant', 'shop')).price, 10);
});

test('records: get, patch (merge and JSON Patch, with If-Match), put, delete, history, overrides, revert', async () => {
  const shop = ['--tenant', 'shop'];
  assert.deepEqual(json(await cli('records', 'get', 'products', 'p1', ...shop)), {
    id: 'p1',
    name: 'Chair',
    price: 10,
  });
  assert.match(
    ok(await cli('records', 'patch', 'products', 'p1', '{"price":12}', ...shop)),
    /patched \(version 2\)/,
  );
  // A JSON Patch on stdin, at the version just read.
  const patched = json(
    await withStdin(
      '[{"op":"replace","path":"/name","value":"Armchair"}]',
      'records',
      'patch',
      'products',
      'p1',
      '--json-patch',
      '--if-match',
      '2',
      '--json',
      ...shop,
    ),
  );
  assert.deepEqual(patched, { id: 'p1', name: 'Armchair', price: 12 });
  // A stale version is refused and changes nothing.
  failed(
    await cli('records', 'patch', 'products', 'p1', '{"price":1}', '--if-match', '2', ...shop),
    1,
    /\[precondition_failed\]/,
  );
  const meta = json(await cli('records', 'get', 'products', 'p1', '--meta', ...shop));
  assert.equal(meta.version, 3);
  assert.equal(meta.data.price, 12);
  assert.deepEqual(meta.overrides.map((o: { path: string }) => o.path).sort(), ['/name', '/price']);

  const file = join(folder, 'p9.json');
  writeFileSync(file, JSON.stringify({ id: 'p9', name: 'Stool', price: 5 }));
  assert.match(ok(await cli('records', 'put', 'products', 'p9', `@${file}`, ...shop)), /record p9 saved/);
  assert.equal(json(await cli('records', 'get', 'products', 'p9', ...shop)).name, 'Stool');
  failed(
    await cli('records', 'put', 'products', 'p8', '@/no/such/file.json', ...shop),
    1,
    /cannot read .*no such file/,
  );

  assert.match(ok(await cli('records', 'delete', 'products', 'p2', ...shop)), /record p2 deleted/);
  failed(await cli('records', 'get', 'products', 'p2', ...shop), 1, /\[record_not_found\]/);

  const history = json<Array<{ version: number; origin: { kind: string } }>>(
    await cli('records', 'history', 'products', 'p1', '--json', ...shop),
  );
  assert.deepEqual(
    history.map((h) => [h.version, h.origin.kind]),
    [
      [3, 'api'],
      [2, 'api'],
      [1, 'sync'],
    ],
  );
  assert.match(ok(await cli('records', 'history', 'products', 'p1', ...shop)), /^version\s+at\s+origin/);
  const overrides = json(await cli('records', 'overrides', 'products', 'p2', '--json', ...shop));
  assert.ok(overrides.manualDelete, 'the manual delete is listed');

  const reverted = json(
    await cli('records', 'revert', 'products', 'p1', '--path', '/price', '--json', ...shop),
  );
  assert.equal(reverted.data.price, 10);
  assert.deepEqual(
    reverted.overrides.map((o: { path: string }) => o.path),
    ['/name'],
  );
  ok(await cli('records', 'revert', 'products', 'p2', ...shop));
  assert.equal(json(await cli('records', 'get', 'products', 'p2', ...shop)).name, 'Table');
});

test('conflicts: list, then resolve several ids at once; a bad id among them is reported, the rest resolve', async () => {
  const shop = ['--tenant', 'shop'];
  ok(await cli('collections', 'put', 'events', ...shop));
  ok(
    await cli(
      'sync',
      'events',
      feed('events-1.json', [
        { id: 'e1', at: 1 },
        { id: 'e2', at: 2 },
        { id: 'e3', at: 3 },
      ]),
      ...shop,
    ),
  );
  for (const id of ['e1', 'e2', 'e3']) ok(await cli('records', 'patch', 'events', id, '{"at":0}', ...shop));
  ok(
    await cli(
      'sync',
      'events',
      feed('events-2.json', [
        { id: 'e1', at: 11 },
        { id: 'e2', at: 12 },
        { id: 'e3', at: 13 },
      ]),
      ...shop,
    ),
  );

  const open = json<Array<{ id: string; recordId: string }>>(
    await cli('conflicts', 'list', 'events', '--json', ...shop),
  );
  assert.deepEqual(open.map((c) => c.recordId).sort(), ['e1', 'e2', 'e3']);
  assert.match(ok(await cli('conflicts', 'list', 'events', ...shop)), /^id\s+recordId\s+path/);
  const byRecord = Object.fromEntries(open.map((c) => [c.recordId, c.id]));

  const two = json(
    await cli(
      'conflicts',
      'resolve',
      'events',
      byRecord.e1!,
      byRecord.e2!,
      '--take-source',
      '--json',
      ...shop,
    ),
  );
  assert.deepEqual(
    two.map((c: { resolution: string }) => c.resolution),
    ['take-source', 'take-source'],
  );
  assert.equal(json(await cli('records', 'get', 'events', 'e1', ...shop)).at, 11);

  const mixed = await cli(
    'conflicts',
    'resolve',
    'events',
    crypto.randomUUID(),
    byRecord.e3!,
    '--keep-manual',
    ...shop,
  );
  failed(mixed, 1, /1 of 2 conflict\(s\) not resolved.*\[conflict_not_found\]/);
  assert.match(mixed.stdout, new RegExp(`${byRecord.e3}\\s+e3\\s+/at\\s+keep-manual`));
  assert.equal(json(await cli('records', 'get', 'events', 'e3', ...shop)).at, 0);
  assert.deepEqual(json(await cli('conflicts', 'list', 'events', '--json', ...shop)), []);
  assert.equal(
    json(await cli('conflicts', 'list', 'events', '--status', 'resolved', '--json', ...shop)).length,
    3,
  );
});

test('syncs list and get; sync checks the collection first, names a missing file, lists reasons only with --verbose', async () => {
  const shop = ['--tenant', 'shop'];
  const runs = json<Array<{ id: string; status: string }>>(
    await cli('syncs', 'list', 'products', '--json', ...shop),
  );
  assert.equal(runs.length, 1);
  const run = json(await cli('syncs', 'get', runs[0]!.id, '--json', ...shop));
  assert.equal(run.counts.created, 3);
  assert.match(ok(await cli('syncs', 'get', runs[0]!.id, ...shop)), /^id\s+[0-9a-f-]{36}$/m);
  assert.match(ok(await cli('syncs', 'list', 'products', ...shop)), /^id\s+startedAt\s+status/);
  failed(await cli('syncs', 'get', crypto.randomUUID(), ...shop), 1, /\[sync_not_found\]/);

  // The collection is checked before the feed is read: stdin is never consumed.
  failed(await withStdin('not json at all', 'sync', 'nowhere', '-', ...shop), 1, /\[collection_not_found\]/);
  failed(
    await cli('sync', 'products', join(folder, 'missing.json'), ...shop),
    1,
    /cannot read .*missing\.json: no such file$/,
  );

  const bad = feed('bad.json', [{ id: 'x' }, { name: 'no id' }, { id: 'x' }]);
  const quiet = await cli('sync', 'products', bad, ...shop);
  failed(quiet, 1, /\[feed_invalid\]/);
  assert.match(quiet.stderr, /--verbose lists them/);
  assert.equal(quiet.stdout, '');
  const verbose = await cli('sync', 'products', bad, '--verbose', ...shop);
  failed(verbose, 1, /\[feed_invalid\]/);
  assert.match(verbose.stdout, /^row\s+id\s+code\s+message\n2\s+-\s+missing_id/);
  assert.match(verbose.stdout, /duplicate_id/);
  // Refused runs are recorded as failed.
  assert.equal(json(await cli('syncs', 'list', 'products', '--json', ...shop))[0].status, 'failed');
});

test('export: a JSON array or NDJSON to stdout, or to a file written whole', async () => {
  const shop = ['--tenant', 'shop'];
  ok(await cli('collections', 'put', 'tags', ...shop));
  const tags = Array.from({ length: 2500 }, (_, i) => ({ id: `t${String(i).padStart(4, '0')}`, n: i }));
  ok(await cli('sync', 'tags', feed('tags.json', tags), ...shop));

  assert.deepEqual(json(await cli('export', 'tags', ...shop)), tags);
  const lines = ok(await cli('export', 'tags', '--format', 'ndjson', ...shop))
    .trimEnd()
    .split('\n');
  assert.deepEqual(
    lines.map((line) => JSON.parse(line)),
    tags,
  );

  const output = join(folder, 'tags.ndjson');
  const written = json(await cli('export', 'tags', '--output', output, '--json', ...shop));
  assert.deepEqual(written, {
    collection: 'tags',
    format: 'ndjson',
    output,
    records: 2500,
    bytes: readFileSync(output).length,
  });
  assert.equal(readFileSync(output, 'utf8').trimEnd().split('\n').length, 2500);

  const none = join(folder, 'none.json');
  failed(await cli('export', 'nothing', '--output', none, ...shop), 1, /\[collection_not_found\]/);
  assert.ok(!existsSync(none));
  assert.deepEqual(
    readdirSync(folder).filter((name) => name.includes('.partial-')),
    [],
  );
});

// script(1) from util-linux runs a command on a pseudo-terminal, passing our stdin to it.
const hasScript = spawnSync('script', ['--version']).status === 0;

function onTerminal(args: string[], answer: string): Promise<CliResult> {
  const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH, SHELL: '/bin/sh', TERM: 'dumb', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let asked = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      // Answer once the question is on the terminal.
      if (!asked && stdout.includes('[y/N]')) {
        asked = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
}

test('collections delete asks on a terminal; --yes deletes without asking', {
  skip: !hasScript,
}, async () => {
  const shop = ['--tenant', 'shop'];
  ok(await cli('collections', 'put', 'doomed', ...shop));
  const declined = await onTerminal(['collections', 'delete', 'doomed', ...shop], 'n');
  assert.equal(declined.code, 1, declined.stdout);
  assert.match(declined.stdout, /delete collection doomed of shop with its 0 record\(s\).*\[y\/N\]/);
  assert.match(declined.stdout, /not deleted: not confirmed/);
  ok(await cli('collections', 'get', 'doomed', ...shop));

  const confirmed = await onTerminal(['collections', 'delete', 'doomed', ...shop], 'y');
  assert.equal(confirmed.code, 0, confirmed.stdout);
  assert.match(confirmed.stdout, /collection doomed deleted/);
  failed(await cli('collections', 'get', 'doomed', ...shop), 1, /\[collection_not_found\]/);

  ok(await cli('collections', 'put', 'doomed', ...shop));
  assert.deepEqual(json(await cli('collections', 'delete', 'doomed', '--yes', '--json', ...shop)), {
    collection: 'doomed',
    deleted: true,
  });
});

test('init while serve holds the embedded folder: one line saying how to get a key', {
  skip: Boolean(TEST_DATABASE_URL),
}, async () => {
  failed(
    await cli('init'),
    1,
    /in use by process \d+ .*need no key.*stop the server, run init, and start it again$/,
  );
  // Everything else goes through the server meanwhile.
  ok(await cli('tenants', 'list'));
});
