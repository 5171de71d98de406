import type { MetaRow } from './edit-plans.ts';
import type { CollectionInfo } from './record-edits.ts';

/** A record as this server last wrote it: what planning its next edit needs without reading it. */
export interface RememberedRecord {
  collection: CollectionInfo;
  row: MetaRow;
}

/**
 * The state of the records this server process wrote last, so that the next edit of one of them can
 * skip the read and go straight to the write (a PATCH in one round trip instead of two). Nothing here is
 * trusted: the write happens only if the record is still at the remembered version and its collection
 * still has the remembered delete policy (update_records_as_tenant), so a state another process, a sync
 * or a restore has moved on from costs one wasted round trip, never a wrong write.
 *
 * Bounded twice, the oldest entry out first: by count, and by the size of the records' JSON text
 * (`weight`, the caller's measure: its effective value, overrides and source value), since a record
 * may be megabytes. As JS objects a record takes a few times its text, so the default budget of 8 MB
 * of text is some tens of MB of heap; a record heavier than 1/100 of the budget is not remembered.
 */
export class RecentEdits {
  private readonly entries = new Map<string, { record: RememberedRecord; weight: number }>();
  private weight = 0;

  constructor(
    private readonly capacity = 10_000,
    private readonly budget = 8 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The summed weight of the remembered records. */
  get bytes(): number {
    return this.weight;
  }

  /**
   * Removes and returns the remembered state: an edit that uses it remembers the state it wrote, and two
   * concurrent edits of one record do not both bet on the same state.
   */
  take(tenantId: string, collection: string, recordId: string): RememberedRecord | undefined {
    const key = keyOf(tenantId, collection, recordId);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.forget(key, entry.weight);
    return entry.record;
  }

  remember(tenantId: string, collection: string, record: RememberedRecord, weight: number): void {
    const key = keyOf(tenantId, collection, record.row.record_id);
    const old = this.entries.get(key);
    if (old) this.forget(key, old.weight);
    if (this.capacity <= 0 || weight > this.budget / 100) return;
    this.entries.set(key, { record, weight });
    this.weight += weight;
    while (this.entries.size > this.capacity || this.weight > this.budget) {
      const [oldestKey, oldest] = this.entries.entries().next().value!;
      this.forget(oldestKey, oldest.weight);
    }
  }

  private forget(key: string, weight: number): void {
    this.entries.delete(key);
    this.weight -= weight;
  }
}

/**
 * One record of one tenant's collection (also EditTurns' key). NUL cannot occur in a tenant id, a
 * collection name or a record id (they are stored as text).
 */
export function keyOf(tenantId: string, collection: string, recordId: string): string {
  return `${tenantId}\u0000${collection}\u0000${recordId}`;
}
