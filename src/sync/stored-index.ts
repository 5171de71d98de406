import type { KnownRecords } from './feed/types.ts';

/**
 * What a collection already holds, as the client needs it to route a feed: for each stored record id,
 * the hash of its last source text and two flags. With it the client decides, record by record while
 * the feed streams, whether a row is new, unchanged or changed — so an unchanged row never travels to
 * the database, and the ids the feed no longer has are known without scanning the table.
 *
 * Two open-addressing tables map to an entry: one by id (lookups compare the id's real bytes, so there
 * are no false matches), and one by source-text hash, for the records from upstream, so the feed reader
 * can recognise an unchanged row before parsing it (KnownRecords). That lookup compares 120 bits of the
 * SHA-1: a row is taken for another record's unchanged text with odds about n·m / 2^120.
 *
 * Memory, about 45 bytes per stored record (450 MB for 10M): six 32-bit words an entry (the hash bits,
 * the id's hash and where its bytes are), a flag byte, the id as UTF-8 with a length prefix, and the two
 * tables' slots (4 bytes each, at most 70% full). Entries and ids live in fixed-size blocks that are
 * added, never copied, so growing costs no second copy of the index. (With one JS string an id and
 * arrays that doubled, a 10M-record re-sync peaked at 1.7 GB.)
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

/** base64 character → its 6 bits (sha1 base64 is what the feed reader writes as the hash). */
const BASE64 = new Int8Array(128).fill(-1);
for (const [i, ch] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  BASE64[ch.charCodeAt(0)] = i;
}

/** 30 bits of a base64 hash from its characters [from, from + 5); -1 marks text that is not base64. */
function hashBits(hash: string, from: number): number {
  let bits = 0;
  for (let i = from; i < from + 5; i++) {
    const code = hash.charCodeAt(i);
    const value = code < 128 ? BASE64[code]! : -1;
    if (value < 0) return -1;
    bits = (bits << 6) | value;
  }
  return bits;
}

/** The same from bytes (the hash as ASCII in a buffer). */
function hashBitsOfBytes(bytes: Uint8Array, from: number): number {
  let bits = 0;
  for (let i = from; i < from + 5; i++) {
    const code = bytes[i]!;
    const value = code < 128 ? BASE64[code]! : -1;
    if (value < 0) return -1;
    bits = (bits << 6) | value;
  }
  return bits;
}

/** FNV-1a over an id's UTF-8 bytes, with a final mix. */
function hashIdBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}

/** Entries per block of the entry arrays. */
const BLOCK_BITS = 16;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;
/** 32-bit words an entry: four of hash bits, the id's hash, the id's place in the arena. */
const WORDS = 6;
const ID_HASH = 4;
const ID_AT = 5;
/** Bytes per arena block; the place of an id is block · ARENA_BLOCK + offset, read unsigned. */
const ARENA_BITS = 20;
const ARENA_BLOCK = 1 << ARENA_BITS;
/** Slot tables are kept at most this full. */
const MAX_LOAD = 0.7;

export class StoredIndex implements KnownRecords {
  private count = 0;
  private readonly words: Int32Array[] = [];
  private readonly flagBlocks: Uint8Array[] = [];
  /** Each id as a length (LEB128) and its UTF-8 bytes; an id never spans two blocks. */
  private readonly arena: Buffer[] = [];
  private arenaUsed = ARENA_BLOCK;
  /** Entry number + 1 per slot, keyed by the id's hash; 0 is an empty slot. */
  private slots = new Uint32Array(1024);
  /** Entry number + 1 per slot, keyed by source-text hash; comparable entries only. */
  private textSlots = new Uint32Array(1024);
  private textEntries = 0;
  private live = 0;
  /** A probe id as UTF-8 (claimId, add): reused, grown when an id needs more. */
  private scratch = Buffer.allocUnsafe(1024);

  get size(): number {
    return this.count;
  }

  /** Stored records whose effective value is not deleted. */
  get liveCount(): number {
    return this.live;
  }

  /** Adds one stored record; an id already there is left as it is (two readers may both see it). */
  add(id: string, sourceHash: string | null, flags: number): void {
    const hash = sourceHash ?? '';
    const ok = hash.length >= 20;
    const bits = (at: number) => (ok ? hashBits(hash, at) : -1);
    const length = this.encode(id);
    this.insert(this.scratch, 0, length, bits(0), bits(5), bits(10), bits(15), flags);
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
    const ok = hashEnd - hashStart >= 20;
    const bits = (at: number) => (ok ? hashBitsOfBytes(bytes, hashStart + at) : -1);
    this.insert(bytes, idStart, idEnd, bits(0), bits(5), bits(10), bits(15), flags);
  }

  private insert(
    id: Uint8Array,
    from: number,
    to: number,
    high: number,
    low: number,
    third: number,
    fourth: number,
    flags: number,
  ): void {
    const idHash = hashIdBytes(id, from, to);
    if (this.find(id, from, to, idHash) >= 0) return;
    const entry = this.count++;
    if ((entry & BLOCK_MASK) === 0) {
      this.words.push(new Int32Array(WORDS << BLOCK_BITS));
      this.flagBlocks.push(new Uint8Array(1 << BLOCK_BITS));
    }
    const words = this.words[entry >>> BLOCK_BITS]!;
    const at = (entry & BLOCK_MASK) * WORDS;
    words[at] = high;
    words[at + 1] = low;
    words[at + 2] = third;
    words[at + 3] = fourth;
    words[at + ID_HASH] = idHash;
    words[at + ID_AT] = this.store(id, from, to);
    // A hash we cannot read is never equal to a feed hash: such a row is always planned by the database.
    const unreadable = high < 0 || low < 0 || third < 0 || fourth < 0;
    this.flagBlocks[entry >>> BLOCK_BITS]![entry & BLOCK_MASK] = unreadable ? flags | NO_HASH : flags;
    if (flags & LIVE) this.live++;
    if (this.count > this.slots.length * MAX_LOAD) this.growSlots();
    else this.place(entry, idHash);
    if (flags & COMPARABLE && !unreadable) this.addText(entry);
  }

  /** KnownRecords: the stored record from upstream whose source text has this hash. */
  matchText(feedHash: string): { id: string; duplicate: boolean } | null {
    if (this.textEntries === 0) return null;
    const entry = this.findText(
      hashBits(feedHash, 0),
      hashBits(feedHash, 5),
      hashBits(feedHash, 10),
      hashBits(feedHash, 15),
    );
    if (entry < 0) return null;
    const flags = this.flagOf(entry);
    if (flags & AMBIGUOUS) return null;
    if (flags & SEEN) return { id: this.idOf(entry), duplicate: true };
    this.setFlags(entry, flags | SEEN);
    return { id: this.idOf(entry), duplicate: false };
  }

  /** KnownRecords: a parsed row's id, marked seen. */
  claimId(id: string): 'stored' | 'duplicate' | 'unknown' {
    if (this.count === 0) return 'unknown';
    const length = this.encode(id);
    const entry = this.find(this.scratch, 0, length, hashIdBytes(this.scratch, 0, length));
    if (entry < 0) return 'unknown';
    const flags = this.flagOf(entry);
    if (flags & SEEN) return 'duplicate';
    this.setFlags(entry, flags | SEEN);
    return 'stored';
  }

  /**
   * Records from upstream that a full feed did not name: gone upstream now, and with `goneBefore` also
   * the live ones an earlier full sync already found gone (a collection whose policy became `delete`).
   */
  *unseenGone(goneBefore = false): Generator<string> {
    for (let entry = 0; entry < this.count; entry++) {
      const flags = this.flagOf(entry);
      if (flags & SEEN) continue;
      if (flags & COMPARABLE || (goneBefore && flags & GONE_BEFORE && flags & LIVE)) yield this.idOf(entry);
    }
  }

  private flagOf(entry: number): number {
    return this.flagBlocks[entry >>> BLOCK_BITS]![entry & BLOCK_MASK]!;
  }

  private setFlags(entry: number, flags: number): void {
    this.flagBlocks[entry >>> BLOCK_BITS]![entry & BLOCK_MASK] = flags;
  }

  private word(entry: number, k: number): number {
    return this.words[entry >>> BLOCK_BITS]![(entry & BLOCK_MASK) * WORDS + k]!;
  }

  /** Writes `id` as UTF-8 into the scratch buffer; returns its byte length. */
  private encode(id: string): number {
    if (id.length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafe(id.length * 3);
    return this.scratch.write(id, 0, 'utf8');
  }

  /** Copies an id's bytes into the arena, after their length; returns where it starts. */
  private store(id: Uint8Array, from: number, to: number): number {
    const length = to - from;
    const needed = length + 5;
    if (this.arenaUsed + needed > ARENA_BLOCK) {
      if (this.arena.length === 1 << (32 - ARENA_BITS))
        throw new Error('More than 4 GB of stored record ids');
      // An id longer than a block (never stored by PostgreSQL's btree, but cheap to allow) gets its own.
      this.arena.push(Buffer.allocUnsafe(Math.max(ARENA_BLOCK, needed)));
      this.arenaUsed = 0;
    }
    const block = this.arena.length - 1;
    const bytes = this.arena[block]!;
    const start = this.arenaUsed;
    let at = start;
    for (let rest = length; ; rest >>>= 7) {
      if (rest < 0x80) {
        bytes[at++] = rest;
        break;
      }
      bytes[at++] = (rest & 0x7f) | 0x80;
    }
    bytes.set(id.subarray(from, to), at);
    this.arenaUsed = at + length;
    if (needed > ARENA_BLOCK) this.arenaUsed = ARENA_BLOCK; // the next id starts a new block
    return (block << ARENA_BITS) | start;
  }

  /** The arena block of an entry's id, and where its bytes are in it. */
  private idBytes(entry: number): { bytes: Buffer; start: number; end: number } {
    const place = this.word(entry, ID_AT) >>> 0;
    const bytes = this.arena[place >>> ARENA_BITS]!;
    let at = place & (ARENA_BLOCK - 1);
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      length |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    return { bytes, start: at, end: at + length };
  }

  private idOf(entry: number): string {
    const { bytes, start, end } = this.idBytes(entry);
    return bytes.toString('utf8', start, end);
  }

  private sameId(entry: number, id: Uint8Array, from: number, to: number): boolean {
    const { bytes, start, end } = this.idBytes(entry);
    if (end - start !== to - from) return false;
    for (let i = 0; i < to - from; i++) if (bytes[start + i] !== id[from + i]) return false;
    return true;
  }

  private find(id: Uint8Array, from: number, to: number, idHash: number): number {
    const mask = this.slots.length - 1;
    for (let slot = idHash & mask; ; slot = (slot + 1) & mask) {
      const taken = this.slots[slot]!;
      if (taken === 0) return -1;
      const e = taken - 1;
      if (this.word(e, ID_HASH) === idHash && this.sameId(e, id, from, to)) return e;
    }
  }

  private place(entry: number, idHash: number): void {
    const mask = this.slots.length - 1;
    let slot = idHash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = entry + 1;
  }

  /** Doubles the id table and places every entry again. */
  private growSlots(): void {
    this.slots = new Uint32Array(this.slots.length * 2);
    for (let entry = 0; entry < this.count; entry++) this.place(entry, this.word(entry, ID_HASH));
  }

  private addText(entry: number): void {
    const same = this.findTextOf(entry);
    if (same >= 0) {
      // Two stored records with one source text (stored under another id field): match neither.
      this.setFlags(same, this.flagOf(same) | AMBIGUOUS);
      return;
    }
    this.textEntries++;
    if (this.textEntries <= this.textSlots.length * MAX_LOAD) {
      this.placeText(entry);
      return;
    }
    // Doubles the table and places again the first entry of each text from upstream (this one included).
    this.textSlots = new Uint32Array(this.textSlots.length * 2);
    for (let e = 0; e < this.count; e++) {
      const flags = this.flagOf(e);
      if (flags & COMPARABLE && !(flags & NO_HASH) && this.findTextOf(e) < 0) this.placeText(e);
    }
  }

  /** The entry in the text table with entry `e`'s hash bits, or -1. */
  private findTextOf(e: number): number {
    return this.findText(this.word(e, 0), this.word(e, 1), this.word(e, 2), this.word(e, 3));
  }

  private findText(high: number, low: number, third: number, fourth: number): number {
    const mask = this.textSlots.length - 1;
    for (let slot = (high ^ fourth) & mask; ; slot = (slot + 1) & mask) {
      const taken = this.textSlots[slot]!;
      if (taken === 0) return -1;
      const e = taken - 1;
      const words = this.words[e >>> BLOCK_BITS]!;
      const at = (e & BLOCK_MASK) * WORDS;
      if (
        words[at] === high &&
        words[at + 1] === low &&
        words[at + 2] === third &&
        words[at + 3] === fourth
      ) {
        return e;
      }
    }
  }

  private placeText(entry: number): void {
    const mask = this.textSlots.length - 1;
    let slot = (this.word(entry, 0) ^ this.word(entry, 3)) & mask;
    while (this.textSlots[slot] !== 0) slot = (slot + 1) & mask;
    this.textSlots[slot] = entry + 1;
  }
}
