import type { Database } from '../../db/database.ts';
import { type BatchLimits, StatementBatches } from '../../db/statement-batches.ts';
import * as sql from './records.sql.ts';

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

/**
 * The page reads of concurrent requests, sent to the database together (StatementBatches,
 * pages_effective_as_tenant, migration 0017), as the reads and writes of edits are. A read resolves
 * to its page, or to undefined when the tenant has no such collection.
 *
 * A batch holds at most 5 pages, 4 batches at a time: a page waits for its whole batch, and big
 * batches made the slowest pages slower. GET of a page of 100 from 50 connections (bench:api, two
 * runs each, req/s and p99): 25 a batch 5,554 / 5,894 and 29 / 37 ms; 10 a batch 5,964 / 6,110 and
 * 27 / 28 ms; 5 a batch 4,692–5,347 and 18–20 ms over four runs; 5 a batch with 8 at a time 3,802 /
 * 5,189 and 31 / 27 ms; one page a call 3,633 / 4,302 and 27 / 33 ms.
 */
export class PageReads {
  private readonly batches: StatementBatches<PageRead, PageRow & { i: number }>;

  constructor(db: Database, limits: Partial<BatchLimits> = {}) {
    this.batches = new StatementBatches(
      db,
      {
        groupOf: (read) => read.tenantId,
        // Record ids are never empty, so '' is before the first.
        membersOf: (read) =>
          `"c":${JSON.stringify(read.collection)},"a":${JSON.stringify(read.after ?? '')},"l":${read.limit}`,
        statement: sql.pagesEffectiveAsTenant,
      },
      { maxBatch: 5, ...limits },
    );
  }

  read(read: PageRead): Promise<(PageRow & { i: number }) | undefined> {
    return this.batches.run(read);
  }
}
