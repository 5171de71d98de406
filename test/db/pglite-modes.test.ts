import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openPglite } from '../../src/db/adapters/pglite.ts';

/** Every entry under `root` whose mode lets anyone but the owner in, as "mode path". */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const folders = [root];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const mode = statSync(path).mode & 0o777;
      if (entry.isDirectory()) folders.push(path);
      if ((mode & 0o077) !== 0) found.push(`${mode.toString(8)} ${path}`);
    }
  }
  return found;
}

// On-disk PGlite, whichever backend the suite runs on: the embedded data folder is what is checked.
test("the embedded data folder is the owner's alone: folder 0700, files 0600 at every open", async () => {
  const root = mkdtempSync(join(tmpdir(), 'sm-modes-'));
  const dataDir = join(root, 'pgdata');
  const umask = process.umask();
  try {
    const db = await openPglite(dataDir);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.deepEqual(openToOthers(dataDir).slice(0, 5), []);
    // Files PGlite creates while it runs (a table, its WAL) are inside the closed folder, and are
    // tightened at the next open.
    await db.query('CREATE TABLE modes_check (a int)');
    await db.query('INSERT INTO modes_check SELECT generate_series(1, 1000)');
    await db.query('CHECKPOINT');
    await db.close();
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(process.umask() & 0o777, umask, "the process's umask is the operator's again");
    // A folder left open by an earlier version is closed again when it is next opened.
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'PG_VERSION'), 0o666);
    const again = await openPglite(dataDir);
    await again.close();
    assert.deepEqual(openToOthers(dataDir).slice(0, 5), []);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
