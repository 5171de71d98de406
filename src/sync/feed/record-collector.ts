import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { MAX_RECORD_BYTES } from '../../json/size.ts';
import { isTombstone } from '../merge.ts';
import { IdIndex } from './id-index.ts';
import type { FeedBatch, FeedError, FeedRecord, KnownRecords, ReadFeedOptions } from './types.ts';
import { unsafeValueMessage } from './unsafe-values.ts';
import { firstInvalidUtf8 } from './utf8.ts';

const MAX_ID_LENGTH = 512;

function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

type Position = Pick<FeedError, 'row' | 'line' | 'offset'>;

/** NDJSON errors say the line; JSON-array errors say the byte offset where the record starts. */
function position(row: number, line: number, offset: number): Position {
  return line > 0 ? { row, line } : { row, offset };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Turns the byte span of one record into a FeedRecord, or into a FeedError. Both scanners feed it; it
 * owns the row count, the error list, the duplicate index and the batches waiting to be yielded.
 *
 * @example
 * const collector = new RecordCollector({ format: 'ndjson', idField: 'id' });
 * collector.add(Buffer.from('{"id":1}'), 0, 8, 0, 1, true);
 * collector.finish();
 * collector.takeBatches(); // [{ records: [{ row: 1, id: '1', text: '{"id":1}', hash: '…' }] }]
 */
export class RecordCollector {
  rows = 0;
  errorCount = 0;
  readonly errors: FeedError[] = [];
  /** Rows left out for their schema failures (ReadFeedOptions.skipInvalid), and the first failures. */
  skippedCount = 0;
  readonly skipped: FeedError[] = [];
  private readonly validate: ReadFeedOptions['validate'];
  private readonly skipInvalid: boolean;
  private readonly idField: string;
  private readonly batchSize: number;
  private readonly maxErrors: number;
  private readonly ids: IdIndex | null;
  private readonly known: KnownRecords | null;
  private batch: FeedRecord[] = [];
  private ready: FeedBatch[] = [];

  constructor(options: ReadFeedOptions) {
    this.idField = options.idField;
    this.batchSize = Math.max(1, options.batchSize ?? 5000);
    this.maxErrors = Math.max(0, options.maxErrors ?? 100);
    this.ids = options.checkDuplicates === false ? null : new IdIndex();
    this.known = options.known ?? null;
    this.validate = options.validate;
    this.skipInvalid = options.skipInvalid === true;
  }

  /** Records one error. From the first one on, no record is kept: the feed will be refused anyway. */
  fail(error: FeedError): void {
    this.errorCount++;
    if (this.errors.length < this.maxErrors) this.errors.push(error);
    this.batch = [];
    this.ready = [];
  }

  /**
   * One record's bytes, `bytes[start, end)`, which start at byte `offset` of the feed (and on `line`,
   * 0 when lines are not counted). Surrounding whitespace is dropped; an empty span is a blank NDJSON line
   * and is not a row. `utf8Checked` says the caller already validated these bytes as UTF-8.
   */
  add(bytes: Buffer, start: number, end: number, offset: number, line: number, utf8Checked: boolean): void {
    let from = start;
    let to = end;
    while (from < to && isJsonSpace(bytes[from]!)) from++;
    while (to > from && isJsonSpace(bytes[to - 1]!)) to--;
    if (from === to) return;
    const row = ++this.rows;
    const recordOffset = offset + from - start;
    if (to - from > MAX_RECORD_BYTES) {
      this.fail({
        ...position(row, line, recordOffset),
        code: 'record_too_large',
        message: `record is ${to - from} bytes, more than the ${MAX_RECORD_BYTES} bytes a record may hold`,
      });
      return;
    }
    if (!utf8Checked && !isUtf8(bytes.subarray(from, to))) {
      const bad = firstInvalidUtf8(bytes, from, to);
      const where = offset + (bad === -1 ? from : bad) - start;
      this.fail({
        ...position(row, line, recordOffset),
        offset: where,
        code: 'invalid_utf8',
        message: `invalid UTF-8 at byte ${where}`,
      });
      return;
    }
    // Hashed from the bytes (valid UTF-8, so the same digest as of the decoded text) before any parse.
    const digest = hash('sha1', bytes.subarray(from, to), 'base64');
    if (this.known !== null) {
      const match = this.known.matchText(digest);
      if (match === 'duplicate') {
        // The same text twice, so the same id: parsed only now, to name it.
        const id = this.extractId(JSON.parse(bytes.toString('utf8', from, to)) as Record<string, unknown>);
        this.failDuplicate(position(row, line, recordOffset), typeof id === 'string' ? id : '');
        return;
      }
      if (match === 'matched') {
        if (this.errorCount > 0) return;
        this.push({ row, id: '', text: '', hash: digest, known: 'unchanged' });
        return;
      }
    }
    const text = bytes.toString('utf8', from, to);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.fail({
        ...position(row, line, recordOffset),
        code: 'invalid_json',
        message: `invalid JSON: ${(error as Error).message}`,
      });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail({
        ...position(row, line, recordOffset),
        code: 'not_an_object',
        message: `row is ${describe(value)}, not an object`,
      });
      return;
    }
    const id = this.extractId(value as Record<string, unknown>);
    if (typeof id !== 'string') {
      this.fail({ ...position(row, line, recordOffset), ...id });
      return;
    }
    const claim = this.known === null ? 'unknown' : this.known.claimId(id);
    if (claim === 'duplicate' || (claim === 'unknown' && this.ids !== null && !this.ids.add(id))) {
      this.failDuplicate(position(row, line, recordOffset), id);
      return;
    }
    const unsafe = unsafeValueMessage(text, bytes, from, to, value);
    if (unsafe !== null) {
      this.fail({ ...position(row, line, recordOffset), id, code: 'unsafe_value', message: unsafe });
      return;
    }
    const tombstone = isTombstone(value);
    const failures = this.validate && !tombstone ? this.validate(value) : null;
    if (failures) {
      const where = position(row, line, recordOffset);
      const errors = failures.map(
        (failure): FeedError => ({
          ...where,
          id,
          code: 'schema_invalid',
          pointer: failure.pointer,
          message: failure.message,
        }),
      );
      if (this.skipInvalid) {
        this.skippedCount++;
        for (const error of errors) if (this.skipped.length < this.maxErrors) this.skipped.push(error);
      } else {
        for (const error of errors) this.fail(error);
      }
      return;
    }
    if (this.errorCount > 0) return;
    const record: FeedRecord = { row, id, text, hash: digest };
    if (claim === 'stored') record.known = 'stored';
    if (tombstone) record.tombstone = true;
    this.push(record);
  }

  private failDuplicate(where: Position, id: string): void {
    const message = `duplicate id ${JSON.stringify(id)}: an earlier row has the same id`;
    this.fail({ ...where, id, code: 'duplicate_id', message });
  }

  private push(record: FeedRecord): void {
    this.batch.push(record);
    if (this.batch.length >= this.batchSize) {
      this.ready.push({ records: this.batch });
      this.batch = [];
    }
  }

  /** The record's id, or what is wrong with it. */
  private extractId(record: Record<string, unknown>): string | Pick<FeedError, 'code' | 'message'> {
    const raw = record[this.idField];
    if (typeof raw === 'string') {
      if (raw.length > 0 && raw.length <= MAX_ID_LENGTH) return raw;
      const message = `id "${this.idField}" must be 1 to ${MAX_ID_LENGTH} characters, got ${raw.length}`;
      return { code: 'invalid_id', message };
    }
    if (typeof raw === 'number' && Number.isSafeInteger(raw)) return String(raw);
    if (raw === undefined || !Object.hasOwn(record, this.idField)) {
      return { code: 'missing_id', message: `no "${this.idField}" member` };
    }
    const why = typeof raw === 'number' ? `${raw} is not a safe integer` : `it is ${describe(raw)}`;
    return { code: 'invalid_id', message: `id "${this.idField}" must be a string or an integer: ${why}` };
  }

  /** Closes the last, partial batch. */
  finish(): void {
    if (this.batch.length > 0 && this.errorCount === 0) this.ready.push({ records: this.batch });
    this.batch = [];
  }

  /** Batches completed since the last call. */
  takeBatches(): FeedBatch[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }
}
