import { ChunkBytes } from './chunk-bytes.ts';
import { copyValue } from './copy-text.ts';

const TAB = 0x09;
const NEWLINE = 0x0a;

/** COPY text rows (see copy-text.ts) written straight into bytes, for the sync's staging writes. */
export class CopyBuffer extends ChunkBytes {
  /**
   * Text the caller knows needs no escaping and is ASCII (a uuid, a number, a base64 hash, `t`), then
   * a tab, or a newline when it ends the row.
   */
  plain(text: string, last = false): void {
    this.reserve(text.length + 1);
    this.length += this.current.write(text, this.length, 'latin1');
    this.current[this.length++] = last ? NEWLINE : TAB;
  }

  /** Any text, escaped for COPY, then a tab, or a newline when it ends the row. */
  text(text: string, last = false): void {
    const escaped = copyValue(text);
    this.reserveText(escaped, 1);
    this.length += this.current.write(escaped, this.length, 'utf8');
    this.current[this.length++] = last ? NEWLINE : TAB;
  }
}
