import type { Database } from '../../db/database.ts';
import { type BatchLimits, StatementBatches } from '../../db/statement-batches.ts';
import * as sql from './records.sql.ts';

/** A record an edit reads: its tenant's collection by name, and its id. */
export interface EditRead {
  tenantId: string;
  collection: string;
  recordId: string;
}

/**
 * The reads of concurrent edits, sent to the database together (StatementBatches,
 * read_records_as_tenant, migration 0015), as their writes are (EditWrites). A read resolves to
 * the collection's settings and the record's stored state (the record's columns all NULL when there
 * is none), or to undefined when the tenant has no such collection.
 */
export class EditReads<Row> {
  private readonly batches: StatementBatches<EditRead, Row & { i: number }>;

  constructor(db: Database, limits: Partial<BatchLimits> = {}) {
    this.batches = new StatementBatches(
      db,
      {
        groupOf: (read) => read.tenantId,
        membersOf: (read) => `"c":${JSON.stringify(read.collection)},"r":${JSON.stringify(read.recordId)}`,
        statement: sql.readRecordsAsTenant,
      },
      limits,
    );
  }

  read(read: EditRead): Promise<(Row & { i: number }) | undefined> {
    return this.batches.run(read);
  }
}
