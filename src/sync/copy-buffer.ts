import { copyValue } from './copy-text.ts';

const TAB = 0x09;
const NEWLINE = 0x0a;

/**
 * COPY text rows (see copy-text.ts) written straight into bytes, for the sync's bulk writes. Building
 * each row as a string, joining a chunk's rows and letting the driver encode the result cost a 1M-row
 * first import about as much CPU again as parsing the feed, most of it garbage collection (every row's
 * string lived until its chunk was written, long enough to reach the old generation); here a row costs
 * one UTF-8 encode into memory that is used again and again.
 *
 * Two backing buffers take turns: `take()` hands out the bytes written so far and goes on in the other
 * buffer, so the caller must be done with what one `take()` returned before calling it twice more.
 */
export class CopyBuffer {
  private current: Buffer;
  private spare: Buffer;
  /** Bytes written since the last take(). */
  length = 0;

  /**
   * `chunkBytes`: about how much the caller writes before each take(). The buffers start small and
   * double up to that (further only for a row that needs it), so a sync of a few records does not
   * hold, or make V8 count as external memory, megabytes it never uses.
   */
  constructor(private readonly chunkBytes: number) {
    const start = Math.min(chunkBytes, 64 * 1024);
    this.current = Buffer.allocUnsafe(start);
    this.spare = Buffer.allocUnsafe(start);
  }

  /**
   * Text the caller knows needs no escaping and is ASCII (a uuid, a number, a base64 hash, `t`), then
   * a tab, or a newline when it ends the row.
   */
  plain(text: string, last = false): void {
    this.reserve(text.length + 1);
    this.length += this.current.write(text, this.length, 'latin1');
    this.current[this.length++] = last ? NEWLINE : TAB;
  }

  /** Bytes already in COPY text form (a run of columns every row repeats, with their separators). */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.current.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Any text, escaped for COPY, then a tab, or a newline when it ends the row. */
  text(text: string, last = false): void {
    const escaped = copyValue(text);
    // A UTF-16 code unit takes at most 3 bytes of UTF-8; measure exactly only when that might not fit.
    const room = this.current.length - this.length;
    if (escaped.length * 3 + 1 > room) this.reserve(Buffer.byteLength(escaped) + 1);
    this.length += this.current.write(escaped, this.length, 'utf8');
    this.current[this.length++] = last ? NEWLINE : TAB;
  }

  /** The rows written since the last take(); writing goes on in the other buffer. */
  take(): Buffer {
    const taken = this.current.subarray(0, this.length);
    [this.current, this.spare] = [this.spare, this.current];
    this.length = 0;
    return taken;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.current.length) return;
    const size = this.current.length;
    // Doubling, so a long run of rows costs a few copies; capped at the chunk size on the way up.
    const doubled = size < this.chunkBytes ? Math.min(size * 2, this.chunkBytes) : size * 2;
    const grown = Buffer.allocUnsafe(Math.max(doubled, this.length + bytes));
    this.current.copy(grown, 0, 0, this.length);
    this.current = grown;
  }
}
