import type { FeedRecord, FeedSummary, ReadFeedOptions } from '../../../src/sync/feed/index.ts';
import { readFeed } from '../../../src/sync/feed/index.ts';

export async function* chunks(parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part;
}

/** Reads a whole feed given as chunks; returns every record and the summary. */
export async function readAll(
  parts: (string | Uint8Array)[],
  options: Partial<ReadFeedOptions> = {},
): Promise<{ records: FeedRecord[]; summary: FeedSummary; batchSizes: number[] }> {
  const feed = readFeed(chunks(parts), { format: 'json', idField: 'id', ...options });
  const records: FeedRecord[] = [];
  const batchSizes: number[] = [];
  let step = await feed.next();
  for (; !step.done; step = await feed.next()) {
    records.push(...step.value.records);
    batchSizes.push(step.value.records.length);
  }
  return { records, summary: step.value, batchSizes };
}
