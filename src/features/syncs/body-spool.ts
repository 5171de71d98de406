import type { Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.ts';

/** A request body received whole into a private temporary file, read back as the sync's feed. */
export interface SpooledBody {
  bytes: number;
  /** The body as a stream, from the file. */
  read(): AsyncIterable<Uint8Array>;
  /** Deletes the file (and its folder); safe to call more than once. */
  remove(): Promise<void>;
}

export interface SpoolOptions {
  /** Where the temporary folder is made (os.tmpdir() by default in config). */
  dir: string;
  /** Larger bodies are refused with 413 as soon as they pass it. */
  limit: number;
  /** A body that sends nothing for this long is refused with 408. */
  idleMs: number;
  /** Fed every chunk, e.g. to hash the body for Idempotency-Key. */
  hasher?: Hash | null;
}

/**
 * Receives a sync's body into a file before any database work starts, so a client that stalls
 * mid-upload holds a socket and a file, never a database connection (nor the embedded database,
 * which serves one connection). See docs/sync.md, "Body intake".
 */
export async function spoolBody(body: Readable, options: SpoolOptions): Promise<SpooledBody> {
  const folder = await mkdtemp(join(options.dir, 'sync-manager-body-'));
  const path = join(folder, 'feed');
  let removed: Promise<void> | null = null;
  const remove = () => {
    removed ??= rm(folder, { recursive: true, force: true });
    return removed;
  };
  try {
    const bytes = await receive(body, path, options);
    return { bytes, read: () => createReadStream(path, { highWaterMark: 1 << 20 }), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

function receive(body: Readable, path: string, options: SpoolOptions): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    let bytes = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', finish);
      body.off('aborted', onAborted);
      // Nothing more is read from a refused body: the reply closes the connection (see the route).
      body.pause();
      file.destroy();
      file.once('close', () => reject(error));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => finish(new AppError('body_timeout', `No bytes of the body arrived for ${options.idleMs} ms`)),
        options.idleMs,
      );
    };
    const onData = (chunk: Buffer) => {
      arm();
      bytes += chunk.length;
      if (bytes > options.limit) {
        finish(new AppError('payload_too_large', `The feed is larger than ${options.limit} bytes`));
        return;
      }
      options.hasher?.update(chunk);
      if (!file.write(chunk)) {
        body.pause();
        file.once('drain', () => {
          if (!settled) body.resume();
        });
      }
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      body.off('data', onData);
      file.once('close', () => resolve(bytes));
      file.end();
    };
    const onAborted = () => finish(new AppError('body_timeout', 'The client closed the connection mid-body'));
    file.on('error', (error) => (settled ? reject(error) : finish(error)));
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', finish);
    body.once('aborted', onAborted);
    arm();
  });
}
