import type { Database } from '../../db/database.ts';
import { type BatchLimits, StatementBatches } from '../../db/statement-batches.ts';
import * as sql from './records.sql.ts';

/**
 * What the database gave a written edit: its version, or with `next` the last version written (so
 * `version - edit.version - 1` of the next states went through), and the transaction's time.
 */
export type Written = { version: number; updated_at: Date };

/** An optimistic write: `write` if the record is still at `version` and its collection has `deletePolicy`. */
export interface OptimisticWrite {
  write: sql.RecordWrite;
  version: number;
  deletePolicy: 'delete' | 'keep';
  /**
   * The record's next states after `write`, in order, each planned from the one before it and written
   * after it in the same transaction (src/db/functions.sql), as far as each goes through.
   */
  next?: readonly sql.RecordWrite[];
}

/**
 * The optimistic writes of concurrent edits, sent to the database together (StatementBatches): all
 * that are waiting go as one statement and one transaction (update_records_as_tenant, migration
 * src/db/functions.sql), so that fifty at once share one round trip, one firing of the history trigger and one commit
 * with its WAL flush. At most 4 batches are at the database at a time (StatementBatches' default):
 * 1, 2, 3, 4 and 8 measured alike within this host's noise at 50 connections (3, 4 and 8 a little
 * ahead), and 4 leaves most of the pool of 10 to reads.
 *
 * A write resolves to what the database gave it, or to undefined when it was not written (the record
 * moved, its collection's delete policy changed, another edit of the record came first in the batch,
 * or another transaction holds the record locked): the caller decides again on a fresh read, as for
 * any optimistic write.
 */
export class EditWrites {
  private readonly batches: StatementBatches<OptimisticWrite, Written & { i: number }>;

  constructor(db: Database, limits: Partial<BatchLimits> = {}) {
    this.batches = new StatementBatches(
      db,
      {
        groupOf: (edit) => edit.write.tenantId,
        membersOf: editMembers,
        statement: sql.updateRecordsAsTenant,
      },
      limits,
    );
  }

  async write(edit: OptimisticWrite): Promise<Written | undefined> {
    const row = await this.batches.run(edit);
    return row && { version: row.version, updated_at: row.updated_at };
  }
}

/** An edit's members in update_records_as_tenant's array: JSON texts go in as they are; m, d absent: NULL. */
function editMembers({ write, version, deletePolicy, next }: OptimisticWrite): string {
  let json = `"c":${JSON.stringify(write.collectionId)},"r":${JSON.stringify(write.recordId)},"v":${version},"p":"${deletePolicy}",${stateMembers(write)}`;
  if (next?.length) json += `,"x":[${next.map((state) => `{${stateMembers(state)}}`).join(',')}]`;
  return json;
}

/** The members of a state the edit writes: its key, overrides, manual delete and data. */
function stateMembers(write: sql.RecordWrite): string {
  let json = `"o":${write.overrides}`;
  if (write.apiKeyId !== null) json += `,"k":${JSON.stringify(write.apiKeyId)}`;
  if (write.manualDelete !== null) json += `,"m":${write.manualDelete}`;
  if (write.data !== null) json += `,"d":${write.data}`;
  return json;
}
