import { randomUUID } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The layout of the import folder: `<importDir>/<tenant-slug>/<collection>.json|.ndjson`, with
 * `.processed/` and `.failed/` inside each tenant folder. Names starting with a dot are never
 * imported, so a writer can write `.products.json.tmp` (or any name not ending in .json/.ndjson)
 * and rename it into place when complete.
 *
 * Only regular files are read. Entries are looked at with lstat and opened with O_NOFOLLOW, so a
 * symbolic link (to another tenant's folder, to /etc/passwd) is never followed: a link, FIFO, device or
 * socket with an importable name is refused without being read, and a tenant folder that is itself a
 * link is skipped. A file is identified by device, inode, size and mtime: a file replaced or still
 * growing while it was imported is not moved.
 */
export const PROCESSED = '.processed';
export const FAILED = '.failed';
/** A file whose sync tripped a guard: held for approval (docs/run-safety.md), its reasons beside it. */
export const HELD = '.held';

export interface DroppedFile {
  /** The tenant folder's name: the tenant's slug (the tenant may not exist). */
  folder: string;
  /** The file's name in it, e.g. products.json. */
  name: string;
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /** Why the entry is not imported (it is not a regular file), or undefined for a regular file. */
  refused?: string;
}

type Identity = Pick<DroppedFile, 'dev' | 'ino' | 'size' | 'mtimeMs'>;

/** Which file this is and what it held: another file renamed over it, or more written, changes it. */
export function stampOf(file: Identity): string {
  return `${file.dev}:${file.ino}:${file.size}:${file.mtimeMs}`;
}

function kindOf(info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * products.json → { collection: 'products', format: 'json' }; products.erp.ndjson → the same with
 * `source: 'erp'` (collection names hold no dot, so the first dot ends the collection's name);
 * undefined when not an importable name.
 */
export function parseDroppedName(
  name: string,
): { collection: string; source?: string; format: 'json' | 'ndjson' } | undefined {
  if (name.startsWith('.')) return undefined;
  const match = /^(.+)\.(json|ndjson)$/i.exec(name);
  if (!match) return undefined;
  const format = match[2]!.toLowerCase() as 'json' | 'ndjson';
  const named = /^([^.]+)\.([A-Za-z0-9][A-Za-z0-9_-]*)$/.exec(match[1]!);
  if (named) return { collection: named[1]!, source: named[2]!, format };
  return { collection: match[1]!, format };
}

/** Every importable file under the import folder, tenant folders and files in name order. */
export async function listDroppedFiles(importDir: string): Promise<DroppedFile[]> {
  const found: DroppedFile[] = [];
  for (const folder of (await readdirOrEmpty(importDir)).sort()) {
    if (folder.startsWith('.')) continue;
    const folderPath = join(importDir, folder);
    // A tenant folder that is a link could point into another tenant's folder: not followed.
    if (!(await lstat(folderPath).catch(() => undefined))?.isDirectory()) continue;
    for (const name of (await readdirOrEmpty(folderPath)).sort()) {
      if (!parseDroppedName(name)) continue;
      const path = join(folderPath, name);
      const info = await lstat(path).catch(() => undefined);
      if (info === undefined || info.isDirectory()) continue;
      const { dev, ino, size, mtimeMs } = info;
      const file: DroppedFile = { folder, name, path, dev, ino, size, mtimeMs };
      const refused = kindOf(info);
      if (refused !== undefined) file.refused = refused;
      found.push(file);
    }
  }
  return found;
}

async function readdirOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

/**
 * Opens the listed file for reading without following a link (O_NOFOLLOW) and without blocking on a
 * FIFO (O_NONBLOCK); undefined when the path is no longer the regular file that was listed.
 */
export async function openDroppedFile(file: DroppedFile): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const info = await handle.stat().catch(() => undefined);
  if (info?.isFile() && stampOf(info) === stampOf(file)) return handle;
  await handle.close();
  return undefined;
}

/** True while the path is still the file listed, unchanged (same device, inode, size and mtime). */
export async function isUnchanged(file: DroppedFile): Promise<boolean> {
  const info = await lstat(file.path).catch(() => undefined);
  return info !== undefined && stampOf(info) === stampOf(file);
}

/** Sortable and safe in a file name: 2024-05-01T12-00-00.123Z. */
function timePrefix(at: Date): string {
  return at.toISOString().replaceAll(':', '-');
}

/** Moves the file to `.processed/<time>-<name>`; returns the new path. */
export async function moveToProcessed(file: DroppedFile, at = new Date()): Promise<string> {
  const dir = join(file.path, '..', PROCESSED);
  await mkdir(dir, { recursive: true });
  const target = join(dir, `${timePrefix(at)}-${file.name}`);
  await rename(file.path, target);
  return target;
}

/**
 * Moves the file into `.failed/` as `<time>-<name>` and puts its report, `<time>-<name>.error.json`,
 * beside it (written to a temporary name and renamed last: once a reader sees the report, the file is
 * there too, and never half a report). Returns the new path of the file.
 */
export async function moveToFailed(
  file: DroppedFile,
  report: object,
  at = new Date(),
  folder = FAILED,
): Promise<string> {
  const dir = join(file.path, '..', folder);
  await mkdir(dir, { recursive: true });
  const target = join(dir, `${timePrefix(at)}-${file.name}`);
  const temporary = join(dir, `.${randomUUID()}.tmp`);
  await writeFile(temporary, `${JSON.stringify(report, null, 2)}\n`);
  await rename(file.path, target);
  await rename(temporary, `${target}.error.json`);
  return target;
}
