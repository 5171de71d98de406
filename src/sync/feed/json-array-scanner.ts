import { isUtf8 } from 'node:buffer';
import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from './json-bytes.ts';
import type { RecordCollector } from './record-collector.ts';

function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Where the scanner is in `[ elem, … ]` or `{ "key": value, …, "records": [ … ] }`. */
enum At {
  Start,
  ArrayFirst,
  ArrayNext,
  Element,
  WrapperFirstKey,
  WrapperNextKey,
  Key,
  MemberValue,
  Member,
  WrapperAfterMember,
  End,
  Dead,
}

/** What ends a captured value at depth 0: an element, a wrapper member's value, a wrapper key. */
enum Capture {
  Element,
  Member,
  Key,
}

/**
 * Finds the top-level elements of a JSON array (bare, or the `records` member of a wrapper object) in a
 * byte stream and hands each element's bytes to the collector, which parses it. It tracks only string,
 * escape and bracket depth, byte by byte; it does not validate elements (JSON.parse does) but does
 * validate the frame around them, and the other wrapper members (JSON.parse on each). After a framing
 * error (e.g. bytes after the closing bracket) it reports once and ignores the rest of the feed.
 *
 * @example
 * const scanner = new JsonArrayScanner(collector);
 * scanner.push(Buffer.from('{"records": [{"id": 1}, {"id": "a]'));
 * scanner.push(Buffer.from('"}]}'));
 * scanner.end(); // two rows: {"id": 1} and {"id": "a]"}
 */
export class JsonArrayScanner {
  private at = At.Start;
  private capture = Capture.Element;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Pieces of the value being captured when it started in an earlier chunk. */
  private carry: Buffer[] = [];
  private valueOffset = 0;
  private offset: number;
  private wrapped = false;
  private sawRecords = false;
  private key = '';

  constructor(
    private readonly collector: RecordCollector,
    startOffset = 0,
  ) {
    this.offset = startOffset;
  }

  push(chunk: Buffer): void {
    if (this.at === At.Dead) return;
    const chunkIsUtf8 = isUtf8(chunk);
    const n = chunk.length;
    let i = 0;
    let valueStart = this.carry.length > 0 ? 0 : -1;
    while (i < n) {
      const at = this.at;
      if (at === At.Element || at === At.Member || at === At.Key) {
        // The hot loop: no calls, state in locals.
        let depth = this.depth;
        let inString = this.inString;
        const capture = this.capture;
        if (this.escaped) {
          this.escaped = false;
          i++;
        }
        let end = -1;
        for (; i < n; i++) {
          const c = chunk[i]!;
          if (inString) {
            if (c === BACKSLASH) i++;
            else if (c === QUOTE) inString = false;
          } else if (c === QUOTE) inString = true;
          else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
          else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            if (depth > 0) depth--;
            else if (
              c === (capture === Capture.Member ? CLOSE_BRACE : CLOSE_BRACKET) &&
              capture !== Capture.Key
            ) {
              end = i;
              break;
            }
          } else if (
            depth === 0 &&
            (c === COMMA ? capture !== Capture.Key : c === COLON && capture === Capture.Key)
          ) {
            end = i;
            break;
          }
        }
        if (end === -1) {
          // The chunk ended inside the value; a backslash as its last byte escapes the next chunk's first.
          this.escaped = i > n;
          this.depth = depth;
          this.inString = inString;
          this.carry.push(chunk.subarray(valueStart === -1 ? 0 : valueStart));
          break;
        }
        this.depth = 0;
        this.inString = false;
        this.endValue(chunk, valueStart, end, chunkIsUtf8);
        valueStart = -1;
        i = end + 1;
        continue;
      }
      const c = chunk[i]!;
      i++;
      if (at === At.Dead) break;
      if (isJsonSpace(c)) continue;
      const next = this.frame(at, c, this.offset + i - 1);
      if (next === At.Element || next === At.Member || next === At.Key) {
        // `c` is the value's first byte; keys start after their quote is seen again by the hot loop.
        i--;
        valueStart = i;
        this.valueOffset = this.offset + i;
      }
      this.at = next;
    }
    this.offset += n;
  }

  /** The bytes `chunk[start, end)`, after any carried pieces, form one value: an element, a key or a member. */
  private endValue(chunk: Buffer, start: number, end: number, chunkIsUtf8: boolean): void {
    let bytes = chunk;
    let from = start;
    let to = end;
    let checked = chunkIsUtf8;
    if (this.carry.length > 0) {
      this.carry.push(chunk.subarray(0, end));
      bytes = Buffer.concat(this.carry);
      this.carry = [];
      from = 0;
      to = bytes.length;
      checked = false;
    }
    const terminator = chunk[end]!;
    if (this.capture === Capture.Element) {
      this.collector.add(bytes, from, to, this.valueOffset, 0, checked);
      this.at = terminator === COMMA ? At.ArrayNext : this.wrapped ? At.WrapperAfterMember : At.End;
      return;
    }
    const text = bytes.toString('utf8', from, to);
    if (this.capture === Capture.Key) {
      try {
        this.key = JSON.parse(text) as string;
        this.at = At.MemberValue;
      } catch {
        this.fatal(`invalid key ${text.trim()} in the top-level object`, this.valueOffset);
      }
      return;
    }
    try {
      JSON.parse(text);
    } catch (error) {
      this.fatal(
        `invalid JSON in top-level member "${this.key}": ${(error as Error).message}`,
        this.valueOffset,
      );
      return;
    }
    this.at = terminator === COMMA ? At.WrapperNextKey : this.endWrapper(this.offset + end);
  }

  /** One non-space byte outside any captured value: returns the next state. */
  private frame(at: At, c: number, offset: number): At {
    switch (at) {
      case At.Start:
        if (c === OPEN_BRACKET) return At.ArrayFirst;
        if (c === OPEN_BRACE) {
          this.wrapped = true;
          return At.WrapperFirstKey;
        }
        return this.fatal(`expected '[' or '{' at the start of the feed, found ${describeByte(c)}`, offset);
      case At.ArrayFirst:
      case At.ArrayNext:
        if (c === CLOSE_BRACKET) {
          if (at === At.ArrayNext) return this.fatal('trailing comma before ]', offset);
          return this.wrapped ? At.WrapperAfterMember : At.End;
        }
        if (c === COMMA) return this.fatal('empty array element', offset);
        this.capture = Capture.Element;
        return At.Element;
      case At.WrapperFirstKey:
      case At.WrapperNextKey:
        if (c === QUOTE) {
          this.capture = Capture.Key;
          return At.Key;
        }
        if (c === CLOSE_BRACE && at === At.WrapperFirstKey) return this.endWrapper(offset);
        return this.fatal(`expected a member name in the top-level object, found ${describeByte(c)}`, offset);
      case At.MemberValue:
        if (this.key !== 'records') {
          this.capture = Capture.Member;
          return At.Member;
        }
        if (this.sawRecords) return this.fatal('the top-level object has two "records" members', offset);
        this.sawRecords = true;
        if (c === OPEN_BRACKET) return At.ArrayFirst;
        return this.fatal(`"records" must be an array, found ${describeByte(c)}`, offset);
      case At.WrapperAfterMember:
        if (c === COMMA) return At.WrapperNextKey;
        if (c === CLOSE_BRACE) return this.endWrapper(offset);
        return this.fatal(`expected ',' or '}' in the top-level object, found ${describeByte(c)}`, offset);
      default:
        return this.fatal(`unexpected ${describeByte(c)} after the end of the feed's JSON value`, offset);
    }
  }

  private endWrapper(offset: number): At {
    if (!this.sawRecords) return this.fatal('the top-level object has no "records" array', offset);
    return At.End;
  }

  private fatal(message: string, offset: number): At {
    this.collector.fail({ code: 'invalid_json', offset, message: `${message} (byte ${offset})` });
    this.at = At.Dead;
    return At.Dead;
  }

  /** Reports a feed that stops before its JSON value is complete. */
  end(): void {
    if (this.at === At.End || this.at === At.Dead) return;
    const message =
      this.at === At.Start
        ? 'empty feed: expected a JSON array or an object with a "records" array'
        : 'unexpected end of feed: the JSON value is not complete';
    this.fatal(message, this.offset);
  }
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
