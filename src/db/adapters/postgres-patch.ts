// postgres.js runs with fixes patches/apply.mjs writes into node_modules at install time (postinstall).
// An install with --ignore-scripts, or a copy of node_modules made elsewhere, would run it unpatched,
// and its bugs lose connections and hang queries under load: the server refuses to start instead.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What patches/apply.mjs writes beside every change it makes. */
export const PATCH_MARK = 'sync-manager patch';
const PATCHED_FILES = ['connection.js', 'index.js', 'queue.js'];

let checked = false;

/**
 * Throws when the postgres.js files this process loads do not carry the patch. `folder` is the
 * package's module folder (the one its entry point is in); by default the one `import 'postgres'`
 * resolves to. The installed copy is checked once per process.
 *
 * @example assertPostgresPatched() // throws: postgres.js in …/node_modules/postgres/src is not patched …
 */
export function assertPostgresPatched(folder?: string): void {
  if (folder === undefined && checked) return;
  const dir = folder ?? dirname(fileURLToPath(import.meta.resolve('postgres')));
  for (const name of PATCHED_FILES) {
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      text = '';
    }
    if (!text.includes(PATCH_MARK)) {
      throw new Error(
        `postgres.js in ${dir} is not patched (${name} lacks the "${PATCH_MARK}" mark): run ` +
          '`node patches/apply.mjs` (an install with --ignore-scripts skips it), or reinstall with scripts',
      );
    }
  }
  if (folder === undefined) checked = true;
}
