// Builds the web console into console/dist: (1) the API's types, generated from the OpenAPI document of
// the app built in this process (no server, no database: app.swagger() after ready), (2) a type check
// of the console against them, so a renamed field fails the build rather than a page, (3) vite build.
// Run by `npm run build:console`, which postinstall and `npm run build` call. Without the dev
// dependencies (a production install) there is no Vite: it says so and leaves the console unbuilt.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const consoleDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(consoleDir, '..');
const require = createRequire(import.meta.url);

function has(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

if (!has('vite') || !has('openapi-typescript')) {
  console.log('console: Vite is not installed (a production install?); /console will say how to build it');
  process.exit(0);
}

const { generateApiTypes } = await import('./generate-api-types.ts');
await generateApiTypes(join(consoleDir, 'src', 'generated', 'openapi.d.ts'));

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', consoleDir], {
  stdio: 'inherit',
  cwd: root,
});
if (tsc.status !== 0) {
  console.error('console: the type check failed (has the API changed under the console?)');
  process.exit(1);
}

const { build } = await import('vite');
await build({ configFile: join(consoleDir, 'vite.config.ts'), logLevel: 'warn' });
mkdirSync(join(consoleDir, 'dist'), { recursive: true });
writeFileSync(join(consoleDir, 'dist', 'BUILT'), `${new Date().toISOString()}\n`);
console.log('console: built into console/dist');
