import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The layout of the import folder: `<importDir>/<tenant-slug>/<collection>.json|.ndjson`, with
 * `.processed/` and `.failed/` inside each tenant folder. Names starting with a dot are never
 * imported, so a writer can write `.products.json.tmp` (or any name not ending in .json/.ndjson)
 * and rename it into place when complete.
 */
export const PROCESSED = '.processed';
export const FAILED = '.failed';

export interface DroppedFile {
  /** The tenant folder's name: the tenant's slug (the tenant may not exist). */
  folder: string;
  /** The file's name in it, e.g. products.json. */
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
}

export function stampOf(file: { size: number; mtimeMs: number }): string {
  return `${file.size}:${file.mtimeMs}`;
}

/** products.json → { collection: 'products', format: 'json' }; undefined when not an importable name. */
export function parseDroppedName(
  name: string,
): { collection: string; format: 'json' | 'ndjson' } | undefined {
  if (name.startsWith('.')) return undefined;
  const match = /^(.+)\.(json|ndjson)$/i.exec(name);
  if (!match) return undefined;
  return { collection: match[1]!, format: match[2]!.toLowerCase() as 'json' | 'ndjson' };
}

/** Every importable file under the import folder, tenant folders and files in name order. */
export async function listDroppedFiles(importDir: string): Promise<DroppedFile[]> {
  const found: DroppedFile[] = [];
  for (const folder of (await readdirOrEmpty(importDir)).sort()) {
    if (folder.startsWith('.')) continue;
    const folderPath = join(importDir, folder);
    for (const name of (await readdirOrEmpty(folderPath)).sort()) {
      if (!parseDroppedName(name)) continue;
      const path = join(folderPath, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      found.push({ folder, name, path, size: info.size, mtimeMs: info.mtimeMs });
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
 * Writes `.failed/<time>-<name>.error.json` (written to a temporary name, then renamed, so a reader
 * never sees half a report), then moves the file beside it. Returns the new path of the file.
 */
export async function moveToFailed(file: DroppedFile, report: object, at = new Date()): Promise<string> {
  const dir = join(file.path, '..', FAILED);
  await mkdir(dir, { recursive: true });
  const target = join(dir, `${timePrefix(at)}-${file.name}`);
  const temporary = join(dir, `.${randomUUID()}.tmp`);
  await writeFile(temporary, `${JSON.stringify(report, null, 2)}\n`);
  await rename(temporary, `${target}.error.json`);
  await rename(file.path, target);
  return target;
}
