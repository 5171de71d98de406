import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/** Writes .br and .gz beside each script, style and page, which the server sends when asked for. */
function precompress(): Plugin {
  return {
    name: 'sync-manager-precompress',
    apply: 'build',
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
          entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
        );
      for (const file of walk(join(here, 'dist'))) {
        if (!/\.(js|css|html|svg)$/.test(file)) continue;
        const content = readFileSync(file);
        writeFileSync(`${file}.br`, brotliCompressSync(content));
        writeFileSync(`${file}.gz`, gzipSync(content, { level: 9 }));
      }
    },
  };
}

// The API this dev server proxies to: `npm run console:dev` with SYNC_MANAGER_API=http://127.0.0.1:8080.
const api = process.env.SYNC_MANAGER_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: here,
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: join(here, 'dist'), emptyOutDir: true, target: 'es2022', sourcemap: false },
  plugins: [precompress()],
  server: {
    proxy: { '/v1': api, '/openapi.json': api },
  },
});
