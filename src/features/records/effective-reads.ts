import type { Database } from '../../db/database.ts';
import { type BatchLimits, StatementBatches } from '../../db/statement-batches.ts';
import * as sql from './records.sql.ts';

/** A record to read: its tenant's collection by name, and its id. */
export interface RecordRead {
  tenantId: string;
  collection: string;
  recordId: string;
}

/** A record's version and effective value as JSON text, both null when there is none (or deleted). */
export interface EffectiveRow {
  version: number | null;
  data_text: string | null;
}

/**
 * The GETs of one record of concurrent requests, sent to the database together (StatementBatches,
 * read_effectives_as_tenant, migration 0018), as pages (PageReads) and the edits' reads and writes
 * are. A read resolves to the record's row, or to undefined when the tenant has no such collection.
 */
export class EffectiveReads {
  private readonly batches: StatementBatches<RecordRead, EffectiveRow & { i: number }>;

  constructor(db: Database, limits: Partial<BatchLimits> = {}) {
    this.batches = new StatementBatches(
      db,
      {
        groupOf: (read) => read.tenantId,
        membersOf: (read) => `"c":${JSON.stringify(read.collection)},"r":${JSON.stringify(read.recordId)}`,
        statement: sql.readEffectivesAsTenant,
      },
      limits,
    );
  }

  read(read: RecordRead): Promise<(EffectiveRow & { i: number }) | undefined> {
    return this.batches.run(read);
  }
}
