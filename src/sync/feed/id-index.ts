/**
 * Remembers which ids a feed has already used, in 8 bytes a slot.
 *
 * Why not a `Set<string>`: at 10M ids a Set alone would take most of the memory budget for a 10M-row
 * feed (docs/performance.md). Here an id is kept as a 64-bit hash (two 32-bit lanes, cyrb53-style) in
 * typed arrays with open addressing. The table is split by the hash's top byte into 256 parts that
 * grow on their own, so a growth copies 1/256 of the table instead of holding a whole table's old and
 * new arrays at once. The first row of each id is not kept (it cost too much at 10M rows): a duplicate
 * is reported at its own row, by id.
 *
 * The price: two different ids whose 64-bit hashes collide are reported as a duplicate. The odds are
 * about n² / 2^65 for n ids (3e-8 at 1M, 3e-6 at 10M) and the error is on the safe side: the feed is
 * refused, never silently merged. A true duplicate is always found.
 */
export class IdIndex {
  private readonly parts: IdTable[];
  private count = 0;

  constructor(initialCapacity = 1 << 16) {
    this.parts = Array.from({ length: PARTS }, () => new IdTable(Math.ceil(initialCapacity / PARTS)));
  }

  get size(): number {
    return this.count;
  }

  /**
   * Records `id` as seen. Returns true if it is new, false if the feed used it before.
   *
   * @example
   * const seen = new IdIndex();
   * seen.add('a'); // true
   * seen.add('a'); // false
   */
  add(id: string): boolean {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = 0; i < id.length; i++) {
      const ch = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    h1 |= 0;
    // Both lanes 0 marks an empty slot; the one hash that would look empty is moved aside.
    h2 = h1 === 0 && h2 === 0 ? 1 : h2 | 0;
    const added = this.parts[h1 >>> 24]!.add(h1, h2);
    if (added) this.count++;
    return added;
  }
}

const PARTS = 256;

/**
 * One part of an IdIndex: open addressing on the low hash lane, at most 80% full, grown by half
 * (doubling left it emptier on average, so larger). A slot is the low lane scaled to the capacity
 * (multiply and shift: the capacity is any size, and a division a lookup cost more). A slot's two
 * lanes sit side by side, so a probe reads one cache line, not one in each of two arrays.
 */
class IdTable {
  /** Slot i is `slots[2i]` (high lane) and `slots[2i + 1]` (low lane); both 0 when empty. */
  private slots: Int32Array;
  private count = 0;

  constructor(initialCapacity: number) {
    this.slots = new Int32Array(2 * Math.max(16, Math.ceil(initialCapacity)));
  }

  add(high: number, low: number): boolean {
    const added = this.insert(high, low);
    if (added && ++this.count * 5 > (this.slots.length >> 1) * 4) this.grow();
    return added;
  }

  private insert(high: number, low: number): boolean {
    const { slots } = this;
    const capacity = slots.length >> 1;
    let slot = Math.floor(((low >>> 0) * capacity) / 4294967296);
    for (; ; slot = slot + 1 === capacity ? 0 : slot + 1) {
      const slotHigh = slots[2 * slot]!;
      const slotLow = slots[2 * slot + 1]!;
      if (slotHigh === 0 && slotLow === 0) {
        slots[2 * slot] = high;
        slots[2 * slot + 1] = low;
        return true;
      }
      if (slotLow === low && slotHigh === high) return false;
    }
  }

  private grow(): void {
    const { slots } = this;
    const capacity = slots.length >> 1;
    this.slots = new Int32Array(2 * Math.ceil(capacity * 1.5));
    for (let i = 0; i < capacity; i++) {
      const high = slots[2 * i]!;
      const low = slots[2 * i + 1]!;
      if (high !== 0 || low !== 0) this.insert(high, low);
    }
  }
}
