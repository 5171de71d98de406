import {
  BinaryCopyBuffer,
  binaryBigintField,
  binaryUuidField,
  readBinaryCopyRows,
} from '../../db/copy/copy-binary.ts';
import { CopyBuffer } from '../../db/copy/copy-buffer.ts';
import { chunkRows, copyRow, copyUnescape } from '../../db/copy/copy-text.ts';
import type { Queryable } from '../../db/database.ts';
import { asOwner } from '../../db/tenant-scope.ts';
import { once } from '../../lib/once.ts';
import {
  type FeedError,
  type FeedFormat,
  type FeedRecord,
  type FeedSummary,
  type ReadFeedOptions,
  readFeed,
} from '../../sync/feed/index.ts';
import { StoredIndex } from '../../sync/stored-index.ts';
import { copySourceIndex } from './source-sync.sql.ts';
import * as sql from './staging.sql.ts';

/**
 * Rows are written to the database in chunks of about this size, one COPY statement each. Each chunk
 * costs a few round trips the database idles through, so fewer, larger chunks keep it busier, up to
 * the size where the last chunk's write no longer overlaps any parsing (docs/performance.md). Memory: a chunk
 * lives in its ChunkBytes buffer and, while in flight, in the driver's copy behind its message header;
 * two chunks at most.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** A chunk is closed after the batch that fills it, so its buffer has room for a batch past CHUNK_BYTES. */
const CHUNK_BUFFER_BYTES = CHUNK_BYTES + (CHUNK_BYTES >> 4);
/** copyNewRecords' columns: tenant, collection, id, source, hash, change. */
const NEW_RECORD_FIELDS = 6;

export type StagedFeed = {
  rows: number;
  summary: FeedSummary;
  /** Rows whose source hash equals the stored one: never sent to the database. */
  unchanged: number;
  /** New ids already written to records (with the run's change id). */
  inserted: number;
  /** Stored records that were live before the sync (for the delete guard). */
  live: number;
};

export class FeedInvalid extends Error {
  constructor(
    readonly errors: FeedError[],
    readonly errorCount: number,
    readonly rows: number,
  ) {
    super(`the feed has ${errorCount} error(s); nothing was applied`);
  }
}

/**
 * Streams the feed and routes each row by what the collection already holds (a StoredIndex fetched
 * first, under the collection's lock):
 * - unchanged (same source hash): counted, never sent;
 * - new id: written straight into records in chunks, while the next chunk is being parsed
 *   (with `changeId` null — a dry run — it is staged for the plan instead);
 * - anything else (changed, tombstone, made by hand, gone before): staged in sync_feed, the raw text,
 *   never cast to jsonb here, for the set-based plan and apply.
 * In full mode the stored ids the feed never named are staged in sync_gone. So the database receives
 * what changed and nothing else. Throws FeedInvalid when the reader reports any error (the transaction
 * then rolls back, new rows included).
 */
export async function stageFeed(
  tx: Queryable,
  source: AsyncIterable<Uint8Array>,
  options: {
    tenantId: string;
    collectionId: string;
    full: boolean;
    /** The collection's policy is `delete`: records marked gone before, still live, are gone too. */
    deleteGone: boolean;
    changeId: string | null;
    format: FeedFormat | 'auto';
    idField: string;
    maxErrors?: number;
    onProgress?: (rows: number) => void;
    /** The collection's schema, compiled once for the run, and whether rows it refuses are skipped. */
    validate?: ReadFeedOptions['validate'];
    skipInvalid?: boolean;
    /**
     * Several sources (src/features/syncs/source-sync.ts): the stored index is this source's hashes,
     * new ids are staged (a new record's value is a merge), and each staged row's text is what
     * `project` makes of it (the fields the source owns).
     */
    source?: { name: string; project: (record: FeedRecord) => string };
    /**
     * A small feed into a large collection (index-strategy.ts): no stored index is read; every row is
     * staged and the database's plan tells new, changed and unchanged apart.
     */
    skipIndex?: boolean;
  },
): Promise<StagedFeed & { indexMs: number; dbWaitMs: number }> {
  await tx.query(sql.createStaging);
  await tx.query(sql.createGoneStaging);
  const t0 = performance.now();
  const own = options.source;
  const stored = options.skipIndex
    ? new StoredIndex()
    : await loadStoredIndex(
        tx,
        own
          ? copySourceIndex(options.tenantId, options.collectionId, own.name)
          : sql.copyStoredIndex(options.tenantId, options.collectionId),
      );
  const insertNew = options.changeId !== null && !options.skipIndex;
  const indexMs = Math.round(performance.now() - t0);

  const writer = new ChunkWriter(tx, options.tenantId, options.collectionId, options.changeId);
  const feed = readFeed(source, {
    format: options.format,
    idField: options.idField,
    maxErrors: options.maxErrors ?? 100,
    // Small batches hand the event loop back often, so a finished database write is followed up soon.
    batchSize: 1000,
    known: stored,
    ...(options.validate ? { validate: options.validate, skipInvalid: options.skipInvalid === true } : {}),
  });
  let unchanged = 0;
  let seen = 0;
  let summary: FeedSummary;
  try {
    for (;;) {
      const step = await feed.next();
      if (step.done) {
        summary = step.value;
        break;
      }
      // The reader has matched each row against the stored index already (see KnownRecords).
      for (const record of step.value.records) {
        if (record.known === 'unchanged') unchanged++;
        else if (record.tombstone) writer.stage(record, true);
        else if (own) writer.stage({ ...record, text: own.project(record) }, false);
        else if (record.known === undefined && insertNew) writer.insert(record);
        else writer.stage(record, false);
      }
      seen += step.value.records.length;
      options.onProgress?.(seen);
      await writer.flushIfFull();
      await writer.letIoThrough();
    }
    await writer.finish();
  } catch (error) {
    await writer.abandon();
    throw error;
  }
  if (summary.errorCount > 0) throw new FeedInvalid(summary.errors, summary.errorCount, summary.rows);
  if (options.full) await stageGone(tx, stored, options.deleteGone);
  await tx.query(sql.indexStaging);
  await tx.query(sql.analyzeStaging);
  return {
    rows: summary.rows,
    summary,
    unchanged,
    inserted: writer.inserted,
    live: stored.liveCount,
    indexMs,
    dbWaitMs: Math.round(writer.waitedMs),
  };
}

/** Reads the collection's records in id order (the order the index keeps) as the server streams them. */
async function loadStoredIndex(tx: Queryable, copyStatement: string): Promise<StoredIndex> {
  const index = new StoredIndex();
  let rest: Buffer | null = null;
  await asOwner(tx, async () => {
    for await (const chunk of tx.copyTo(copyStatement)) {
      const bytes: Buffer =
        rest === null
          ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
          : Buffer.concat([rest, chunk]);
      const used = addStoredLines(index, bytes);
      rest = used < bytes.length ? Buffer.from(bytes.subarray(used)) : null;
    }
  });
  if (rest !== null) throw new Error('the stored index ended inside a line');
  return index;
}

/**
 * Adds the whole lines of copyStoredIndex output in `bytes` to the index; returns where the first
 * incomplete line starts. An id without escapes goes in straight from the bytes, and the hash is read
 * without making a string at all.
 */
export function addStoredLines(index: StoredIndex, bytes: Buffer): number {
  let at = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, at);
    if (end === -1) return at;
    const hashAt = at + 2; // after the one-digit flags and a tab
    const tab = bytes.indexOf(0x09, hashAt);
    const flags = bytes[at]! - 48;
    if (!hasBackslash(bytes, tab + 1, end)) index.addBytes(bytes, tab + 1, end, hashAt, tab, flags);
    else
      index.add(
        copyUnescape(bytes.toString('utf8', tab + 1, end)),
        bytes.toString('latin1', hashAt, tab),
        flags,
      );
    at = end + 1;
  }
}

/** Whether `bytes[from, to)` holds a backslash (Buffer.indexOf would search on past the line). */
function hasBackslash(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] === 0x5c) return true;
  return false;
}

async function stageGone(tx: Queryable, stored: StoredIndex, deleteGone: boolean): Promise<void> {
  function* rows(): Generator<string> {
    for (const id of stored.unseenGone(deleteGone)) yield copyRow([id]);
  }
  await asOwner(tx, () => tx.copyFrom(sql.copyGoneStaging, chunkRows(rows(), CHUNK_BYTES)));
  await tx.query(sql.analyzeGone);
}

/**
 * Buffers the rows bound for the database and writes them a chunk at a time. A chunk's write is
 * started and not awaited: the feed goes on being parsed meanwhile, and the next flush waits for it.
 * So at most one write is in flight and two chunks are in memory.
 */
class ChunkWriter {
  inserted = 0;
  /** COPY binary rows for records (copyNewRecords' columns), and each one's feed row (for a conflict). */
  private readonly fresh = new BinaryCopyBuffer(CHUNK_BUFFER_BYTES);
  private freshRows: number[] = [];
  /** COPY rows for sync_feed (copyStaging's columns). */
  private readonly staged = new CopyBuffer(CHUNK_BUFFER_BYTES);
  /** The columns every new row shares, before its id and after its hash (copyNewRecords' order). */
  private readonly rowHead: Buffer;
  private readonly rowTail: Buffer;
  private pending: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly tx: Queryable,
    private readonly tenantId: string,
    private readonly collectionId: string,
    private readonly changeId: string | null,
  ) {
    this.rowHead = Buffer.concat([binaryUuidField(tenantId), binaryBigintField(collectionId)]);
    // A dry run (no change id) inserts nothing: its new rows are staged.
    this.rowTail = changeId === null ? Buffer.alloc(0) : binaryBigintField(changeId);
  }

  /** A new record, as one COPY row of records: tenant, collection, id, source, hash, change. */
  insert(record: FeedRecord): void {
    const { fresh } = this;
    fresh.row(NEW_RECORD_FIELDS);
    fresh.raw(this.rowHead);
    fresh.text(record.id);
    fresh.jsonb(record.text);
    fresh.text(record.hash);
    fresh.raw(this.rowTail);
    this.freshRows.push(record.row);
  }

  stage(record: FeedRecord, deleted: boolean): void {
    const { staged } = this;
    staged.text(record.id);
    staged.plain(String(record.row));
    staged.plain(record.hash);
    staged.plain(deleted ? 't' : 'f');
    staged.text(record.text, true);
  }

  /**
   * The reader hands over batches in microtasks, so while it has input the event loop never reaches the
   * socket: the replies a chunk's write waits for (COPY's go-ahead, its completion) sat unread until
   * the next file read, and the database idled meanwhile. While a write is in flight, each batch gives
   * the event loop one turn. Measured on a 1M first import: the database waited on the client ~2 s.
   */
  async letIoThrough(): Promise<void> {
    if (this.pending) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async flushIfFull(): Promise<void> {
    if (this.fresh.length + this.staged.length >= CHUNK_BYTES) await this.flush();
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.settle();
  }

  /** Waits for the write in flight, whatever its outcome, so the rollback finds the connection idle. */
  async abandon(): Promise<void> {
    await this.pending;
    this.pending = null;
  }

  private async flush(): Promise<void> {
    // Settled first: the buffers' take() hands out memory the write before last was using.
    await this.settle();
    if (this.fresh.length + this.staged.length === 0) return;
    const fresh = this.fresh.take();
    const freshRows = this.freshRows;
    const staged = this.staged.take();
    this.freshRows = [];
    this.pending = this.write(fresh, freshRows, staged).catch((error: unknown) => {
      this.failure = { error };
    });
  }

  /** Time the feed waited for the database: near 0 when parsing is the bottleneck. */
  waitedMs = 0;
  private async settle(): Promise<void> {
    const t = performance.now();
    if (this.pending) await this.pending;
    this.waitedMs += performance.now() - t;
    this.pending = null;
    if (this.failure) throw this.failure.error;
  }

  /**
   * One chunk's statements, sent without waiting for each other (the driver pipelines them on the
   * transaction's connection): each await here also waits for the parser to hand the event loop back,
   * so the fewer awaits, the less the database sits idle.
   */
  private async write(fresh: Buffer, freshRows: number[], staged: Buffer): Promise<void> {
    const { tx } = this;
    if (staged.length > 0) await asOwner(tx, () => tx.copyFrom(sql.copyStaging, once(staged)));
    if (fresh.length === 0) return;
    // The savepoint comes before the role switch, so rolling back to it restores the tenant role too.
    const savepoint = settled(tx.query(sql.savepoint));
    let conflict: unknown = null;
    try {
      await asOwner(tx, () => tx.copyFrom(sql.copyNewRecords, once(fresh), 'binary'));
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      conflict = error;
    }
    unwrap(await savepoint);
    if (conflict === null) {
      await tx.query(sql.releaseSavepoint);
      this.inserted += freshRows.length;
      return;
    }
    // A record with one of these ids was made by hand since the index was read: write the chunk again,
    // inserting the ids still free and staging the others as changed rows, so no feed row is dropped.
    await tx.query(sql.rollbackToSavepoint);
    const { tenantId, collectionId } = this;
    const rowsJson = newRowsAsJson(fresh, freshRows);
    const restaged = await tx.query(
      sql.insertNewChunkOrStage(tenantId, collectionId, this.changeId!, rowsJson),
    );
    await tx.query(sql.releaseSavepoint);
    this.inserted += freshRows.length - restaged.length;
  }
}

/**
 * A chunk of copyNewRecords rows as the JSON insertNewChunkOrStage takes: `[id, hash, row, document]`
 * for each, read back from the COPY stream (only after a conflict, which is rare).
 */
function newRowsAsJson(copyRows: Buffer, feedRows: number[]): string {
  const fields = readBinaryCopyRows(copyRows);
  const rows = feedRows.map((row, i) => {
    const [, , id, source, hash] = fields[i]!;
    // The jsonb field starts with its version byte.
    return `[${JSON.stringify(id!.toString('utf8'))},"${hash!.toString('latin1')}",${row},${source!.toString('utf8', 1)}]`;
  });
  return `[${rows.join(',')}]`;
}

/** A promise's outcome, never rejected: so a statement awaited later cannot go unhandled meanwhile. */
function settled<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

function unwrap<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
