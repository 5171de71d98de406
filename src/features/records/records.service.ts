import type { Database, Queryable } from '../../db/database.ts';
import { rolledBack } from '../../db/statement-batches.ts';
import { readAsTenant, withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import { diffFields, type FieldChange, type JsonObject } from '../../json/index.ts';
import type { CollectionSchemas, RecordValidator } from '../collections/record-schema.ts';
import {
  type EffectiveRow,
  type PageRead,
  type PageRow,
  pageReads,
  type RecordRead,
  recordReads,
  type TenantReads,
} from './batched-reads.ts';
import {
  type PlannedWrite,
  planEdit,
  planOrNull,
  type RecordMeta,
  type RecordRow,
  toMeta,
  type WriteResult,
} from './edit-plans.ts';
import { type Decided, EditTurns } from './edit-turns.ts';
import { EditWrites, type Written } from './edit-writes.ts';
import type { Preconditions } from './preconditions.ts';
import { keyOf, RecentEdits } from './recent-edits.ts';
import type { CollectionInfo, Edit } from './record-edits.ts';
import * as sql from './records.sql.ts';
import { decideSeries, type EditRequest, planSeries } from './successive-edits.ts';

export interface HistoryEntry {
  version: number;
  origin: { kind: string; apiKeyId?: string; syncRunId?: string; snapshotId?: string };
  at: string;
  changes: FieldChange[];
}

/** Raised inside a transaction when a concurrent writer created the same record first. */
class CreatedConcurrently extends Error {}

export class RecordService {
  constructor(
    private readonly db: Database,
    private readonly recent = new RecentEdits(),
    private readonly schemas?: CollectionSchemas,
  ) {
    this.writes = new EditWrites(db);
    this.reads = recordReads<LockedRow>(db, sql.readRecordsAsTenant);
    this.pages = pageReads(db);
    this.effective = recordReads<EffectiveRow>(db, sql.readEffectivesAsTenant);
  }

  // Statements of concurrent requests that go to the database together (batched-reads.ts, edit-writes.ts).
  private readonly writes: EditWrites;
  private readonly reads: TenantReads<RecordRead, LockedRow>;
  private readonly pages: TenantReads<PageRead, PageRow>;
  private readonly effective: TenantReads<RecordRead, EffectiveRow>;
  /** Edits of one record in this process, in turns (edit-turns.ts). */
  private readonly turns = new EditTurns<EditRequest, WriteResult>((requests) => this.editTurn(requests));

  /** The effective value as JSON text (unparsed, straight from the database) with its version. */
  async getEffective(tenantId: string, collection: string, recordId: string) {
    const row = await this.effective.read({ tenantId, collection, recordId });
    if (!row) throw collectionNotFound(collection);
    if (row.data_text === null || row.version === null) throw recordNotFound(recordId);
    return { text: row.data_text, version: row.version };
  }

  /** The record with source, overrides and version; deleted records too, unless never made. */
  async getMeta(tenantId: string, collection: string, recordId: string): Promise<RecordMeta> {
    const [row] = await readAsTenant(this.db, tenantId, (tx) =>
      tx.query<RecordRow & { collection_id: string }>(sql.readRecord(tenantId, collection, recordId)),
    );
    if (!row) throw collectionNotFound(collection);
    if (row.version === null || (row.data === null && row.manual_delete === null))
      throw recordNotFound(recordId);
    return toMeta(row);
  }

  /**
   * Up to `limit` effective values in id order after `after`, as the text of a JSON array's elements
   * (straight from the database), and the id to continue after when more follow. The read goes
   * together with those of concurrent requests (`pages`, batched-reads.ts).
   */
  async pageEffective(
    tenantId: string,
    collection: string,
    after: string | null,
    limit: number,
  ): Promise<{ items: string; next: string | null }> {
    const page = await this.pages.read({ tenantId, collection, after, limit });
    if (!page) throw collectionNotFound(collection);
    return { items: page.items ?? '', next: page.more ? page.last_id : null };
  }

  /** The collection's internal id, for callers that page through it (export). */
  async collectionId(tenantId: string, collection: string): Promise<string> {
    return readAsTenant(
      this.db,
      tenantId,
      async (tx) => (await this.collection(tx, tenantId, collection)).id,
    );
  }

  async listEffectiveById(tenantId: string, collectionId: string, after: string | null, limit: number) {
    return readAsTenant(this.db, tenantId, (tx) =>
      tx.query<{ record_id: string; data_text: string }>(
        sql.listEffective(tenantId, collectionId, after, limit),
      ),
    );
  }

  /** Versions newest first, before version `before`; `limit + 1` entries tell whether there is more. */
  async history(
    tenantId: string,
    collection: string,
    recordId: string,
    before: number | null,
    limit: number,
  ) {
    const rows = await withTenant(this.db, tenantId, async (tx) => {
      const info = await this.collection(tx, tenantId, collection);
      // One row more than asked: the previous version of the last entry, to diff against.
      return tx.query<VersionRow>(sql.listVersions(tenantId, info.id, recordId, before, limit + 2));
    });
    if (rows.length === 0 && before === null) throw recordNotFound(recordId);
    const entries: HistoryEntry[] = rows.slice(0, limit + 1).map((row, i) => ({
      version: row.version,
      origin: originOf(row),
      at: (row.at ?? row.updated_at).toISOString(),
      changes: diffFields(rows[i + 1]?.data ?? null, row.data),
    }));
    return entries;
  }

  /**
   * Applies a manual edit: reads the record, checks preconditions against the version read, computes
   * the new state and writes it with a new change and version only if the record is still at that
   * version, or writes nothing when nothing changes. Each is one statement on the pool, with no
   * transaction held between them; the read goes together with those of concurrent edits (`reads`,
   * batched-reads.ts), and so does the write (EditWrites). When another writer got there first (or
   * the record is not made yet), the edit starts again under the row lock, where concurrent writers of
   * one record queue and each sees the last: none loses another's fields, and If-Match fails against
   * the new version. Retrying optimistically instead measured slower under contention
   * (docs/performance.md). Edits of one record in this process take turns (editTurn).
   *
   * A record this process wrote last is not read first: the edit is planned from the state it wrote
   * (RecentEdits) and written on the same condition. Only a write that went through answers from that
   * state; anything else (a stale state, a refusal, nothing to change) is decided on a fresh read.
   */
  async edit(
    tenantId: string,
    collection: string,
    recordId: string,
    edit: Edit,
    by: string | null,
    preconditions: Preconditions = {},
  ): Promise<WriteResult> {
    const request: EditRequest = { tenantId, collection, recordId, edit, by, preconditions };
    const check = this.schemas && (await this.schemas.validatorFor(tenantId, collection));
    if (check) request.check = check;
    return this.turns.run(keyOf(tenantId, collection, recordId), request);
  }

  /** Records with edits running or waiting in this process (for tests). */
  get recordsInTurn(): number {
    return this.turns.size;
  }

  /**
   * A record's turn (EditTurns): one edit goes as above; several that waited for the one before them
   * are planned one after the other from the state it wrote and written in one call, each as its own
   * version (successive-edits.ts, src/db/functions.sql), where each would have taken a round trip and a
   * commit in turn. If the first of them does not go through, it is decided as above on a fresh read
   * and the others wait for the next turn.
   */
  private async editTurn(requests: EditRequest[]): Promise<Array<Decided<WriteResult>>> {
    const first = requests[0]!;
    const remembered =
      requests.length > 1 ? this.recent.take(first.tenantId, first.collection, first.recordId) : undefined;
    const series = remembered && planSeries(remembered, requests);
    if (!remembered || !series) return [await decided(() => this.editNow(first))];
    const { collection: info, row } = remembered;
    let written: Written | undefined;
    try {
      written = await this.writes.write({
        write: series.writes[0]!.write,
        version: row.version,
        deletePolicy: info.deletePolicy,
        next: series.writes.slice(1).map((planned) => planned.write),
      });
    } catch (error) {
      // Refused (and rolled back): each is decided again, so that the failure is the failing edit's.
      // Anything else leaves unknown which were written, so none is tried again.
      if (!rolledBack(error)) return series.steps.map(() => ({ error }));
    }
    if (!written) return [await decided(() => this.editNow(first))];
    const { outcomes, last } = decideSeries(series, row.version, written);
    this.recent.remember(first.tenantId, first.collection, { collection: info, row: last.row }, last.weight);
    return outcomes;
  }

  private async editNow({
    tenantId,
    collection,
    recordId,
    edit,
    by,
    preconditions,
    check,
  }: EditRequest): Promise<WriteResult> {
    const remembered = this.recent.take(tenantId, collection, recordId);
    if (remembered) {
      const { collection: info, row } = remembered;
      const planned = planOrNull(() =>
        planEdit(tenantId, info, row, recordId, edit, by, preconditions, check),
      );
      const result = planned?.write && (await this.writeAt(tenantId, collection, info, planned, row.version));
      if (result) return result;
    }
    const read = await this.reads.read({ tenantId, collection, recordId });
    if (!read) throw collectionNotFound(collection);
    if (read.version !== null) {
      const info = collectionOf(read);
      const planned = planEdit(tenantId, info, read as RecordRow, recordId, edit, by, preconditions, check);
      if (planned.write === null) return planned.unchanged;
      const result = await this.writeAt(tenantId, collection, info, planned, read.version);
      if (result) return result;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTenant(this.db, tenantId, (tx) =>
          this.editLocked(tx, tenantId, collection, recordId, edit, by, preconditions, check),
        );
      } catch (error) {
        // Two creates of one new id: the loser retries once and then sees (and locks) the winner's row.
        if (!(error instanceof CreatedConcurrently) || attempt > 0) throw error;
      }
    }
  }

  /** The optimistic write: undefined when the record moved past `version` (or the delete policy changed). */
  private async writeAt(
    tenantId: string,
    collection: string,
    info: CollectionInfo,
    planned: PlannedWrite,
    version: number,
  ): Promise<WriteResult | undefined> {
    const written = await this.writes.write({
      write: planned.write,
      version,
      deletePolicy: info.deletePolicy,
    });
    return written && this.written(tenantId, collection, info, planned, written);
  }

  /** The answer to a write that went through; its state is remembered for the record's next edit. */
  private written(
    tenantId: string,
    collection: string,
    info: CollectionInfo,
    planned: PlannedWrite,
    written: Written,
  ): WriteResult {
    const row = planned.rowAfter(written);
    this.recent.remember(tenantId, collection, { collection: info, row }, planned.weight);
    return { created: planned.created, changed: true, version: written.version, meta: toMeta(row) };
  }

  /** edit under the row lock: concurrent writers of one record queue, each sees the last. */
  private async editLocked(
    tx: Queryable,
    tenantId: string,
    collection: string,
    recordId: string,
    edit: Edit,
    by: string | null,
    preconditions: Preconditions,
    check: RecordValidator | undefined,
  ): Promise<WriteResult> {
    const [locked] = await tx.query<LockedRow>(sql.lockRecord(tenantId, collection, recordId));
    if (!locked) throw collectionNotFound(collection);
    const info = collectionOf(locked);
    const row = locked.version === null ? undefined : (locked as RecordRow);
    const planned = planEdit(tenantId, info, row, recordId, edit, by, preconditions, check);
    if (planned.write === null) return planned.unchanged;
    // An update of the locked row is certain to write and is the transaction's last statement: its
    // COMMIT goes with it. An insert may find the id taken meanwhile, and then must roll back.
    const [written] = row
      ? await tx.queryLast<Written>(sql.updateRecord(planned.write))
      : await tx.query<Written>(sql.insertRecord(planned.write));
    if (!written) throw new CreatedConcurrently();
    return this.written(tenantId, collection, info, planned, written);
  }

  private async collection(tx: Queryable, tenantId: string, name: string): Promise<CollectionInfo> {
    const [row] = await tx.query<{ id: string; id_field: string; delete_policy: 'delete' | 'keep' }>(
      sql.findCollection(tenantId, name),
    );
    if (!row) throw collectionNotFound(name);
    return { id: row.id, idField: row.id_field, deletePolicy: row.delete_policy };
  }
}

/**
 * lockRecord's and readRecordsAsTenant's row: the collection, and the record's columns (all NULL when
 * there is none).
 */
type LockedRow = { collection_id: string; id_field: string; delete_policy: 'delete' | 'keep' } & (
  | RecordRow
  | { [K in keyof RecordRow]: null }
);

function collectionOf(row: LockedRow): CollectionInfo {
  return { id: row.collection_id, idField: row.id_field, deletePolicy: row.delete_policy };
}

interface VersionRow {
  version: number;
  data: JsonObject | null;
  updated_at: Date;
  kind: string | null;
  api_key_id: string | null;
  sync_run_id: string | null;
  snapshot_id: string | null;
  at: Date | null;
}

function originOf(row: VersionRow): HistoryEntry['origin'] {
  const origin: HistoryEntry['origin'] = { kind: row.kind ?? 'unknown' };
  if (row.api_key_id) origin.apiKeyId = row.api_key_id;
  if (row.sync_run_id) origin.syncRunId = row.sync_run_id;
  if (row.snapshot_id) origin.snapshotId = row.snapshot_id;
  return origin;
}

function collectionNotFound(name: string): AppError {
  return new AppError('collection_not_found', `No collection "${name}"`);
}

function recordNotFound(recordId: string): AppError {
  return new AppError('record_not_found', `No record ${JSON.stringify(recordId)}`);
}

async function decided<T>(run: () => Promise<T>): Promise<Decided<T>> {
  try {
    return { value: await run() };
  } catch (error) {
    return { error };
  }
}
