import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { type Command, InvalidArgumentError } from 'commander';
import { detectFormatFromName } from '../../sync/feed/index.ts';
import { CliApiError } from '../client.ts';
import { withClient } from '../context.ts';
import { FileError, fileProblem } from '../options.ts';
import { printJson, printTable } from '../output.ts';
import { type RecordCounter, recordCounter } from '../record-counter.ts';

interface SyncOptions {
  tenant: string;
  format?: 'json' | 'ndjson';
  mode: 'full' | 'partial';
  source?: string;
  dryRun?: boolean;
  force?: boolean;
  invalidRecords?: 'refuse' | 'skip';
  json?: boolean;
  verbose?: boolean;
  idempotencyKey?: string;
}

const CONTENT_TYPES = { json: 'application/json', ndjson: 'application/x-ndjson' } as const;

/**
 * A file is read 512 KB at a time. The in-process request (light-my-request) hands the route all it has
 * buffered, concatenated, so larger reads arrived as still larger fresh copies and a large import ran
 * many more full garbage collections (docs/performance.md).
 */
const FILE_CHUNK_BYTES = 512 * 1024;

function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value))
      throw new InvalidArgumentError(`one of ${allowed.join(', ')}`);
    return value as T;
  };
}

export function registerSync(program: Command): void {
  program
    .command('sync <collection> <source>')
    .description(
      'sync a collection from a JSON or NDJSON feed: a file, an http(s) URL, or - for stdin (streamed)',
    )
    .requiredOption('--tenant <slug>', 'the tenant')
    .option(
      '--format <format>',
      'json | ndjson (default: from the file extension, else json)',
      oneOf(['json', 'ndjson'] as const),
    )
    .option('--mode <mode>', 'full | partial', oneOf(['full', 'partial'] as const), 'full')
    .option('--source <name>', "the collection's named source this feed is for (default: default)")
    .option('--dry-run', 'plan only: print what would change, change nothing')
    .option('--force', 'apply even if the delete guard would refuse')
    .option(
      '--invalid-records <mode>',
      "rows the collection's schema refuses: refuse the feed | skip them (listed in the run)",
      oneOf(['refuse', 'skip'] as const),
    )
    .option('--idempotency-key <key>', 'the same key and feed apply once')
    .option('--json', 'print the run as JSON (a refusal: the problem as JSON)')
    .option('--verbose', 'a refused feed: print every listed reason as a table on stdout')
    .action(async (collection: string, source: string, options: SyncOptions) => {
      checkLocalFile(source);
      const query = new URLSearchParams({ mode: options.mode });
      if (options.source) query.set('source', options.source);
      if (options.dryRun) query.set('dryRun', 'true');
      if (options.force) query.set('force', 'true');
      if (options.invalidRecords) query.set('invalidRecords', options.invalidRecords);
      await withClient(async (client) => {
        // A missing collection (or tenant) is said before a byte of the feed is read.
        await client.call({
          method: 'GET',
          path: `/v1/collections/${encodeURIComponent(collection)}`,
          tenant: options.tenant,
        });
        const input = await openSource(source);
        const format = options.format ?? input.format ?? 'json';
        const progress = process.stderr.isTTY && !options.json ? new ProgressBar(input.size, format) : null;
        const body = progress ? input.stream.pipe(progress.meter()) : input.stream;
        try {
          const run = await client.call<Record<string, unknown>>({
            method: 'POST',
            path: `/v1/collections/${encodeURIComponent(collection)}/syncs?${query}`,
            tenant: options.tenant,
            stream: { body, contentType: CONTENT_TYPES[format] },
            headers: {
              'sync-manager-origin': 'cli',
              'sync-manager-source': input.name,
              ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
            },
          });
          progress?.done();
          if (options.json) return printJson(run);
          printSummary(run);
        } catch (error) {
          progress?.done();
          if (!(error instanceof CliApiError)) throw error;
          if (options.json) printJson(error.problem);
          else if (options.verbose && Array.isArray(error.problem.errors)) {
            printTable(error.problem.errors as Record<string, unknown>[], ['row', 'id', 'code', 'message']);
          }
          throw refusal(error, options.verbose || options.json);
        }
      });
    });
}

/** The one line a refused sync prints on stderr: the reason, the run, and where the listed reasons are. */
function refusal(error: CliApiError, listed: boolean | undefined): CliApiError {
  const { syncId, errors } = error.problem;
  if (!Array.isArray(errors)) return error;
  const parts = [error.message];
  if (typeof syncId === 'string') parts.push(`sync run ${syncId}`);
  if (!listed) parts.push('--verbose lists them');
  return new CliApiError(parts.join('; '), error.code, error.status, error.problem);
}

/** A local feed that is not there, or not a file, is one clear line before anything is opened. */
function checkLocalFile(source: string): void {
  if (source === '-' || /^https?:\/\//i.test(source)) return;
  let isFile: boolean;
  try {
    isFile = statSync(source).isFile();
  } catch (error) {
    throw new FileError(`cannot read ${source}: ${fileProblem(error)}`);
  }
  if (!isFile) throw new FileError(`cannot read ${source}: not a file`);
}

async function openSource(
  source: string,
): Promise<{ stream: Readable; name: string; size: number | null; format: 'json' | 'ndjson' | null }> {
  if (source === '-') return { stream: process.stdin, name: 'stdin', size: null, format: null };
  if (/^https?:\/\//i.test(source)) {
    const response = await fetch(source).catch((error: Error) => {
      // fetch says only "fetch failed"; the reason (refused, unknown host) is its cause.
      const cause = (error.cause as Error | undefined)?.message ?? error.message;
      throw new Error(`cannot fetch ${source}: ${cause}`);
    });
    if (!response.ok || !response.body) throw new Error(`GET ${source}: HTTP ${response.status}`);
    const type = response.headers.get('content-type') ?? '';
    const length = Number(response.headers.get('content-length'));
    return {
      stream: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
      name: source,
      size: Number.isFinite(length) && length > 0 ? length : null,
      format: /ndjson|jsonl/.test(type) ? 'ndjson' : (detectFormatFromName(new URL(source).pathname) ?? null),
    };
  }
  const size = statSync(source).size;
  return {
    stream: createReadStream(source, { highWaterMark: FILE_CHUNK_BYTES }),
    name: basename(source),
    size,
    format: detectFormatFromName(source),
  };
}

/**
 * Records, bytes and records/s as the feed streams out, redrawn at most 5 times a second. The server
 * answers only at the end, so records are counted here (src/cli/record-counter.ts), for both formats.
 */
class ProgressBar {
  private bytes = 0;
  private readonly counter: RecordCounter;
  private readonly started = Date.now();
  /** When the last byte went out: the rate shown after that is the streaming rate, not the wait. */
  private finished: number | null = null;
  private lastDraw = 0;

  constructor(
    private readonly total: number | null,
    format: 'json' | 'ndjson',
  ) {
    this.counter = recordCounter(format);
  }

  /** A pass-through stream that counts what goes by. */
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.bytes += chunk.length;
        this.counter.push(chunk);
        const now = Date.now();
        if (now - this.lastDraw > 200) {
          this.lastDraw = now;
          this.draw();
        }
        callback(null, chunk);
      },
      flush: (callback) => {
        this.counter.end();
        this.finished = Date.now();
        callback();
      },
    });
  }

  private draw(): void {
    const seconds = Math.max(0.001, ((this.finished ?? Date.now()) - this.started) / 1000);
    const records = this.counter.records;
    const rate = `${Math.round(records / seconds).toLocaleString('en')} records/s`;
    let bar = '';
    if (this.total) {
      const share = Math.min(1, this.bytes / this.total);
      const width = 30;
      bar = `[${'#'.repeat(Math.round(share * width)).padEnd(width, '-')}] ${(share * 100).toFixed(0).padStart(3)}%  `;
    }
    process.stderr.write(
      `\r${bar}${records.toLocaleString('en')} records  ${(this.bytes / 1e6).toFixed(1)} MB  ${rate}   `,
    );
  }

  done(): void {
    this.draw();
    process.stderr.write('\n');
  }
}

function printSummary(run: Record<string, unknown>): void {
  const counts = (run.counts ?? {}) as Record<string, number>;
  const timings = (run.timings ?? {}) as Record<string, number>;
  const seconds = (timings.totalMs ?? 0) / 1000;
  const rows = counts.rows ?? 0;
  printTable(
    [
      {
        status: run.status,
        mode: run.mode,
        created: counts.created,
        updated: counts.updated,
        unchanged: counts.unchanged,
        deleted: counts.deleted,
        conflicts: counts.conflicts,
        seconds: seconds.toFixed(2),
        'records/s': seconds > 0 ? Math.round(rows / seconds) : '-',
      },
    ],
    ['status', 'mode', 'created', 'updated', 'unchanged', 'deleted', 'conflicts', 'seconds', 'records/s'],
  );
  const plan = run.plan as Record<string, string[]> | undefined;
  if (plan) {
    for (const [kind, ids] of Object.entries(plan)) {
      if (ids.length > 0)
        process.stdout.write(`would ${kind}: ${ids.join(', ')}${ids.length >= 20 ? ', …' : ''}\n`);
    }
  }
  for (const error of (run.errors ?? []) as { message?: string }[])
    process.stdout.write(`warning: ${error.message}\n`);
  process.stdout.write(`sync run ${String(run.id)}\n`);
}
