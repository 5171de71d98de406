#!/usr/bin/env node
// Builds the web console into console/dist: a type check of console/ against the API's types (the
// committed client/schema.d.ts, which test/foundation/client.test.ts keeps equal to the server's
// OpenAPI document, so a renamed field fails this build rather than a page), then `vite build`. Run by
// postinstall and `npm run build`. Without the dev dependencies (a production install) there is no
// Vite: it says so and leaves the console unbuilt; /console then answers how to build it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const consoleDir = join(root, 'console');
const require = createRequire(import.meta.url);

function resolves(path) {
  try {
    return require.resolve(path);
  } catch {
    return null;
  }
}

const tscBin = resolves('typescript/bin/tsc');
if (!resolves('vite/package.json') || !tscBin) {
  console.log('console: Vite is not installed (a production install?); /console will say how to build it');
  process.exit(0);
}

const tsc = spawnSync(process.execPath, [tscBin, '-p', consoleDir], { stdio: 'inherit', cwd: root });
if (tsc.status !== 0) {
  console.error('console: the type check failed (has the API changed under the console?)');
  process.exit(1);
}

const { build } = await import('vite');
await build({ configFile: join(consoleDir, 'vite.config.ts'), logLevel: 'warn' });
mkdirSync(join(consoleDir, 'dist'), { recursive: true });
writeFileSync(join(consoleDir, 'dist', 'BUILT'), `${new Date().toISOString()}\n`);
console.log('console: built into console/dist');
