import type { CollectionInfo } from './record-edits.ts';
import type { MetaRow } from './records.service.ts';

/** A record as this server last wrote it: what planning its next edit needs without reading it. */
export interface RememberedRecord {
  collection: CollectionInfo;
  row: MetaRow;
}

/**
 * The state of the records this server process wrote last, so that the next edit of one of them can
 * skip the read and go straight to the write (a PATCH in one round trip instead of two). Nothing here is
 * trusted: the write happens only if the record is still at the remembered version and its collection
 * still has the remembered delete policy (update_record_as_tenant), so a state another process, a sync
 * or a restore has moved on from costs one wasted round trip, never a wrong write.
 *
 * Bounded: the oldest entry goes when a new one would pass `capacity`. An entry is about 1–2 KB for a
 * record of a few hundred bytes (its source, effective value and overrides as JS objects), so the
 * default holds about 10–20 MB.
 */
export class RecentEdits {
  private readonly entries = new Map<string, RememberedRecord>();

  constructor(private readonly capacity = 10_000) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Removes and returns the remembered state: an edit that uses it remembers the state it wrote, and two
   * concurrent edits of one record do not both bet on the same state.
   */
  take(tenantId: string, collection: string, recordId: string): RememberedRecord | undefined {
    const key = keyOf(tenantId, collection, recordId);
    const entry = this.entries.get(key);
    if (entry) this.entries.delete(key);
    return entry;
  }

  remember(tenantId: string, collection: string, record: RememberedRecord): void {
    if (this.capacity <= 0) return;
    const key = keyOf(tenantId, collection, record.row.record_id);
    this.entries.delete(key);
    this.entries.set(key, record);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

/** NUL cannot occur in a tenant id, a collection name or a record id (they are stored as text). */
function keyOf(tenantId: string, collection: string, recordId: string): string {
  return `${tenantId}\u0000${collection}\u0000${recordId}`;
}
