/**
 * Bytes written into memory that is used again and again, handed out a chunk at a time: the base of
 * the sync's COPY writers (copy-buffer.ts for COPY text, copy-binary.ts for COPY binary). Building
 * each row as a string, joining a chunk's rows and letting the driver encode the result cost a 1M-row
 * first import about as much CPU again as parsing the feed, most of it garbage collection (every row's
 * string lived until its chunk was written, long enough to reach the old generation); here a row costs
 * one UTF-8 encode into a buffer.
 *
 * Two backing buffers take turns: `take()` hands out the bytes written so far and goes on in the other
 * buffer, so the caller must be done with what one `take()` returned before calling it twice more.
 */
export class ChunkBytes {
  protected current: Buffer;
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

  /** Bytes already in the output's form (such as a run of columns every row repeats). */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.current.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written since the last take(); writing goes on in the other buffer. */
  take(): Buffer {
    const taken = this.current.subarray(0, this.length);
    [this.current, this.spare] = [this.spare, this.current];
    this.length = 0;
    return taken;
  }

  /**
   * Room for `text` as UTF-8 plus `extra` bytes. A UTF-16 code unit takes at most 3 bytes of UTF-8, so
   * the text is measured exactly only when the worst case might not fit.
   */
  protected reserveText(text: string, extra: number): void {
    if (text.length * 3 + extra > this.current.length - this.length) {
      this.reserve(Buffer.byteLength(text) + extra);
    }
  }

  protected reserve(bytes: number): void {
    if (this.length + bytes <= this.current.length) return;
    const size = this.current.length;
    // Doubling, so a long run of rows costs a few copies; capped at the chunk size on the way up.
    const doubled = size < this.chunkBytes ? Math.min(size * 2, this.chunkBytes) : size * 2;
    const grown = Buffer.allocUnsafe(Math.max(doubled, this.length + bytes));
    this.current.copy(grown, 0, 0, this.length);
    this.current = grown;
  }
}
