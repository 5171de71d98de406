// `sync-manager sync` output, with the real executable: on a terminal a progress bar with the record
// count and records/s for JSON and NDJSON feeds alike; piped (scripts) no progress at all; --json only
// the run as JSON. The terminal is a pseudo-terminal made by script(1).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, type CliResult, runCli } from '../helpers/cli.ts';

const folder = mkdtempSync(join(tmpdir(), 'sm-sync-progress-'));
const env = { SYNC_MANAGER_DATA_DIR: join(folder, 'data'), LOG_LEVEL: 'silent' };
const COUNT = 2500;
const records = Array.from({ length: COUNT }, (_, i) => ({ id: `r${i}`, name: `item ${i} "[{"`, price: i }));
const feeds = {
  array: join(folder, 'array.json'),
  wrapper: join(folder, 'wrapper.json'),
  ndjson: join(folder, 'lines.ndjson'),
};
// script(1) from util-linux runs a command on a new pseudo-terminal.
const hasScript = spawnSync('script', ['--version']).status === 0;

function assertOk(result: CliResult): string {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

before(async () => {
  writeFileSync(feeds.array, JSON.stringify(records));
  writeFileSync(feeds.wrapper, JSON.stringify({ source: 'erp', records }, null, 2));
  writeFileSync(feeds.ndjson, `${records.map((record) => JSON.stringify(record)).join('\n')}\n`);
  assertOk(await runCli(['init'], env));
  assertOk(await runCli(['tenants', 'create', 'shop'], env));
  for (const name of ['piped', 'terminal', 'unlimited']) {
    assertOk(await runCli(['collections', 'put', name, '--tenant', 'shop'], env));
  }
});
after(() => rmSync(folder, { recursive: true, force: true }));

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** The CLI on a pseudo-terminal: stdout and stderr both reach it, in order, with \r\n line ends. */
function onTerminal(args: string[]): Promise<CliResult> {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH, SHELL: '/bin/sh', TERM: 'dumb', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('piped: no progress on stderr, only the summary table on stdout', async () => {
  const result = await runCli(['sync', 'piped', feeds.array, '--tenant', 'shop'], env);
  const stdout = assertOk(result);
  assert.equal(result.stderr, '');
  assert.doesNotMatch(stdout, /\r|records {2}|\[#/);
  const lines = stdout.trimEnd().split('\n');
  assert.match(
    lines[0]!,
    /^status\s+mode\s+created\s+updated\s+unchanged\s+deleted\s+conflicts\s+seconds\s+records\/s$/,
  );
  assert.match(lines[1]!, new RegExp(`^succeeded\\s+full\\s+${COUNT}\\s+0\\s+0\\s+0\\s+0\\s`));
  assert.match(lines[2]!, /^sync run [0-9a-f-]{36}$/);
  assert.equal(lines.length, 3);
});

test("the server's body limit is not the CLI's: a local sync streams a file of any size", async () => {
  // SYNC_MANAGER_SYNC_BODY_LIMIT bounds what a server accepts over HTTP; the CLI that opens the
  // database itself reads a local file, so a feed larger than the limit goes through whole.
  const result = await runCli(['sync', 'unlimited', feeds.ndjson, '--tenant', 'shop', '--json'], {
    ...env,
    SYNC_MANAGER_SYNC_BODY_LIMIT: '1024',
  });
  const run = JSON.parse(assertOk(result));
  assert.equal(run.status, 'succeeded');
  assert.equal(run.counts.created, COUNT);
});

test('piped --json: stdout is the run as JSON and nothing else', async () => {
  const result = await runCli(
    ['sync', 'piped', feeds.ndjson, '--tenant', 'shop', '--json', '--dry-run'],
    env,
  );
  const run = JSON.parse(assertOk(result));
  assert.equal(result.stderr, '');
  assert.equal(run.status, 'planned');
  assert.equal(run.counts.unchanged, COUNT);
});

test('on a terminal: records and records/s for a JSON array, a records wrapper and NDJSON', {
  skip: !hasScript && 'script(1) is not installed',
}, async () => {
  for (const [kind, file] of Object.entries(feeds)) {
    const result = await onTerminal(['sync', 'terminal', file, '--tenant', 'shop']);
    assert.equal(result.code, 0, `${kind}: ${result.stdout}${result.stderr}`);
    const screen = result.stdout.split('\r\n');
    // The last redraw of the bar, after the whole feed went out: every record counted.
    const bar = screen.find((line) => line.includes('records/s') && line.includes('%'));
    assert.ok(bar, `${kind}: no progress bar in ${JSON.stringify(result.stdout)}`);
    const last = bar
      .split('\r')
      .filter((draw) => draw.trim() !== '')
      .at(-1)!;
    assert.match(
      last,
      new RegExp(`\\[#{30}\\] 100%  ${COUNT.toLocaleString('en')} records  [0-9.]+ MB  [0-9,]+ records/s`),
      kind,
    );
    assert.ok(
      screen.some((line) => /^status\s+mode\s+created/.test(line)),
      `${kind}: the summary table follows`,
    );
  }
});

test('on a terminal with --json: no progress bar, only JSON', {
  skip: !hasScript && 'script(1) is not installed',
}, async () => {
  const result = await onTerminal([
    'sync',
    'terminal',
    feeds.array,
    '--tenant',
    'shop',
    '--json',
    '--dry-run',
  ]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const run = JSON.parse(result.stdout.replaceAll('\r\n', '\n'));
  assert.equal(run.counts.unchanged, COUNT);
});
