import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// Run by a child node: creates the cluster (PGlite's initdb) and exits.
const CREATE = `const { PGlite } = await import(process.argv[1]);
const pg = await PGlite.create({ dataDir: process.argv[2] });
await pg.close();`;

/**
 * Creates a new PGlite data folder in a short-lived child process. PGlite's initdb grows the WebAssembly
 * memory of the process that runs it, and that memory is never returned: a server that created its
 * folder itself kept it for its whole life (docs/performance.md, "Embedded server memory"). A folder
 * that already exists is left alone.
 */
export async function createDataDir(pgdata: string): Promise<void> {
  if (existsSync(join(pgdata, 'PG_VERSION'))) return;
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const child = spawn(process.execPath, ['--input-type=module', '-e', CREATE, pglite, pgdata], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`could not create the data folder ${pgdata}: ${stderr.trim()}`);
}
