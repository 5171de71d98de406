import type { Database, Queryable } from '../../../db/database.ts';
import { StatementBatches } from '../../../db/statement-batches.ts';
import { withTenant } from '../../../db/tenant-scope.ts';
import { AppError } from '../../../errors.ts';
import { recordReads, type TenantReads } from '../batched-reads.ts';
import type { RecordRow } from '../record-meta.ts';
import * as sql from './edits.sql.ts';
import type { Series, StoredRecord, Written } from './plan-series.ts';

/** A record of a tenant's collection, by name. */
export interface RecordKey {
  tenantId: string;
  collection: string;
  recordId: string;
}

/** A series to write at the version of the record it was planned from. */
interface SeriesWrite {
  tenantId: string;
  element: sql.SeriesElement;
}

/**
 * Where edits read and write records. Reads and optimistic writes are single statements on the pool,
 * each sent together with those of concurrent requests of the tenant (StatementBatches: one call, one
 * round trip and one commit for all that are waiting); the locked write is a tenant transaction.
 */
export class EditStore {
  private readonly reads: TenantReads<RecordKey, ReadRow>;
  private readonly writes: StatementBatches<SeriesWrite, Written & { i: number }>;

  constructor(private readonly db: Database) {
    this.reads = recordReads<ReadRow>(db, sql.readRecordsAsTenant);
    this.writes = new StatementBatches(db, {
      groupOf: (write) => write.tenantId,
      membersOf: (write) => jsonMembers(write.element),
      statement: sql.writeSeriesAsTenant,
    });
  }

  /** The record and its collection's settings, as they are now. */
  async read(key: RecordKey): Promise<StoredRecord> {
    const row = await this.reads.read(key);
    if (!row) throw collectionNotFound(key.collection);
    return storedRecord(row, key.recordId);
  }

  /**
   * Writes the series only if the record is still at the version it was planned from and nobody
   * holds it locked: what the database made of it, or undefined when it did not write it.
   */
  async writeAtVersion(tenantId: string, record: StoredRecord, series: Series): Promise<Written | undefined> {
    const { collection, recordId, row } = record;
    if (row === null) return undefined; // a create takes the lock: another may be creating it too
    const element = sql.seriesElement(
      collection.id,
      recordId,
      row.version,
      collection.deletePolicy,
      series.states,
    );
    const written = await this.writes.run({ tenantId, element });
    return written && { version: written.version, updated_at: written.updated_at };
  }

  /**
   * Locks the record (concurrent writers of it queue there, each sees the last), plans the series on
   * it with `plan` and writes each of its states, in one tenant transaction.
   */
  async writeLocked(
    key: RecordKey,
    plan: (record: StoredRecord) => Series,
  ): Promise<{ record: StoredRecord; series: Series; written?: Written }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTenant(this.db, key.tenantId, (tx) => this.lockAndWrite(tx, key, plan));
      } catch (error) {
        // Two creates of one new id: the loser tries once more and then locks the winner's row.
        if (!(error instanceof CreatedConcurrently) || attempt > 0) throw error;
      }
    }
  }

  private async lockAndWrite(tx: Queryable, key: RecordKey, plan: (record: StoredRecord) => Series) {
    const [locked] = await tx.query<ReadRow>(sql.lockRecord(key.tenantId, key.collection, key.recordId));
    if (!locked) throw collectionNotFound(key.collection);
    const record = storedRecord(locked, key.recordId);
    const series = plan(record);
    const where = { tenantId: key.tenantId, collectionId: record.collection.id, recordId: key.recordId };
    let written: Written | undefined;
    for (const [n, state] of series.states.entries()) {
      // An update of the locked row is certain to write, and the last one takes the COMMIT with it. An
      // insert may find the id taken meanwhile, and then must roll back.
      const insert = record.row === null && n === 0;
      const last = n === series.states.length - 1;
      const statement = insert ? sql.insertRecord(where, state) : sql.updateRecord(where, state);
      [written] =
        last && !insert ? await tx.queryLast<Written>(statement) : await tx.query<Written>(statement);
      if (!written) throw new CreatedConcurrently();
    }
    return written ? { record, series, written } : { record, series };
  }
}

/** Raised inside a transaction when a concurrent writer created the same record first. */
class CreatedConcurrently extends Error {}

/**
 * read_records_as_tenant's and lockRecord's row: the collection, and the record's columns (all NULL when
 * there is none).
 */
type ReadRow = { collection_id: string; id_field: string; delete_policy: 'delete' | 'keep' } & (
  | RecordRow
  | { [K in keyof RecordRow]: null }
);

function storedRecord(row: ReadRow, recordId: string): StoredRecord {
  const collection = { id: row.collection_id, idField: row.id_field, deletePolicy: row.delete_policy };
  return { collection, recordId, row: row.version === null ? null : (row as RecordRow) };
}

/** An object's members as JSON, without its braces: StatementBatches puts `"i":<index>,` before them. */
function jsonMembers(value: object): string {
  return JSON.stringify(value).slice(1, -1);
}

function collectionNotFound(name: string): AppError {
  return new AppError('collection_not_found', `No collection "${name}"`);
}
