/**
 * A list of ids in ascending byte order (UTF-8, as PostgreSQL's COLLATE "C" sorts them), stored small:
 * each id is written as how many leading bytes it shares with the id before it and the bytes that
 * follow, except every 16th, which is written whole so that a search can start there. Sorted ids share
 * long prefixes (`p100233`, `p100234`: six of seven bytes), so such an id costs about 3 bytes; an id
 * is found by a binary search over the whole ones, then a walk of at most 16.
 *
 * The bytes live in 1 MB blocks that are added, never copied; an id never spans two blocks.
 */

const ARENA_BITS = 20;
const ARENA_BLOCK = 1 << ARENA_BITS;
const GROUP_BITS = 4;
const GROUP_MASK = (1 << GROUP_BITS) - 1;

export class IdList {
  private count = 0;
  /** The blocks of bytes, and how many bytes each holds (an id that did not fit starts the next). */
  readonly arena: Buffer[] = [];
  readonly ends: number[] = [];
  /** Where each group's first id (written whole) starts: block · ARENA_BLOCK + offset, unsigned. */
  restarts = new Uint32Array(64);
  /** The last id pushed, to write the next one against and to keep the order. */
  private last = Buffer.allocUnsafe(256);
  private lastLength = 0;

  get size(): number {
    return this.count;
  }

  /**
   * Appends `bytes[from, to)`. Returns false, adding nothing, when it is the last id again; throws when
   * it sorts before the last id (the caller's pages came out of order: a bug, not a feed error).
   */
  push(bytes: Uint8Array, from: number, to: number): boolean {
    const length = to - from;
    let common = 0;
    if (this.count > 0) {
      const max = Math.min(length, this.lastLength);
      while (common < max && bytes[from + common] === this.last[common]) common++;
      if (common === length && common === this.lastLength) return false;
      if (common === length || (common < this.lastLength && bytes[from + common]! < this.last[common]!)) {
        throw new Error('IdList: ids must come in ascending byte order');
      }
    }
    const whole = (this.count & GROUP_MASK) === 0;
    const shared = whole ? 0 : common;
    const suffix = length - shared;
    // Room for the suffix and two LEB128 lengths; only offsets below ARENA_BLOCK fit in a place, so a
    // block made larger for one long id takes no more.
    let block = this.arena.length - 1;
    if (block < 0 || this.ends[block]! + suffix + 10 > ARENA_BLOCK) block = this.addBlock(suffix + 10);
    const arena = this.arena[block]!;
    const at = this.ends[block]!;
    let write = at;
    if (whole) {
      const group = this.count >>> GROUP_BITS;
      if (group === this.restarts.length) {
        const grown = new Uint32Array(this.restarts.length * 2);
        grown.set(this.restarts);
        this.restarts = grown;
      }
      this.restarts[group] = ((block << ARENA_BITS) | at) >>> 0;
    } else {
      write = writeLength(arena, write, shared);
    }
    write = writeLength(arena, write, suffix);
    copyBytes(bytes, from + shared, to, arena, write);
    this.ends[block] = write + suffix;
    if (length > this.last.length) {
      const grown = Buffer.allocUnsafe(Math.max(length, this.last.length * 2));
      this.last.copy(grown, 0, 0, common);
      this.last = grown;
    }
    copyBytes(bytes, from + common, to, this.last, common);
    this.lastLength = length;
    this.count++;
    return true;
  }

  /** The position of the id `target[0, length)`, or -1; `cursor` (one of this list's) is moved. */
  find(cursor: IdCursor, target: Buffer, length: number): number {
    let lo = 0;
    let hi = ((this.count + GROUP_MASK) >>> GROUP_BITS) - 1;
    let group = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareFirst(mid, target, length) <= 0) {
        group = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (group < 0) return -1;
    cursor.seekGroup(group);
    const end = Math.min(this.count, (group + 1) << GROUP_BITS);
    for (let position = group << GROUP_BITS; position < end; position++) {
      cursor.next();
      const order = cursor.bytes.compare(target, 0, length, 0, cursor.length);
      if (order === 0) return position;
      if (order > 0) return -1;
    }
    return -1;
  }

  /** A reader of the ids in order, from the first. */
  cursor(): IdCursor {
    return new IdCursor(this);
  }

  /** The sign of (first id of `group`) − target. */
  private compareFirst(group: number, target: Buffer, length: number): number {
    const place = this.restarts[group]!;
    const arena = this.arena[place >>> ARENA_BITS]!;
    const read = readLength(arena, place & (ARENA_BLOCK - 1));
    return arena.compare(target, 0, length, read.next, read.next + read.value);
  }

  /** Starts a block with room for `needed` bytes at least; returns its number. */
  private addBlock(needed: number): number {
    if (this.arena.length === 1 << (32 - ARENA_BITS)) throw new Error('More than 4 GB of stored record ids');
    // An id longer than a block (never stored by PostgreSQL's btree, but cheap to allow) gets its own.
    this.arena.push(Buffer.allocUnsafe(Math.max(ARENA_BLOCK, needed)));
    this.ends.push(0);
    return this.arena.length - 1;
  }
}

/** Copies `source[from, to)` to `target[at…)`: a loop for the few bytes an id adds, native past that. */
function copyBytes(source: Uint8Array, from: number, to: number, target: Uint8Array, at: number): void {
  if (to - from > 32) {
    target.set(source.subarray(from, to), at);
    return;
  }
  for (let i = from, j = at; i < to; i++, j++) target[j] = source[i]!;
}

/** Reads a list's ids one after the other; `bytes[0, length)` is the current one. */
export class IdCursor {
  bytes = Buffer.allocUnsafe(256);
  length = 0;
  private block = 0;
  private at = 0;
  private position = 0;

  constructor(private readonly list: IdList) {}

  /** Moves before the first id of `group`. */
  seekGroup(group: number): void {
    const place = this.list.restarts[group]!;
    this.block = place >>> ARENA_BITS;
    this.at = place & (ARENA_BLOCK - 1);
    this.position = group << GROUP_BITS;
  }

  /** Reads the next id into `bytes`. */
  next(): void {
    if (this.at >= this.list.ends[this.block]!) {
      this.block++;
      this.at = 0;
    }
    const arena = this.list.arena[this.block]!;
    let shared = 0;
    if ((this.position & GROUP_MASK) !== 0) {
      const read = readLength(arena, this.at);
      shared = read.value;
      this.at = read.next;
    }
    const read = readLength(arena, this.at);
    const length = shared + read.value;
    if (length > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(length, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, shared);
      this.bytes = grown;
    }
    arena.copy(this.bytes, shared, read.next, read.next + read.value);
    this.at = read.next + read.value;
    this.length = length;
    this.position++;
  }

  id(): string {
    return this.bytes.toString('utf8', 0, this.length);
  }
}

/** Writes `value` as LEB128 at `at`; returns where the next byte goes. */
function writeLength(bytes: Buffer, at: number, value: number): number {
  let rest = value;
  let i = at;
  while (rest >= 0x80) {
    bytes[i++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  bytes[i++] = rest;
  return i;
}

const decoded = { value: 0, next: 0 };

/** Reads a LEB128 length at `at`. The result is one shared object: use it before the next read. */
function readLength(bytes: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let i = at;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[i++]!;
    value |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  decoded.value = value;
  decoded.next = i;
  return decoded;
}
