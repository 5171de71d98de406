// bin/sync-manager.js runs the compiled dist/ only while it is newer than every file under src/, and
// the sources through tsx otherwise (docs/architecture.md "Running the code"). Checked on a copy of
// the executable and the sources, whose dist/ is a stand-in that says it ran.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const copy = mkdtempSync(join(tmpdir(), 'sm-bin-'));
const stamp = join(copy, 'dist', 'BUILT');
const nested = join(copy, 'src', 'sync', 'stored-index.ts');
const T0 = new Date('2026-01-01T00:00:00Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function run(): string {
  const result = spawnSync(process.execPath, [join(copy, 'bin', 'sync-manager.js'), '--help'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

/** Every file under `dir` gets the modification time `when`. */
function touchAll(dir: string, when: Date): void {
  const result = spawnSync('find', [
    dir,
    '-type',
    'f',
    '-exec',
    'touch',
    '-d',
    when.toISOString(),
    '{}',
    '+',
  ]);
  assert.equal(result.status, 0, String(result.stderr));
}

before(() => {
  cpSync(join(repo, 'bin'), join(copy, 'bin'), { recursive: true });
  cpSync(join(repo, 'src'), join(copy, 'src'), { recursive: true });
  cpSync(join(repo, 'package.json'), join(copy, 'package.json'));
  symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
  mkdirSync(join(copy, 'dist'));
  writeFileSync(join(copy, 'dist', 'sync-manager.mjs'), "console.log('the build ran');\n");
  touchAll(join(copy, 'src'), T0);
});
after(() => rmSync(copy, { recursive: true, force: true }));

test('a build newer than every source runs', () => {
  writeFileSync(stamp, 'built\n');
  utimesSync(stamp, later(10), later(10));
  assert.equal(run(), 'the build ran\n');
});

test('a source file changed after the build: the sources run, not the stale build', () => {
  utimesSync(stamp, later(10), later(10));
  utimesSync(nested, later(20), later(20));
  assert.match(run(), /^Usage: sync-manager/);
  utimesSync(nested, T0, T0);
});

test('no build stamp (a build that did not finish): the sources run', () => {
  rmSync(stamp, { force: true });
  assert.match(run(), /^Usage: sync-manager/);
});
