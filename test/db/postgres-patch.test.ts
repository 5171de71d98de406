import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertPostgresPatched, PATCH_MARK } from '../../src/db/adapters/postgres-patch.ts';

const root = join(import.meta.dirname, '..', '..');
const installed = dirname(fileURLToPath(import.meta.resolve('postgres')));

test('postgres is pinned to exactly the version patches/apply.mjs patches, in package.json and the lock', () => {
  const patched = /name: 'postgres',\s*version: '([^']+)'/.exec(
    readFileSync(join(root, 'patches', 'apply.mjs'), 'utf8'),
  )?.[1];
  assert.ok(patched, 'apply.mjs names the version it patches');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(manifest.dependencies.postgres, patched, 'package.json pins the exact version');
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  assert.equal(lock.packages[''].dependencies.postgres, patched);
  assert.equal(lock.packages['node_modules/postgres'].version, patched);
  const installedVersion = JSON.parse(readFileSync(join(installed, '..', 'package.json'), 'utf8')).version;
  assert.equal(installedVersion, patched);
});

test('the installed postgres.js carries the patch; an unpatched copy is a clear startup error', () => {
  assert.doesNotThrow(() => assertPostgresPatched());
  const copy = mkdtempSync(join(tmpdir(), 'sm-unpatched-'));
  try {
    cpSync(installed, copy, { recursive: true });
    assert.doesNotThrow(() => assertPostgresPatched(copy));
    const queue = join(copy, 'queue.js');
    // What an install with --ignore-scripts leaves: the file without any patched line.
    const lines = readFileSync(queue, 'utf8').split('\n');
    writeFileSync(queue, lines.filter((line) => !line.includes(PATCH_MARK)).join('\n'));
    assert.throws(
      () => assertPostgresPatched(copy),
      /postgres\.js in .* is not patched \(queue\.js lacks the "sync-manager patch" mark\): run `node patches\/apply\.mjs`/,
    );
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
