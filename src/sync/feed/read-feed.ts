import { createReadStream } from 'node:fs';
import { detectFormatFromName, sniffFormat } from './format-sniffing.ts';
import { JsonArrayScanner } from './json-array-scanner.ts';
import { NdjsonSplitter } from './ndjson-splitter.ts';
import { RecordCollector } from './record-collector.ts';
import type { FeedBatch, FeedFormat, FeedSummary, ReadFeedOptions } from './types.ts';

const BOM = [0xef, 0xbb, 0xbf];

function toBuffer(piece: Uint8Array): Buffer {
  return Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
}

function hasBom(head: Buffer): boolean {
  return head.length >= 3 && head[0] === BOM[0] && head[1] === BOM[1] && head[2] === BOM[2];
}

/**
 * Reads a JSON or NDJSON feed as a stream and yields its records in batches; the generator's return
 * value is the summary (rows, errors, errorCount). Each record is parsed once, to validate it and take
 * its id, then dropped: records carry their raw text and its hash, not the parsed value.
 *
 * Errors do not stop the reading: every bad row is reported (up to `maxErrors`, all counted), but from
 * the first error on no more batches are yielded, since a feed with any error is refused as a whole.
 * So batches already yielded must not be applied before the summary says `errorCount === 0`.
 * A leading UTF-8 BOM is skipped (offsets still count it).
 *
 * @example
 * const feed = readFeed(stream, { format: 'ndjson', idField: 'id' });
 * let step = await feed.next();
 * for (; !step.done; step = await feed.next()) stage(step.value.records);
 * if (step.value.errorCount > 0) refuse(step.value.errors);
 */
export async function* readFeed(
  source: AsyncIterable<Uint8Array>,
  options: ReadFeedOptions,
): AsyncGenerator<FeedBatch, FeedSummary, undefined> {
  const collector = new RecordCollector(options);
  let scanner: NdjsonSplitter | JsonArrayScanner | null = null;
  let format: FeedFormat = options.format === 'auto' ? 'ndjson' : options.format;
  let head: Buffer = Buffer.alloc(0);

  // Holds the first bytes until the BOM (and, for 'auto', the format) can be decided.
  const start = (complete: boolean): boolean => {
    if (head.length < 3 && !complete) return false;
    const skip = hasBom(head) ? 3 : 0;
    const body = head.subarray(skip);
    if (options.format === 'auto') {
      const sniffed = sniffFormat(body, complete);
      if (sniffed === null) return false;
      format = sniffed;
    }
    scanner = format === 'json' ? new JsonArrayScanner(collector, skip) : new NdjsonSplitter(collector, skip);
    scanner.push(body);
    head = Buffer.alloc(0);
    return true;
  };

  for await (const piece of source) {
    const chunk = toBuffer(piece);
    if (scanner !== null) {
      (scanner as NdjsonSplitter | JsonArrayScanner).push(chunk);
    } else {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (!start(false)) continue;
    }
    for (const batch of collector.takeBatches()) yield batch;
  }
  if (scanner === null) start(true);
  (scanner as unknown as NdjsonSplitter | JsonArrayScanner).end();
  collector.finish();
  for (const batch of collector.takeBatches()) yield batch;
  const summary: FeedSummary = {
    rows: collector.rows,
    errors: collector.errors,
    errorCount: collector.errorCount,
    format,
  };
  if (options.skipInvalid) {
    summary.skipped = collector.skipped;
    summary.skippedCount = collector.skippedCount;
  }
  return summary;
}

/**
 * For `for await` loops: iterate `batches()`, then read `summary()`.
 *
 * @example
 * const reader = new FeedReader(stream, { format: 'json', idField: 'sku' });
 * for await (const batch of reader.batches()) stage(batch.records);
 * const { errorCount, errors } = reader.summary();
 */
export class FeedReader {
  private result: FeedSummary | null = null;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly options: ReadFeedOptions,
  ) {}

  async *batches(): AsyncGenerator<FeedBatch, void, undefined> {
    this.result = yield* readFeed(this.source, this.options);
  }

  /** Throws until `batches()` has been read to the end. */
  summary(): FeedSummary {
    if (this.result === null)
      throw new Error('FeedReader.summary() called before batches() was read to the end');
    return this.result;
  }
}

/**
 * `readFeed` over a file, read in 1 MB chunks. The format defaults to the one the extension implies
 * (`.json`, `.ndjson`, `.jsonl`), else 'auto'.
 *
 * @example
 * const feed = readFeedFromFile('/data/products.ndjson', { idField: 'id' });
 */
export function readFeedFromFile(
  path: string,
  options: Omit<ReadFeedOptions, 'format'> & { format?: ReadFeedOptions['format'] },
): AsyncGenerator<FeedBatch, FeedSummary, undefined> {
  const format = options.format ?? detectFormatFromName(path) ?? 'auto';
  return readFeed(createReadStream(path, { highWaterMark: 1 << 20 }), { ...options, format });
}
