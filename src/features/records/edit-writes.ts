import type { Database } from '../../db/database.ts';
import * as sql from './records.sql.ts';

/** What the database gave a written edit. */
export type Written = { version: number; updated_at: Date };

/** An optimistic write: `write` if the record is still at `version` and its collection has `deletePolicy`. */
export interface OptimisticWrite {
  write: sql.RecordWrite;
  version: number;
  deletePolicy: 'delete' | 'keep';
}

interface Pending {
  edit: OptimisticWrite;
  /** The edit as an element of update_records_as_tenant's array, less its index. */
  json: string;
  resolve: (written: Written | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * The optimistic writes of concurrent edits, sent to the database together: each write waits for the
 * end of the event loop's turn, and all that are waiting then — or once a batch comes back, all that
 * arrived meanwhile — go as one statement and one transaction (update_records_as_tenant, migration
 * 0013), up to `maxBatch` writes or `maxBytes` of their JSON, one tenant a batch. A PATCH alone pays
 * one turn of the loop for it; fifty at once share one round trip, one function call, one firing of
 * the history trigger and one commit, which is most of what a small write costs (docs/performance.md).
 *
 * At most `maxInFlight` batches are at the database at a time, so that the writes that arrive while
 * they are out wait and go together. 1, 2, 3, 4 and 8 measured alike within this host's noise at 50
 * connections (3, 4 and 8 a little ahead); 4 leaves most of the pool of 10 to reads.
 *
 * A write resolves to what the database gave it, or to undefined when it was not written (the record
 * moved, its collection's delete policy changed, another edit of the record came first in the batch,
 * or another transaction holds the record locked): the caller decides again on a fresh read, as for
 * any optimistic write. When the database refuses a batch of several, each is tried alone, so that a
 * failure is the failing edit's own; an error that leaves the outcome unknown (a lost connection,
 * which may have committed) is every edit's, and none is sent again.
 */
export class EditWrites {
  private readonly waiting: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly db: Database,
    private readonly maxInFlight = 4,
    private readonly maxBatch = 100,
    private readonly maxBytes = 1024 * 1024,
  ) {}

  write(edit: OptimisticWrite): Promise<Written | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ edit, json: editJson(edit), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
        this.inFlight++;
        this.send(this.takeBatch()).finally(() => {
          this.inFlight--;
          this.schedule();
        });
      }
    });
  }

  /** The first waiting write and those after it of the same tenant, within the batch's limits. */
  private takeBatch(): Pending[] {
    const tenantId = this.waiting[0]!.edit.write.tenantId;
    const batch: Pending[] = [];
    let bytes = 0;
    for (let i = 0; i < this.waiting.length && batch.length < this.maxBatch; ) {
      const pending = this.waiting[i]!;
      if (pending.edit.write.tenantId !== tenantId) {
        i++;
        continue;
      }
      if (batch.length > 0 && bytes + pending.json.length > this.maxBytes) break;
      bytes += pending.json.length;
      batch.push(pending);
      this.waiting.splice(i, 1);
    }
    return batch;
  }

  private async send(batch: Pending[]): Promise<void> {
    const tenantId = batch[0]!.edit.write.tenantId;
    const edits = `[${batch.map((pending, i) => `{"i":${i},${pending.json}`).join(',')}]`;
    let rows: Array<Written & { i: number }>;
    try {
      rows = await this.db.query(sql.updateRecordsAsTenant(tenantId, edits));
    } catch (error) {
      if (batch.length > 1 && rolledBack(error)) {
        await Promise.all(batch.map((pending) => this.send([pending])));
      } else {
        for (const pending of batch) pending.reject(error);
      }
      return;
    }
    const written = new Map(rows.map((row) => [row.i, row]));
    batch.forEach((pending, i) => {
      const row = written.get(i);
      pending.resolve(row && { version: row.version, updated_at: row.updated_at });
    });
  }
}

/** The members of an edit's element after `"i"`: JSON texts go in as they are. m, d absent: SQL NULL. */
function editJson({ write, version, deletePolicy }: OptimisticWrite): string {
  let json = `"c":${JSON.stringify(write.collectionId)},"r":${JSON.stringify(write.recordId)},"v":${version},"p":"${deletePolicy}","o":${write.overrides}`;
  if (write.apiKeyId !== null) json += `,"k":${JSON.stringify(write.apiKeyId)}`;
  if (write.manualDelete !== null) json += `,"m":${write.manualDelete}`;
  if (write.data !== null) json += `,"d":${write.data}`;
  return `${json}}`;
}

/**
 * True for an error the database reported for the statement (a SQLSTATE), which rolled its transaction
 * back; false for one that says nothing of the outcome (the connection was lost, say).
 */
function rolledBack(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
