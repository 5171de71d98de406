import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { JsonObject, OverrideSet } from '../../json/index.ts';
import { isUuid } from '../../lib/uuid.ts';
import { type RecordMeta, toMeta } from '../records/record-meta.ts';
import { type DiffOptions, type DiffResult, diffSince } from './diff.ts';
import { type RestoreResult, restoreSnapshot } from './restore.ts';
import { DAY_MS, type PruneReport, pruneTenant } from './retention.ts';
import * as sql from './snapshots.sql.ts';
import type { Snapshot, SnapshotRow } from './snapshots.types.ts';

export interface SnapshotServiceOptions {
  retentionDays: number;
  /** The clock: injectable so that expiry is tested without waiting. */
  now?: () => Date;
}

/** A record as it was at a point in the past. */
export interface RecordAt {
  id: string;
  /** The effective value as stored JSON text, or null when it was deleted then. */
  dataText: string | null;
  version: number;
  updatedAt: string;
}

export class SnapshotService {
  readonly retentionDays: number;
  readonly now: () => Date;

  constructor(
    private readonly db: Database,
    options: SnapshotServiceOptions,
  ) {
    this.retentionDays = options.retentionDays;
    this.now = options.now ?? (() => new Date());
  }

  /** O(1) whatever the data size: one INSERT of the next change id. */
  async create(
    tenantId: string,
    input: { label?: string; pinned?: boolean; auto?: boolean },
  ): Promise<Snapshot> {
    return withTenant(this.db, tenantId, (tx) => this.take(tx, tenantId, input));
  }

  /** Takes a snapshot inside a transaction another feature holds (the restore, a sync). */
  async take(
    tx: Queryable,
    tenantId: string,
    input: { label?: string | null; pinned?: boolean; auto?: boolean },
  ): Promise<Snapshot> {
    const [row] = await tx.query<SnapshotRow>(
      sql.insertSnapshot(tenantId, this.retentionDays, {
        label: input.label ?? null,
        auto: input.auto ?? false,
        pinned: input.pinned ?? false,
        createdAt: this.now(),
      }),
    );
    return toSnapshot(row!);
  }

  async list(tenantId: string, cursor: string | null, limit: number): Promise<Snapshot[]> {
    if (cursor !== null && !/^\d{1,19}$/.test(cursor)) {
      throw new AppError('invalid_cursor', 'The cursor is not one this API returned');
    }
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.query<SnapshotRow>(sql.listSnapshots(tenantId, this.retentionDays, cursor, limit)),
    );
    return rows.map(toSnapshot);
  }

  async get(tenantId: string, snapshotId: string): Promise<Snapshot> {
    return toSnapshot(await withTenant(this.db, tenantId, (tx) => this.require(tx, tenantId, snapshotId)));
  }

  async require(tx: Queryable, tenantId: string, snapshotId: string): Promise<SnapshotRow> {
    const [row] = await tx.query<SnapshotRow>(sql.findSnapshot(tenantId, this.retentionDays, snapshotId));
    if (!row) throw new AppError('snapshot_not_found', `No snapshot ${snapshotId}`);
    return row;
  }

  async update(tenantId: string, snapshotId: string, patch: { label?: string | null; pinned?: boolean }) {
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx.query<SnapshotRow>(sql.updateSnapshot(tenantId, this.retentionDays, snapshotId, patch)),
    );
    if (!row) throw new AppError('snapshot_not_found', `No snapshot ${snapshotId}`);
    return toSnapshot(row);
  }

  /** Deletes the point in time only; versions it alone needed go at the next prune. */
  async delete(tenantId: string, snapshotId: string): Promise<void> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.query(sql.deleteSnapshot(tenantId, snapshotId)),
    );
    if (rows.length === 0) throw new AppError('snapshot_not_found', `No snapshot ${snapshotId}`);
  }

  async diff(tenantId: string, snapshotId: string, options: DiffOptions): Promise<DiffResult> {
    return withTenant(this.db, tenantId, async (tx) => {
      const snapshot = await this.require(tx, tenantId, snapshotId);
      return diffSince(tx, tenantId, snapshot, options);
    });
  }

  async restore(
    tenantId: string,
    snapshotId: string,
    options: { collections?: string[]; apiKeyId: string | null },
  ): Promise<RestoreResult> {
    return withTenant(this.db, tenantId, async (tx) => {
      const snapshot = await this.require(tx, tenantId, snapshotId);
      return restoreSnapshot(tx, tenantId, snapshot, {
        ...options,
        now: this.now(),
        take: this.take.bind(this),
      });
    });
  }

  /** Expires snapshots and prunes versions of one tenant (see retention.ts). */
  async prune(tenantId: string, options: { dryRun: boolean }): Promise<PruneReport> {
    return withTenant(this.db, tenantId, (tx) =>
      pruneTenant(tx, tenantId, {
        now: this.now(),
        retentionDays: this.retentionDays,
        dryRun: options.dryRun,
      }),
    );
  }

  /** Every tenant, one transaction each: what `serve` runs on its schedule. */
  async pruneAll(options: { dryRun: boolean }): Promise<Map<string, PruneReport>> {
    const tenants = await this.db.query<{ id: string }>(sql.listTenantIds());
    const reports = new Map<string, PruneReport>();
    for (const { id } of tenants) reports.set(id, await this.prune(id, options));
    return reports;
  }

  /**
   * `asOf=<snapshot id or timestamp>` → the change id S to read at, or null for "now". A timestamp
   * maps to the tenant's first change after it: the state then is everything before that change.
   * Timestamps older than the retention window are refused: the versions behind them may be pruned.
   */
  async resolveAsOf(tx: Queryable, tenantId: string, asOf: string): Promise<string | null> {
    if (isUuid(asOf)) return (await this.require(tx, tenantId, asOf)).change_id;
    const at = parseTimestamp(asOf);
    const windowStart = new Date(this.now().getTime() - this.retentionDays * DAY_MS);
    if (at < windowStart) {
      throw new AppError(
        'as_of_out_of_retention',
        `History before ${windowStart.toISOString()} is not kept; read a pinned snapshot by its id instead`,
      );
    }
    const [row] = await tx.query<{ id: string | null }>(sql.firstChangeAfter(tenantId, at));
    return row?.id ?? null;
  }

  /**
   * The effective records of a collection as they were at `asOf`, a page in record id order; null
   * when `asOf` means now (the caller reads the current rows itself).
   */
  async listRecordsAt(
    tenantId: string,
    collection: string,
    asOf: string,
    after: string | null,
    limit: number,
  ): Promise<Array<{ id: string; dataText: string }> | null> {
    return withTenant(this.db, tenantId, async (tx) => {
      const collectionId = await requireCollection(tx, tenantId, collection);
      const at = await this.resolveAsOf(tx, tenantId, asOf);
      if (at === null) return null;
      const rows = await tx.query<{ record_id: string; data_text: string }>(
        sql.listEffectiveAt(tenantId, collectionId, at, after, limit),
      );
      return rows.map((row) => ({ id: row.record_id, dataText: row.data_text }));
    });
  }

  /**
   * `?meta=true&asOf=`: the record as `?meta=true` showed it at `asOf` (source value, overrides,
   * manual delete, upstream_gone, version, updatedAt), from the same state as the plain read; null
   * when `asOf` means now. Like the current meta read, a record deleted by hand then is shown (with
   * `data: null`); one that did not exist or was deleted by a sync then is record_not_found.
   */
  async readRecordMetaAt(
    tenantId: string,
    collection: string,
    recordId: string,
    asOf: string,
  ): Promise<RecordMeta | null> {
    return withTenant(this.db, tenantId, async (tx) => {
      const collectionId = await requireCollection(tx, tenantId, collection);
      const at = await this.resolveAsOf(tx, tenantId, asOf);
      if (at === null) return null;
      const [row] = await tx.query<StateRow>(sql.recordAt(tenantId, collectionId, at, recordId));
      if (!row || (row.data === null && row.manual_delete === null)) {
        throw new AppError('record_not_found', `No record "${recordId}" in "${collection}" at ${asOf}`);
      }
      return toMeta(row);
    });
  }

  /** One record as it was at `asOf` (record_not_found when it did not exist or was deleted then). */
  async readRecordAt(
    tenantId: string,
    collection: string,
    recordId: string,
    asOf: string,
  ): Promise<RecordAt | null> {
    return withTenant(this.db, tenantId, async (tx) => {
      const collectionId = await requireCollection(tx, tenantId, collection);
      const at = await this.resolveAsOf(tx, tenantId, asOf);
      if (at === null) return null;
      const [row] = await tx.query<{
        record_id: string;
        data_text: string | null;
        version: number;
        updated_at: Date;
      }>(sql.recordAt(tenantId, collectionId, at, recordId));
      if (!row || row.data_text === null) {
        throw new AppError('record_not_found', `No record "${recordId}" in "${collection}" at ${asOf}`);
      }
      return {
        id: row.record_id,
        dataText: row.data_text,
        version: row.version,
        updatedAt: row.updated_at.toISOString(),
      };
    });
  }
}

interface StateRow {
  record_id: string;
  source: JsonObject | null;
  upstream_gone: boolean;
  overrides: OverrideSet;
  manual_delete: RecordMeta['manualDelete'];
  data: JsonObject | null;
  data_text: string | null;
  version: number;
  updated_at: Date;
}

export async function requireCollection(tx: Queryable, tenantId: string, name: string): Promise<string> {
  const [row] = await tx.query<{ id: string }>(sql.findCollectionByName(tenantId, name));
  if (!row) throw new AppError('collection_not_found', `No collection "${name}"`);
  return row.id;
}

function parseTimestamp(value: string): Date {
  // An ISO 8601 date or date-time; anything Date.parse would guess at is refused.
  if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(value)) {
    throw new AppError('validation_failed', 'asOf must be a snapshot id or an ISO 8601 timestamp');
  }
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) {
    throw new AppError('validation_failed', 'asOf must be a snapshot id or an ISO 8601 timestamp');
  }
  return at;
}

export function toSnapshot(row: SnapshotRow): Snapshot {
  return {
    id: row.id,
    label: row.label,
    auto: row.auto,
    pinned: row.pinned,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
    changeId: row.change_id,
  };
}
