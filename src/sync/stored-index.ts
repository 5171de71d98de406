import type { KnownRecords } from './feed/types.ts';
import { type IdCursor, IdList } from './id-list.ts';

/**
 * What a collection already holds, as the client needs it to route a feed: for each stored record id,
 * the hash of its last source text and a few flags. With it the client decides, record by record while
 * the feed streams, whether a row is new, unchanged or changed — so an unchanged row never travels to
 * the database, and the ids the feed no longer has are known without scanning the table.
 *
 * Records are added in ascending id order (bytes of UTF-8, as records.record_id sorts: COLLATE "C"),
 * which is the order the loader's COPY reads the collection in. That order is what keeps the index small:
 * - the ids are an IdList, each written as the bytes it adds to the one before it (a sorted list of
 *   `p123…` ids costs about 3 bytes an id), and a parsed row's id is found by binary search;
 * - an entry is three 32-bit words: 84 bits of the source text's SHA-1 and, in the last word's low
 *   byte, the entry's flags; in fixed-size blocks, numbered in id order, so no entry has to say where
 *   its id is;
 * - the lookup by text hash, built once after the last add, is one array of entry numbers grouped by
 *   the hash's leading bits (about 8 a group) and the groups' starts: about 4 bytes an entry.
 * About 19 bytes a record in all for short sorted ids, less than half of what hash tables holding each
 * id whole took (docs/performance.md). A row is taken for another record's unchanged
 * text with odds about n·m / 2^84 (5e-12 for a 10M-row feed over 10M records).
 */

/** Bit of `flags`: the record is live (its effective value is not deleted). */
export const LIVE = 1;
/**
 * Bit of `flags`: the record came from upstream and is not marked gone, so an equal hash means the feed
 * row changes nothing, and a full feed without it means it is gone now. Records made by hand, or gone
 * upstream before, always go to the database's own plan.
 */
export const COMPARABLE = 2;
/**
 * Bit of `flags`: the record came from upstream and was marked gone by an earlier full sync (and kept
 * live by policy `keep`, or deleted). Under policy `delete`, a live one still absent is deleted now.
 */
export const GONE_BEFORE = 4;
const SEEN = 8;
/** The stored hash could not be read: never equal to a feed hash. */
const NO_HASH = 16;
/** Another stored record has the same source-text hash: rows with that text are parsed, never matched. */
const AMBIGUOUS = 32;

/**
 * Characters of the base64 hash that the index keeps: 14, 6 bits each: two words of 30 bits (5
 * characters each) and 24 bits (4) above the flag byte of the third word.
 */
export const HASH_CHARS = 14;
const FLAG_BITS = 8;
const FLAG_MASK = (1 << FLAG_BITS) - 1;

/** base64 character → its 6 bits (sha1 base64 is what the feed reader writes as the hash). */
const BASE64 = new Int8Array(128).fill(-1);
for (const [i, ch] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  BASE64[ch.charCodeAt(0)] = i;
}

/**
 * The bits of `count` base64 characters of a hash from `from`, as a string or as ASCII bytes; -1 marks
 * text that is not base64 (or too short).
 */
function hashBits(hash: string | Uint8Array, from: number, count: number): number {
  const text = typeof hash === 'string';
  if (hash.length < from + count) return -1;
  let bits = 0;
  for (let i = from; i < from + count; i++) {
    const code = text ? hash.charCodeAt(i) : hash[i]!;
    const value = code < 128 ? BASE64[code]! : -1;
    if (value < 0) return -1;
    bits = (bits << 6) | value;
  }
  return bits;
}

/** Entries per block of the entry arrays. */
const BLOCK_BITS = 16;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;
const WORDS = 3;
/** Entries a text group holds on average, at most: a lookup compares that many at worst, about. */
const GROUP_TARGET = 8;

export class StoredIndex implements KnownRecords {
  private readonly ids = new IdList();
  /** Three words an entry: hash bits 0–29, 30–59, and 60–83 above the flags byte. */
  private readonly words: Int32Array[] = [];
  private live = 0;
  /** The text lookup, made on the first match: entry numbers grouped by hash, and where groups start. */
  private byText: EntryNumbers | null = null;
  private groupStarts = new Uint32Array(2);
  private groupShift = 30;
  /** A probe id as UTF-8 (claimId, add): reused, grown when an id needs more. */
  private scratch = Buffer.allocUnsafe(1024);
  private readonly cursor: IdCursor;

  constructor() {
    this.cursor = this.ids.cursor();
  }

  get size(): number {
    return this.ids.size;
  }

  /** Stored records whose effective value is not deleted. */
  get liveCount(): number {
    return this.live;
  }

  /** Adds one stored record, after every id added before it; the same id again is left as it is. */
  add(id: string, sourceHash: string | null, flags: number): void {
    const hash = sourceHash ?? '';
    const length = this.encode(id);
    this.insert(
      this.scratch,
      0,
      length,
      hashBits(hash, 0, 5),
      hashBits(hash, 5, 5),
      hashBits(hash, 10, 4),
      flags,
    );
  }

  /**
   * The same, the id's UTF-8 bytes read from `bytes[idStart, idEnd)` and the source hash from
   * `bytes[hashStart, hashEnd)` (no string made for either).
   */
  addBytes(
    bytes: Uint8Array,
    idStart: number,
    idEnd: number,
    hashStart: number,
    hashEnd: number,
    flags: number,
  ): void {
    const whole = hashEnd - hashStart >= HASH_CHARS;
    const high = whole ? hashBits(bytes, hashStart, 5) : -1;
    const middle = whole ? hashBits(bytes, hashStart + 5, 5) : -1;
    const low = whole ? hashBits(bytes, hashStart + 10, 4) : -1;
    this.insert(bytes, idStart, idEnd, high, middle, low, flags);
  }

  private insert(
    id: Uint8Array,
    from: number,
    to: number,
    high: number,
    middle: number,
    low: number,
    flags: number,
  ): void {
    if (this.byText !== null) throw new Error('StoredIndex: a record was added after the first lookup');
    if (!this.ids.push(id, from, to)) return;
    const entry = this.ids.size - 1;
    if ((entry & BLOCK_MASK) === 0) this.words.push(new Int32Array(WORDS << BLOCK_BITS));
    const words = this.words[entry >>> BLOCK_BITS]!;
    const at = (entry & BLOCK_MASK) * WORDS;
    // A hash we cannot read is never equal to a feed hash: such a row is always planned by the database.
    const readable = high >= 0 && middle >= 0 && low >= 0;
    words[at] = readable ? high : 0;
    words[at + 1] = readable ? middle : 0;
    words[at + 2] = ((readable ? low : 0) << FLAG_BITS) | (readable ? flags : flags | NO_HASH);
    if (flags & LIVE) this.live++;
  }

  /** KnownRecords: the stored record from upstream whose source text has this hash, marked seen. */
  matchText(feedHash: string): 'matched' | 'duplicate' | null {
    if (this.size === 0) return null;
    const byText = this.byText ?? this.groupByText();
    const high = hashBits(feedHash, 0, 5);
    const middle = hashBits(feedHash, 5, 5);
    const low = hashBits(feedHash, 10, 4);
    if (high < 0 || middle < 0 || low < 0) return null;
    const group = high >>> this.groupShift;
    for (let i = this.groupStarts[group]!, end = this.groupStarts[group + 1]!; i < end; i++) {
      const entry = byText.get(i);
      const words = this.words[entry >>> BLOCK_BITS]!;
      const at = (entry & BLOCK_MASK) * WORDS;
      if (words[at] !== high || words[at + 1] !== middle || words[at + 2]! >>> FLAG_BITS !== low) continue;
      const flags = words[at + 2]! & FLAG_MASK;
      if (flags & AMBIGUOUS) return null;
      if (flags & SEEN) return 'duplicate';
      words[at + 2]! |= SEEN;
      return 'matched';
    }
    return null;
  }

  /** KnownRecords: a parsed row's id, marked seen. */
  claimId(id: string): 'stored' | 'duplicate' | 'unknown' {
    if (this.size === 0) return 'unknown';
    const length = this.encode(id);
    const entry = this.ids.find(this.cursor, this.scratch, length);
    if (entry < 0) return 'unknown';
    const flags = this.flagOf(entry);
    if (flags & SEEN) return 'duplicate';
    this.setFlags(entry, SEEN);
    return 'stored';
  }

  /**
   * Records from upstream that a full feed did not name: gone upstream now, and with `goneBefore` also
   * the live ones an earlier full sync already found gone (a collection whose policy became `delete`).
   */
  *unseenGone(goneBefore = false): Generator<string> {
    const cursor = this.ids.cursor();
    for (let entry = 0; entry < this.size; entry++) {
      cursor.next();
      const flags = this.flagOf(entry);
      if (flags & SEEN) continue;
      if (flags & COMPARABLE || (goneBefore && flags & GONE_BEFORE && flags & LIVE)) yield cursor.id();
    }
  }

  private flagOf(entry: number): number {
    return this.word(entry, 2) & FLAG_MASK;
  }

  /** Sets flag bits of `entry` (flags are only ever added). */
  private setFlags(entry: number, flags: number): void {
    this.words[entry >>> BLOCK_BITS]![(entry & BLOCK_MASK) * WORDS + 2]! |= flags;
  }

  /** Whether a feed row's text can be matched to this entry: from upstream, not gone, hash readable. */
  private matchable(entry: number): boolean {
    return (this.flagOf(entry) & (COMPARABLE | NO_HASH)) === COMPARABLE;
  }

  /** Writes `id` as UTF-8 into the scratch buffer; returns its byte length. */
  private encode(id: string): number {
    if (id.length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafe(id.length * 3);
    return this.scratch.write(id, 0, 'utf8');
  }

  /**
   * Groups the matchable entries by the leading bits of their hash (a counting sort: one pass to count,
   * one to place), and marks the texts two records share as ambiguous.
   */
  private groupByText(): EntryNumbers {
    let matchable = 0;
    for (let entry = 0; entry < this.size; entry++) if (this.matchable(entry)) matchable++;
    let bits = 0;
    while (bits < 30 && (1 << bits) * GROUP_TARGET < matchable) bits++;
    const shift = 30 - bits;
    const starts = new Uint32Array((1 << bits) + 1);
    for (let entry = 0; entry < this.size; entry++) {
      if (this.matchable(entry)) starts[(this.word(entry, 0) >>> shift) + 1]!++;
    }
    for (let g = 1; g < starts.length; g++) starts[g]! += starts[g - 1]!;
    const byText = new EntryNumbers(matchable, this.size);
    const next = starts.slice(0, -1);
    for (let entry = 0; entry < this.size; entry++) {
      if (this.matchable(entry)) byText.set(next[this.word(entry, 0) >>> shift]!++, entry);
    }
    for (let g = 0; g + 1 < starts.length; g++) {
      for (let i = starts[g]!; i < starts[g + 1]!; i++) {
        for (let j = i + 1; j < starts[g + 1]!; j++) {
          if (this.sameText(byText.get(i), byText.get(j))) {
            // Two stored records with one source text (stored under another id field): match neither.
            this.setFlags(byText.get(i), AMBIGUOUS);
            this.setFlags(byText.get(j), AMBIGUOUS);
          }
        }
      }
    }
    this.groupStarts = starts;
    this.groupShift = shift;
    this.byText = byText;
    return byText;
  }

  private word(entry: number, k: number): number {
    return this.words[entry >>> BLOCK_BITS]![(entry & BLOCK_MASK) * WORDS + k]!;
  }

  private sameText(a: number, b: number): boolean {
    return (
      this.word(a, 0) === this.word(b, 0) &&
      this.word(a, 1) === this.word(b, 1) &&
      this.word(a, 2) >>> FLAG_BITS === this.word(b, 2) >>> FLAG_BITS
    );
  }
}

/**
 * A fixed-length array of entry numbers below `limit`, in three bytes each while `limit` ≤ 2^24 (16.7M
 * records; four past that): the low 16 bits in one array, the rest in another. The text lookup holds one
 * per record, so every byte saved counts once per record.
 */
export class EntryNumbers {
  private readonly low: Uint16Array;
  private readonly high: Uint8Array | Uint16Array;

  constructor(length: number, limit: number) {
    this.low = new Uint16Array(length);
    this.high = limit <= 1 << 24 ? new Uint8Array(length) : new Uint16Array(length);
  }

  get(i: number): number {
    return ((this.high[i]! << 16) | this.low[i]!) >>> 0;
  }

  set(i: number, entry: number): void {
    this.low[i] = entry & 0xffff;
    this.high[i] = entry >>> 16;
  }
}
