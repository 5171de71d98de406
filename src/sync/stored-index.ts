import type { KnownRecords } from './feed/types.ts';

/**
 * What a collection already holds, as the client needs it to route a feed: for each stored record id,
 * the hash of its last source text and two flags. With it the client decides, record by record while
 * the feed streams, whether a row is new, unchanged or changed — so an unchanged row never travels to
 * the database, and the ids the feed no longer has are known without scanning the table.
 *
 * Two open-addressing tables map to an entry: one by id (lookups compare the real id string, so there
 * are no false matches), and one by source-text hash, for the records from upstream, so the feed reader
 * can recognise an unchanged row before parsing it (KnownRecords). That lookup compares 120 bits of the
 * SHA-1: a row is taken for another record's unchanged text with odds about n·m / 2^120.
 *
 * Memory, about 75 bytes per stored record: the id strings (needed anyway to name gone records), 16
 * bytes of hash bits, a flag byte, and the two tables' slots.
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

function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}

export class StoredIndex implements KnownRecords {
  private ids: string[] = [];
  /** The source hash's first 120 bits, 30 per array (`high` and `low` are the first 60). */
  private high = new Int32Array(1024);
  private low = new Int32Array(1024);
  private third = new Int32Array(1024);
  private fourth = new Int32Array(1024);
  private flags = new Uint8Array(1024);
  private idHashes = new Int32Array(1024);
  /** Entry number + 1 per slot; 0 is an empty slot. */
  private slots = new Uint32Array(2048);
  private slotHashes = new Int32Array(2048);
  /** Entry number + 1 per slot, keyed by source-text hash; comparable entries only. */
  private textSlots = new Uint32Array(2048);
  private textEntries = 0;
  private live = 0;

  get size(): number {
    return this.ids.length;
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
    this.insert(id, bits(0), bits(5), bits(10), bits(15), flags);
  }

  /** The same, the source hash read from `bytes[hashStart, hashEnd)` (no string made for it). */
  addWithHashBytes(id: string, bytes: Uint8Array, hashStart: number, hashEnd: number, flags: number): void {
    const ok = hashEnd - hashStart >= 20;
    const bits = (at: number) => (ok ? hashBitsOfBytes(bytes, hashStart + at) : -1);
    this.insert(id, bits(0), bits(5), bits(10), bits(15), flags);
  }

  private insert(id: string, high: number, low: number, third: number, fourth: number, flags: number): void {
    if (this.find(id) >= 0) return;
    const entry = this.ids.length;
    if (entry === this.flags.length) this.growEntries();
    this.ids.push(id);
    this.high[entry] = high;
    this.low[entry] = low;
    this.third[entry] = third;
    this.fourth[entry] = fourth;
    // A hash we cannot read is never equal to a feed hash: such a row is always planned by the database.
    const unreadable = high < 0 || low < 0 || third < 0 || fourth < 0;
    this.flags[entry] = unreadable ? flags | NO_HASH : flags;
    if (flags & LIVE) this.live++;
    const idHash = hashId(id);
    this.idHashes[entry] = idHash;
    if ((entry + 1) * 2 > this.slots.length) this.growSlots();
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
    const flags = this.flags[entry]!;
    if (flags & AMBIGUOUS) return null;
    if (flags & SEEN) return { id: this.ids[entry]!, duplicate: true };
    this.flags[entry] = flags | SEEN;
    return { id: this.ids[entry]!, duplicate: false };
  }

  /** KnownRecords: a parsed row's id, marked seen. */
  claimId(id: string): 'stored' | 'duplicate' | 'unknown' {
    if (this.ids.length === 0) return 'unknown';
    const entry = this.find(id);
    if (entry < 0) return 'unknown';
    const flags = this.flags[entry]!;
    if (flags & SEEN) return 'duplicate';
    this.flags[entry] = flags | SEEN;
    return 'stored';
  }

  private addText(entry: number): void {
    const same = this.findTextOf(entry);
    if (same >= 0) {
      // Two stored records with one source text (stored under another id field): match neither.
      this.flags[same]! |= AMBIGUOUS;
      return;
    }
    this.textEntries++;
    if (this.textEntries * 2 <= this.textSlots.length) {
      this.placeText(entry);
      return;
    }
    // Doubles the table and places again the first entry of each text from upstream (this one included).
    this.textSlots = new Uint32Array(this.textSlots.length * 2);
    for (let e = 0; e < this.ids.length; e++) {
      const flags = this.flags[e]!;
      if (flags & COMPARABLE && !(flags & NO_HASH) && this.findTextOf(e) < 0) this.placeText(e);
    }
  }

  /** The entry in the text table with entry `e`'s hash bits, or -1. */
  private findTextOf(e: number): number {
    return this.findText(this.high[e]!, this.low[e]!, this.third[e]!, this.fourth[e]!);
  }

  private findText(high: number, low: number, third: number, fourth: number): number {
    const mask = this.textSlots.length - 1;
    for (let slot = (high ^ fourth) & mask; ; slot = (slot + 1) & mask) {
      const taken = this.textSlots[slot]!;
      if (taken === 0) return -1;
      const e = taken - 1;
      if (
        this.high[e] === high &&
        this.low[e] === low &&
        this.third[e] === third &&
        this.fourth[e] === fourth
      ) {
        return e;
      }
    }
  }

  private placeText(entry: number): void {
    const mask = this.textSlots.length - 1;
    let slot = (this.high[entry]! ^ this.fourth[entry]!) & mask;
    while (this.textSlots[slot] !== 0) slot = (slot + 1) & mask;
    this.textSlots[slot] = entry + 1;
  }

  /**
   * Records from upstream that a full feed did not name: gone upstream now, and with `goneBefore` also
   * the live ones an earlier full sync already found gone (a collection whose policy became `delete`).
   */
  *unseenGone(goneBefore = false): Generator<string> {
    for (let entry = 0; entry < this.ids.length; entry++) {
      const flags = this.flags[entry]!;
      if (flags & SEEN) continue;
      if (flags & COMPARABLE || (goneBefore && flags & GONE_BEFORE && flags & LIVE)) yield this.ids[entry]!;
    }
  }

  private find(id: string): number {
    const idHash = hashId(id);
    const mask = this.slots.length - 1;
    for (let slot = idHash & mask; ; slot = (slot + 1) & mask) {
      const taken = this.slots[slot]!;
      if (taken === 0) return -1;
      if (this.slotHashes[slot] === idHash && this.ids[taken - 1] === id) return taken - 1;
    }
  }

  private place(entry: number, idHash: number): void {
    const mask = this.slots.length - 1;
    let slot = idHash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = entry + 1;
    this.slotHashes[slot] = idHash;
  }

  private growEntries(): void {
    const capacity = this.flags.length * 2;
    const grow = <T extends Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.high = grow(this.high, (n) => new Int32Array(n));
    this.low = grow(this.low, (n) => new Int32Array(n));
    this.third = grow(this.third, (n) => new Int32Array(n));
    this.fourth = grow(this.fourth, (n) => new Int32Array(n));
    this.idHashes = grow(this.idHashes, (n) => new Int32Array(n));
    this.flags = grow(this.flags, (n) => new Uint8Array(n));
  }

  /** Doubles the slot table (kept at most half full) and places every entry again. */
  private growSlots(): void {
    this.slots = new Uint32Array(this.slots.length * 2);
    this.slotHashes = new Int32Array(this.slots.length);
    for (let entry = 0; entry < this.ids.length; entry++) this.place(entry, this.idHashes[entry]!);
  }
}
