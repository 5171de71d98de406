// Counts the records of a feed as its bytes stream past, for the sync progress bar. The server answers
// only when the run is over, so the client counts for itself: lines for NDJSON, the elements of the
// top-level array (bare, or the `records` member of a wrapper object) for JSON. It tracks strings,
// escapes and bracket depth, nothing else — no parse, no allocation per record — and never judges the
// feed: the server does that, and its summary has the exact counts.

import {
  BACKSLASH,
  CARRIAGE_RETURN,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  NEWLINE,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from '../sync/feed/json-bytes.ts';

const RECORDS_KEY = 'records';

export interface RecordCounter {
  /** Records seen so far. */
  readonly records: number;
  push(chunk: Uint8Array): void;
  /** The stream is over: a last NDJSON line without a newline counts now. */
  end(): void;
}

/**
 * A counter for one feed.
 *
 * @example
 * const counter = recordCounter('json');
 * counter.push(Buffer.from('{"records": [{"id": 1}, {"id": "a]'));
 * counter.push(Buffer.from('"}]}'));
 * counter.records // 2
 */
export function recordCounter(format: 'json' | 'ndjson'): RecordCounter {
  return format === 'ndjson' ? new LineCounter() : new ArrayElementCounter();
}

/** NDJSON: one record a line; blank lines (also `\r\n` ones) are not records. */
class LineCounter implements RecordCounter {
  records = 0;
  /** Bytes of the current line that came in earlier chunks. */
  private pending = 0;
  private pendingEndsWithCr = false;

  push(chunk: Uint8Array): void {
    let start = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
      let length = i - start + this.pending;
      const endsWithCr = i > start ? chunk[i - 1] === CARRIAGE_RETURN : this.pendingEndsWithCr;
      if (endsWithCr) length--;
      if (length > 0) this.records++;
      this.pending = 0;
      this.pendingEndsWithCr = false;
      start = i + 1;
    }
    if (start < chunk.length) {
      this.pending += chunk.length - start;
      this.pendingEndsWithCr = chunk[chunk.length - 1] === CARRIAGE_RETURN;
    }
  }

  end(): void {
    if (this.pending - (this.pendingEndsWithCr ? 1 : 0) > 0) this.records++;
    this.pending = 0;
  }
}

/**
 * JSON: counts each object or array that opens as an element of the records array. When the feed holds
 * several top-level values (NDJSON sent as JSON, which the server also accepts), each one is a record.
 */
class ArrayElementCounter implements RecordCounter {
  private elements = 0;
  private topLevelValues = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The top-level value is an object: its member names are read to find `records`. */
  private wrapper = false;
  /** Depth at which record elements open: 1 in a bare array, 2 inside the wrapper's `records`. */
  private elementDepth = -1;
  private expectingKey = false;
  private key: string | null = null;
  private lastKey = '';

  get records(): number {
    return this.topLevelValues > 1 ? this.topLevelValues : this.elements;
  }

  push(chunk: Uint8Array): void {
    // Where the next backslash is (chunk.length: none left), so string bodies are skipped by indexOf.
    let nextBackslash = -1;
    for (let i = 0; i < chunk.length; i++) {
      if (this.inString && !this.escaped && this.key === null) {
        if (nextBackslash < i) {
          nextBackslash = chunk.indexOf(BACKSLASH, i);
          if (nextBackslash === -1) nextBackslash = chunk.length;
        }
        const quote = chunk.indexOf(QUOTE, i);
        const stop = Math.min(quote === -1 ? chunk.length : quote, nextBackslash);
        if (stop === chunk.length) return; // the string goes on in the next chunk
        i = stop;
      }
      const c = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.key !== null) {
            this.lastKey = this.key;
            this.key = null;
          }
          continue;
        }
        // Only member names of the wrapper are kept, and only as long as they could still be "records".
        if (this.key !== null && this.key.length <= RECORDS_KEY.length) this.key += String.fromCharCode(c);
        continue;
      }
      switch (c) {
        case QUOTE:
          this.inString = true;
          if (this.wrapper && this.depth === 1 && this.expectingKey) this.key = '';
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          if (this.depth === 0) {
            this.topLevelValues++;
            this.wrapper = c === OPEN_BRACE;
            this.expectingKey = this.wrapper;
            this.elementDepth = this.wrapper ? -1 : 1;
          } else if (this.depth === this.elementDepth) {
            this.elements++;
          } else if (this.wrapper && this.depth === 1 && c === OPEN_BRACKET && this.lastKey === RECORDS_KEY) {
            this.elementDepth = 2;
          }
          this.depth++;
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          if (this.depth > 0) this.depth--;
          if (this.wrapper && this.depth === 1 && this.elementDepth === 2) this.elementDepth = -1;
          break;
        case COMMA:
          if (this.wrapper && this.depth === 1) this.expectingKey = true;
          break;
        case COLON:
          if (this.wrapper && this.depth === 1) this.expectingKey = false;
          break;
      }
    }
  }

  end(): void {}
}
