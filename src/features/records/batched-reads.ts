import type { Database, Statement } from '../../db/database.ts';
import { type BatchLimits, StatementBatches } from '../../db/statement-batches.ts';
import * as sql from './records.sql.ts';

/** A record to read: its tenant's collection by name, and its id. */
export interface RecordRead {
  tenantId: string;
  collection: string;
  recordId: string;
}

/** A page of a tenant's collection, by name: up to `limit` records after `after` (null: the first). */
export interface PageRead {
  tenantId: string;
  collection: string;
  after: string | null;
  limit: number;
}

/** A page as the database joined it: the values' text (NULL: none), its last id, whether more follow. */
export interface PageRow {
  items: string | null;
  last_id: string | null;
  more: boolean;
}

/** A record's version and effective value as JSON text, both null when there is none (or deleted). */
export interface EffectiveRow {
  version: number | null;
  data_text: string | null;
}

/**
 * Reads of one kind from concurrent requests, sent to the database together (StatementBatches): one
 * call of a function that takes the reads of a tenant waiting as a JSON array (src/db/functions.sql)
 * , where each read took a call, a round trip and a wake-up of a backend of its own. A read
 * resolves to its row, or to undefined when the function gave none for it (the tenant has no such
 * collection).
 */
export class TenantReads<Read extends { tenantId: string }, Row> {
  private readonly batches: StatementBatches<Read, Row & { i: number }>;

  constructor(
    db: Database,
    membersOf: (read: Read) => string,
    statement: (tenantId: string, reads: string) => Statement,
    limits: Partial<BatchLimits> = {},
  ) {
    this.batches = new StatementBatches(
      db,
      { groupOf: (read) => read.tenantId, membersOf, statement },
      limits,
    );
  }

  read(read: Read): Promise<(Row & { i: number }) | undefined> {
    return this.batches.run(read);
  }
}

/**
 * Reads of single records with `statement` (read_records_as_tenant for edits, read_effectives_as_tenant
 * for GET), each element {i, c, r}: the collection's name and the record id.
 */
export function recordReads<Row>(
  db: Database,
  statement: (tenantId: string, reads: string) => Statement,
  limits: Partial<BatchLimits> = {},
): TenantReads<RecordRead, Row> {
  const membersOf = (read: RecordRead) =>
    `"c":${JSON.stringify(read.collection)},"r":${JSON.stringify(read.recordId)}`;
  return new TenantReads(db, membersOf, statement, limits);
}

/**
 * Reads of pages (pages_effective_as_tenant), each element {i, c, a, l}: the collection's name, the
 * id the page starts after ('' for the first: record ids are never empty) and its length.
 *
 * A batch holds at most 5 pages, 4 batches at a time: a page waits for its whole batch, and bigger
 * batches gave more pages a second with a worse p99 (docs/performance.md, the decision register).
 */
export function pageReads(db: Database, limits: Partial<BatchLimits> = {}): TenantReads<PageRead, PageRow> {
  const membersOf = (read: PageRead) =>
    `"c":${JSON.stringify(read.collection)},"a":${JSON.stringify(read.after ?? '')},"l":${read.limit}`;
  return new TenantReads(db, membersOf, sql.pagesEffectiveAsTenant, { maxBatch: 5, ...limits });
}
