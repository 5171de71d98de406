import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataDirLockedError, dataDirHolder, lockDataDir } from '../../src/db/data-dir-lock.ts';

const root = mkdtempSync(join(tmpdir(), 'sm-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `dir-${n++}`);

test('a lock is exclusive while held, names its holder, and is gone once released', () => {
  const dir = freshDir();
  const lock = lockDataDir(dir, 'first');
  assert.deepEqual(JSON.parse(readFileSync(lock.path, 'utf8')), { pid: process.pid, command: 'first' });
  assert.equal(dataDirHolder(dir)?.pid, process.pid);
  // Even this same process cannot open the folder twice (two PGlite instances on one folder lose writes).
  assert.throws(() => lockDataDir(dir, 'second'), DataDirLockedError);
  assert.ok(existsSync(lock.path), 'the refused attempt left the lock alone');
  lock.release();
  lock.release();
  assert.ok(!existsSync(lock.path));
  assert.equal(dataDirHolder(dir), undefined);
  lockDataDir(dir, 'again').release();
});

test('a lock held by another live process is refused with a clear message', () => {
  const dir = freshDir();
  const first = lockDataDir(dir, 'x');
  first.release();
  writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.ppid, command: 'sync-manager serve' }));
  assert.throws(
    () => lockDataDir(dir, 'sync-manager init'),
    (error: Error) =>
      error instanceof DataDirLockedError &&
      /in use by process \d+ \(sync-manager serve\)/.test(error.message),
  );
});

test('a lock left by a dead process, or unreadable, is taken over', () => {
  for (const content of [
    JSON.stringify({ pid: 2 ** 22 + 12345, command: 'killed' }),
    '',
    '{"pid":',
    'garbage',
  ]) {
    const dir = freshDir();
    lockDataDir(dir, 'x').release();
    writeFileSync(join(dir, '.lock'), content);
    const lock = lockDataDir(dir, 'taker');
    assert.equal(JSON.parse(readFileSync(lock.path, 'utf8')).command, 'taker');
    lock.release();
  }
});

test('a stale lock naming our own pid (a restarted container) is taken over', () => {
  const dir = freshDir();
  lockDataDir(dir, 'x').release();
  writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.pid, command: 'before the restart' }));
  const lock = lockDataDir(dir, 'after the restart');
  assert.equal(JSON.parse(readFileSync(lock.path, 'utf8')).command, 'after the restart');
  lock.release();
});
