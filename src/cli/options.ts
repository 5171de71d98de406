import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option } from 'commander';

/**
 * Options and argument readers shared by the commands. Everything a flag can be wrong about is checked
 * here, before any request: a bad value is a usage error (exit 2), not a server refusal (exit 1).
 */

export const tenantOption = () => new Option('--tenant <slug>', 'the tenant').makeOptionMandatory();
export const jsonOption = (what = 'print JSON') => new Option('--json', what);

/** An option taking one of a few words; commander refuses anything else with the list. */
export function choiceOption(flags: string, description: string, choices: readonly string[]): Option {
  return new Option(flags, description).choices(choices);
}

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError('a whole number from 1');
  return parsed;
}

export function ratio(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1)
    throw new InvalidArgumentError('a number from 0 to 1');
  return parsed;
}

/** A usage mistake found while a command runs (after parsing): exit 2 with its one line. */
export class UsageError extends Error {}

/** A file the user named that cannot be read: one line that says which and why, not a raw errno. */
export class FileError extends Error {}

export function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new FileError(`cannot read ${path}: ${fileProblem(error)}`);
  }
}

export function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return (error as Error).message;
}

/**
 * A JSON document given as the argument itself, as `@path` (a file), or as `-` or nothing (stdin),
 * the way curl takes a body. Invalid JSON is a usage error: nothing was sent.
 */
export async function readJsonInput(value: string | undefined, what: string): Promise<unknown> {
  let text: string;
  let from: string;
  if (value === undefined || value === '-') {
    if (process.stdin.isTTY) throw new UsageError(`give the ${what} as JSON, @file or on stdin`);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
    text = Buffer.concat(chunks).toString('utf8');
    from = 'stdin';
  } else if (value.startsWith('@')) {
    text = readInputFile(value.slice(1));
    from = value.slice(1);
  } else {
    text = value;
    from = 'the argument';
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the ${what} in ${from} is not valid JSON: ${(error as Error).message}`);
  }
}

/** This package's version, from its package.json (found upward: src/cli through tsx, or dist/). */
export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (dirname(dir) === dir) return 'unknown';
  }
}
