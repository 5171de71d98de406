import { ChunkBytes } from './chunk-bytes.ts';

// PostgreSQL's COPY binary format: a signature and two zero words, then per row a 16-bit field count
// and each field as a 32-bit length (-1 for NULL) and its bytes in the type's binary form, then -1
// as a 16-bit trailer. All integers big-endian.
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const TRAILER = Buffer.from([0xff, 0xff]);
/** jsonb's binary form is a version byte, then the JSON text (which the server parses as for text). */
const JSONB_VERSION = 1;

/**
 * COPY binary rows written straight into bytes: each take() is one whole COPY stream, header and
 * trailer included, for one `COPY … WITH (FORMAT binary)` statement.
 *
 * Why binary for the first import's rows: PostgreSQL reads a binary field by its length, where COPY
 * text makes it scan every byte twice (for the line's end, then for tabs and escapes) and parse the
 * uuid and the numbers, so the server does measurably less work a row (docs/performance.md), and the client no longer scans each text for characters
 * to escape.
 *
 * @example
 * const rows = new BinaryCopyBuffer(1 << 20);
 * rows.row(2); rows.text('p1'); rows.jsonb('{"id":"p1"}');
 * await tx.copyFrom('COPY t (id, doc)', (async function* () { yield rows.take(); })(), 'binary');
 */
export class BinaryCopyBuffer extends ChunkBytes {
  /** Starts a row of `fields` fields (the stream's header first, if this is its first row). */
  row(fields: number): void {
    this.reserve(HEADER.length + 2);
    if (this.length === 0) this.raw(HEADER);
    this.length = this.current.writeInt16BE(fields, this.length);
  }

  /** A text (or varchar) field. */
  text(value: string): void {
    this.reserveText(value, 4);
    const bytes = this.current.write(value, this.length + 4, 'utf8');
    this.current.writeInt32BE(bytes, this.length);
    this.length += 4 + bytes;
  }

  /** A jsonb field from JSON text. */
  jsonb(json: string): void {
    this.reserveText(json, 5);
    this.current[this.length + 4] = JSONB_VERSION;
    const bytes = this.current.write(json, this.length + 5, 'utf8');
    this.current.writeInt32BE(bytes + 1, this.length);
    this.length += 5 + bytes;
  }

  /** The stream written since the last take(), with its trailer; empty if no row was written. */
  override take(): Buffer {
    if (this.length > 0) this.raw(TRAILER);
    return super.take();
  }
}

/** A uuid field (length and 16 bytes), for rows that repeat it. */
export function binaryUuidField(uuid: string): Buffer {
  const field = Buffer.alloc(20);
  field.writeInt32BE(16, 0);
  field.write(uuid.replaceAll('-', ''), 4, 'hex');
  return field;
}

/** A bigint field (length and 8 bytes) from its decimal text, for rows that repeat it. */
export function binaryBigintField(decimal: string): Buffer {
  const field = Buffer.alloc(12);
  field.writeInt32BE(8, 0);
  field.writeBigInt64BE(BigInt(decimal), 4);
  return field;
}

/**
 * The rows of one COPY binary stream, each as its fields' bytes (null for NULL; a jsonb field keeps
 * its version byte). For reading back what was written, as after a failed COPY.
 */
export function readBinaryCopyRows(stream: Buffer): (Buffer | null)[][] {
  if (!stream.subarray(0, 11).equals(HEADER.subarray(0, 11))) throw new Error('not a COPY binary stream');
  let at = HEADER.length + stream.readInt32BE(15);
  const rows: (Buffer | null)[][] = [];
  for (let fields = stream.readInt16BE(at); fields !== -1; fields = stream.readInt16BE(at)) {
    at += 2;
    const row: (Buffer | null)[] = [];
    for (let i = 0; i < fields; i++) {
      const length = stream.readInt32BE(at);
      at += 4;
      if (length === -1) {
        row.push(null);
      } else {
        row.push(stream.subarray(at, at + length));
        at += length;
      }
    }
    rows.push(row);
  }
  return rows;
}
