import type { Database, Queryable } from '../../db/database.ts';
import { rolledBack } from '../../db/statement-batches.ts';
import { readAsTenant, withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import { diffFields, type FieldChange, type JsonObject } from '../../json/index.ts';
import type { CollectionSchemas } from '../collections/record-schema.ts';
import {
  type EffectiveRow,
  type PageRead,
  type PageRow,
  pageReads,
  type RecordRead,
  recordReads,
  type TenantReads,
} from './batched-reads.ts';
import type { CollectionInfo, Edit } from './edits/apply-edit.ts';
import { EditStore, type RecordKey } from './edits/edit-store.ts';
import { answersOf, type EditRequest, planSeries, type WriteResult } from './edits/plan-series.ts';
import { type Decided, keyOf, RecordQueue } from './edits/record-queue.ts';
import type { Preconditions } from './preconditions.ts';
import { type RecordMeta, type RecordRow, toMeta } from './record-meta.ts';
import * as sql from './records.sql.ts';

export interface HistoryEntry {
  version: number;
  origin: { kind: string; apiKeyId?: string; syncRunId?: string; snapshotId?: string };
  at: string;
  changes: FieldChange[];
}

export class RecordService {
  constructor(
    private readonly db: Database,
    private readonly schemas?: CollectionSchemas,
  ) {
    this.store = new EditStore(db);
    this.pages = pageReads(db);
    this.effective = recordReads<EffectiveRow>(db, sql.readEffectivesAsTenant);
  }

  // Reads of concurrent requests that go to the database together (batched-reads.ts).
  private readonly pages: TenantReads<PageRead, PageRow>;
  private readonly effective: TenantReads<RecordRead, EffectiveRow>;
  /** Where edits read and write (edits/edit-store.ts). */
  private readonly store: EditStore;
  /** Edits of one record in this process, in turns (edits/record-queue.ts). */
  private readonly queue = new RecordQueue<EditRequest, WriteResult>();

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
   * A manual edit (PUT, PATCH, DELETE, a revert). Edits of one record in this process wait in its queue
   * and go in turns: a turn takes the edits waiting, plans them as a series from the record as read
   * (a single edit is a series of one), and writes the series only if the record is still at the
   * version read. When it moved (another process, a sync, a restore), or the record is being created,
   * the turn plans again under the row lock, where it cannot lose another writer's update.
   */
  async edit(
    tenantId: string,
    collection: string,
    recordId: string,
    edit: Edit,
    by: string | null,
    preconditions: Preconditions = {},
  ): Promise<WriteResult> {
    const request: EditRequest = { edit, by, preconditions };
    const check = this.schemas && (await this.schemas.validatorFor(tenantId, collection));
    if (check) request.check = check;
    const key: RecordKey = { tenantId, collection, recordId };
    return this.queue.run(keyOf(tenantId, collection, recordId), request, (turn) => this.editTurn(key, turn));
  }

  /** Records with edits running or waiting in this process (for tests). */
  get queuedRecords(): number {
    return this.queue.size;
  }

  /** A turn's edits as a series: written at the version read, or else under the row lock. */
  private async editSeries(key: RecordKey, requests: EditRequest[]): Promise<Array<Decided<WriteResult>>> {
    const read = await this.store.read(key);
    const series = planSeries(read, requests);
    if (series.states.length === 0) return answersOf(read, series);
    const written = await this.store.writeAtVersion(key.tenantId, read, series);
    if (written) return answersOf(read, series, written);
    const locked = await this.store.writeLocked(key, (record) => planSeries(record, requests));
    return answersOf(locked.record, locked.series, locked.written);
  }

  /**
   * A series the database refused rolled back whole: its first edit goes again alone, so that a
   * failure is only that edit's, and the others wait for the next turn. A failure that leaves unknown
   * what was written (a lost connection) is every edit's, and none is sent again.
   */
  private async editTurn(key: RecordKey, requests: EditRequest[]): Promise<Array<Decided<WriteResult>>> {
    try {
      return await this.editSeries(key, requests);
    } catch (error) {
      if (requests.length === 1 || !rolledBack(error)) throw error;
    }
    try {
      return await this.editSeries(key, requests.slice(0, 1));
    } catch (error) {
      return [{ error }];
    }
  }

  private async collection(tx: Queryable, tenantId: string, name: string): Promise<CollectionInfo> {
    const [row] = await tx.query<{ id: string; id_field: string; delete_policy: 'delete' | 'keep' }>(
      sql.findCollection(tenantId, name),
    );
    if (!row) throw collectionNotFound(name);
    return { id: row.id, idField: row.id_field, deletePolicy: row.delete_policy };
  }
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
