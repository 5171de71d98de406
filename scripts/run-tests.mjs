#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (Node 20 takes no globs, so we list the files).
// Arguments narrow the run: `npm run test:only -- records` runs the files whose path contains "records".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function listTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = listTests('test')
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files match');
  process.exit(1);
}
// The CLI tests run the real executable, which runs dist/ when it is fresh: build it from these sources.
const built = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
const backend = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite';
console.log(`running ${files.length} test files on ${backend}`);
// Three files at a time on the 2-core machines: the CLI and auto-import files spend much of their
// time spawning processes and waiting on them (cli.test.ts used 1.4 of the 2 cores), so a third file
// fills the gaps. TEST_CONCURRENCY overrides.
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
