#!/usr/bin/env node
// Compiles src/ to plain JavaScript in dist/ (esbuild: the sources bundled, every package left to
// node_modules), so that the sync-manager executable runs without a TypeScript loader. Run by
// `postinstall`, by `npm test` before the suite, and by `npm start`; bin/sync-manager.js uses dist/ only
// when it is newer than every file under src/ (see isBuildFresh), and the sources through tsx otherwise.
//
// Why it is worth a step (measured, docs/performance.md "Session 7"): tsx runs its module hooks on a
// thread of their own, which costs every process about 35 MB of RSS and every module it loads a round
// trip to that thread: a CLI command started in 2.0 s through tsx.
//
// esbuild is an optional dependency, used here only: nothing loads it at run time. Without it (an
// install with --omit=optional, or a Docker image's runtime stage that copies dist/ from its build
// stage) the build is skipped and whatever dist/ holds is kept.
//
// Each step builds into the staging folder; a new step (e.g. a front end) is one more entry in STEPS.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('scripts/build.mjs: esbuild is not installed; dist/ is left as it is');
  process.exit(0);
}

/** The server and CLI, bundled to dist/sync-manager.mjs and its chunks. */
async function buildServer(staging) {
  await esbuild.build({
    entryPoints: { 'sync-manager': join(root, 'src/cli/main.ts') },
    outdir: staging,
    bundle: true,
    // The server's modules stay a chunk of their own, loaded by the commands that need them.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
}

const STEPS = [buildServer];

// Built beside dist/ and moved into place whole: a process starting meanwhile sees the old build or the
// new one, never half of one. The stamp is written last; isBuildFresh compares the sources with it.
const staging = join(root, `.dist-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
try {
  for (const step of STEPS) await step(staging);
  writeFileSync(join(staging, 'BUILT'), `${new Date().toISOString()}\n`);
  const old = join(root, `.dist-old-${process.pid}`);
  try {
    renameSync(dist, old);
  } catch {
    // no earlier build
  }
  renameSync(staging, dist);
  rmSync(old, { recursive: true, force: true });
} finally {
  rmSync(staging, { recursive: true, force: true });
}
