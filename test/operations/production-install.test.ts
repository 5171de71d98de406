import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * A production install as an operator makes one: a clean clone, `npm ci --omit=dev`, then `serve` on a
 * terminal (a pseudo-terminal from `script`), where pino-pretty, a dev dependency, is not installed.
 * Slow (a whole install), so it runs in CI, in `npm test`, or with SYNC_MANAGER_TEST_INSTALL=1; it
 * skips when the npm registry cannot be reached. It installs what the last commit holds.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const wanted =
  process.env.CI === 'true' ||
  process.env.npm_lifecycle_event === 'test' ||
  process.env.SYNC_MANAGER_TEST_INSTALL === '1';

function skipReason(): string | undefined {
  if (!wanted) return 'slow: runs in CI, in `npm test`, or with SYNC_MANAGER_TEST_INSTALL=1';
  if (spawnSync('script', ['--version']).error) return '`script` (util-linux) is not installed';
  const ping = spawnSync('npm', ['ping', '--fetch-timeout=15000', '--fetch-retries=0'], { encoding: 'utf8' });
  if (ping.status !== 0)
    return `the npm registry cannot be reached (npm ping: ${ping.stderr.trim().split('\n')[0]})`;
  return undefined;
}

const work = mkdtempSync(join(tmpdir(), 'sm-install-'));
let server: ChildProcess | undefined;
after(() => {
  server?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const reason = skipReason();
if (reason) console.log(`# production install test skipped: ${reason}`);

test('npm ci --omit=dev in a clean clone, then serve on a terminal, answers /health', {
  skip: reason,
}, async () => {
  const clone = join(work, 'clone');
  const cloned = spawnSync('git', ['clone', '--quiet', root, clone], { encoding: 'utf8' });
  assert.equal(cloned.status, 0, cloned.stderr);
  const installed = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
    cwd: clone,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  assert.equal(installed.status, 0, installed.stderr);

  // Neither the TypeScript loader nor the pretty printer is there, and the build loads no compiler.
  for (const dev of ['tsx', 'pino-pretty', 'typescript', '@biomejs/biome']) {
    assert.equal(existsSync(join(clone, 'node_modules', dev)), false, `${dev} was installed`);
  }
  assert.ok(existsSync(join(clone, 'dist', 'BUILT')), 'postinstall built dist/');
  for (const file of readdirSync(join(clone, 'dist')).filter((name) => name.endsWith('.mjs'))) {
    assert.doesNotMatch(readFileSync(join(clone, 'dist', file), 'utf8'), /from ["'](esbuild|tsx)/, file);
  }

  const dataDir = join(work, 'data');
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    TERM: 'xterm',
    HOST: '127.0.0.1',
    PORT: '0',
    SYNC_MANAGER_DATA_DIR: dataDir,
  };
  // script gives serve a pseudo-terminal for stdout: the case that used to need pino-pretty.
  server = spawn('script', ['-qfec', 'node bin/sync-manager.js serve', '/dev/null'], {
    cwd: clone,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    server!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match) resolve(match[1]!);
    });
    server!.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
  });
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok', database: 'pglite' });
  // On the terminal the log lines are JSON: pino-pretty is absent, and nothing failed for it.
  const listening = output.split(/\r?\n/).find((line) => line.includes('sync-manager is listening'));
  assert.doesNotThrow(() => JSON.parse(listening!), listening);

  const { pid } = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as { pid: number };
  process.kill(pid, 'SIGTERM');
  const code = await new Promise<number | null>((resolve) => server!.on('exit', resolve));
  assert.equal(code, 0, output);
  server = undefined;
});
