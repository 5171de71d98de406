import { isUtf8 } from 'node:buffer';
import type { RecordCollector } from './record-collector.ts';

const NEWLINE = 0x0a;

/**
 * Splits NDJSON bytes on `\n` and hands each line to the collector (which trims `\r` and spaces and skips
 * blank lines). Lines are found with `indexOf` and handed over as views of the chunk; only a line that
 * spans chunks is copied, once, when its end arrives.
 *
 * @example
 * const splitter = new NdjsonSplitter(collector);
 * splitter.push(Buffer.from('{"id":1}\r\n{"id"'));
 * splitter.push(Buffer.from(':2}'));
 * splitter.end(); // two rows
 */
export class NdjsonSplitter {
  private carry: Buffer[] = [];
  private carryOffset = 0;
  /** Feed offset of the next chunk's first byte. */
  private offset: number;
  private line = 0;

  constructor(
    private readonly collector: RecordCollector,
    startOffset = 0,
  ) {
    this.offset = startOffset;
  }

  push(chunk: Buffer): void {
    // One validation for the whole chunk; only when it fails (a character cut by the chunk boundary, or
    // a real error) does each line get checked on its own.
    const chunkIsUtf8 = isUtf8(chunk);
    let start = 0;
    if (this.carry.length > 0) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        this.carry.push(chunk);
        this.offset += chunk.length;
        return;
      }
      this.carry.push(chunk.subarray(0, newline));
      const joined = Buffer.concat(this.carry);
      this.carry = [];
      this.collector.add(joined, 0, joined.length, this.carryOffset, ++this.line, false);
      start = newline + 1;
    }
    const collector = this.collector;
    for (
      let newline = chunk.indexOf(NEWLINE, start);
      newline !== -1;
      newline = chunk.indexOf(NEWLINE, start)
    ) {
      collector.add(chunk, start, newline, this.offset + start, ++this.line, chunkIsUtf8);
      start = newline + 1;
    }
    if (start < chunk.length) {
      this.carry.push(chunk.subarray(start));
      this.carryOffset = this.offset + start;
    }
    this.offset += chunk.length;
  }

  /** The last line needs no trailing newline. */
  end(): void {
    if (this.carry.length === 0) return;
    const joined = Buffer.concat(this.carry);
    this.carry = [];
    this.collector.add(joined, 0, joined.length, this.carryOffset, ++this.line, false);
  }
}
