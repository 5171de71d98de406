#!/usr/bin/env node
// The package's executable. It runs the compiled dist/ (scripts/build.mjs) when that build is newer
// than every source file, and otherwise the TypeScript sources through tsx: the same program either
// way, the build only starting faster and using less memory (no loader thread). tsx is a development
// dependency: a production install (`npm ci --omit=dev`) has only dist/, which then runs as it is.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Whether dist/ was built after the last change to any file under src/. */
function isBuildFresh() {
  const stamp = `${root}dist/BUILT`;
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  const newer = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const path = `${dir}/${entry.name}`;
      return entry.isDirectory() ? newer(path) : statSync(path).mtimeMs > built;
    });
  return !existsSync(`${root}src`) || !newer(`${root}src`);
}

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (isBuildFresh() || (existsSync(`${root}dist/BUILT`) && !hasTsx())) {
  if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
  await import('../dist/sync-manager.mjs');
} else if (hasTsx()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  process.stderr.write(
    'sync-manager: no build in dist/ and no TypeScript loader: run `npm run build` (it needs esbuild, ' +
      'an optional dependency) or install the development dependencies\n',
  );
  process.exitCode = 1;
}
