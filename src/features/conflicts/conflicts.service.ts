import type { Database } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import {
  applyOverrides,
  type JsonObject,
  type JsonValue,
  keepManual,
  type OverrideSet,
  takeSource,
} from '../../json/index.ts';
import type { CollectionService } from '../collections/collections.service.ts';
import { emitEvent } from '../webhooks/webhooks.sql.ts';
import * as sql from './conflicts.sql.ts';

export type Resolution = 'keep-manual' | 'take-source';

/** Where the next page starts: created_at to the microsecond (UTC, ISO 8601) and the conflict id. */
export type ConflictCursor = { createdAt: string; id: string };

export type ConflictView = {
  id: string;
  recordId: string;
  path: string;
  manualValue: JsonValue | null;
  sourceValue: JsonValue | null;
  previousSourceValue: JsonValue | null;
  status: 'open' | 'resolved';
  resolution: Resolution | null;
  syncId: string | null;
  createdAt: string;
  resolvedAt: string | null;
  /** override: upstream moved under a manual value; source: two sources disagree on a field. */
  kind: 'override' | 'source';
  /** The source whose value moved (override) or won (source); null for a collection with one source. */
  source: string | null;
  /** Kind source: the lower-priority source, whose value is `manualValue`. */
  otherSource: string | null;
};

type ConflictRow = {
  kind: 'override' | 'source';
  source_name: string | null;
  other_source: string | null;
  id: string;
  record_id: string;
  path: string;
  manual_value: JsonValue | null;
  source_value: JsonValue | null;
  previous_source_value: JsonValue | null;
  status: 'open' | 'resolved';
  resolution: Resolution | null;
  sync_run_id: string | null;
  created_at: Date;
  resolved_at: Date | null;
};

export class ConflictService {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
  ) {}

  /** One page, oldest first; `next` is the exact key of its last row when more follow. */
  async list(
    tenantId: string,
    collectionName: string,
    status: 'open' | 'resolved' | null,
    after: ConflictCursor | null,
    limit: number,
  ): Promise<{ items: ConflictView[]; next: ConflictCursor | null }> {
    return withTenant(this.db, tenantId, async (tx) => {
      const collection = await this.collections.require(tx, tenantId, collectionName);
      const rows = await tx.query<ConflictRow & { created_key: string }>(
        sql.listConflicts(tenantId, collection.id, status, after, limit + 1),
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next = rows.length > limit && last ? { createdAt: last.created_key, id: last.id } : null;
      return { items: page.map(toView), next };
    });
  }

  /**
   * Settles one open conflict. keep-manual: the override stays, re-based on the current source value so
   * the next sync reports a conflict only if upstream moves again. take-source: the override goes and
   * the source value shows through. Either way the record gets a new version (its overrides changed).
   */
  async resolve(
    tenantId: string,
    collectionName: string,
    conflictId: string,
    resolution: Resolution,
    by: string | null,
  ): Promise<ConflictView> {
    return withTenant(this.db, tenantId, async (tx) => {
      const collection = await this.collections.require(tx, tenantId, collectionName);
      const [conflict] = await tx.query<ConflictRow>(sql.lockConflict(tenantId, collection.id, conflictId));
      if (!conflict) throw new AppError('conflict_not_found', `No conflict ${conflictId}`);
      if (conflict.status !== 'open')
        throw new AppError('conflict_resolved', `Conflict ${conflictId} is already resolved`);
      const [record] = await tx.query<{
        source: JsonObject | null;
        overrides: OverrideSet;
        deleted: boolean;
      }>(sql.lockRecord(tenantId, collection.id, conflict.record_id));
      if (record && Object.hasOwn(record.overrides, conflict.path)) {
        const overrides =
          resolution === 'keep-manual'
            ? keepManual(record.overrides, [conflict.path], record.source)
            : takeSource(record.overrides, [conflict.path]);
        // Resolving settles an override; it never brings back a record deleted by hand, by a tombstone
        // or by a full feed that no longer has it. The settled override applies if it comes back.
        const data = record.deleted ? null : applyOverrides(record.source, overrides);
        const [change] = await tx.query<{ id: string }>(sql.nextChangeId);
        await tx.query(sql.insertApiChange(tenantId, change!.id, by));
        await tx.query(
          sql.writeRecord(tenantId, collection.id, conflict.record_id, overrides, data, change!.id),
        );
      }
      const [resolved] = await tx.query<ConflictRow>(
        sql.resolveConflict(tenantId, conflictId, resolution, by),
      );
      await tx.query(
        emitEvent(tenantId, 'conflict.resolved', collection.name, {
          conflictId,
          collection: collection.name,
          recordId: conflict.record_id,
          path: conflict.path,
          resolution,
        }),
      );
      return toView(resolved!);
    });
  }
}

function toView(row: ConflictRow): ConflictView {
  return {
    id: row.id,
    recordId: row.record_id,
    path: row.path,
    manualValue: row.manual_value,
    sourceValue: row.source_value,
    previousSourceValue: row.previous_source_value,
    status: row.status,
    resolution: row.resolution,
    syncId: row.sync_run_id,
    createdAt: row.created_at.toISOString(),
    resolvedAt: row.resolved_at ? row.resolved_at.toISOString() : null,
    kind: row.kind,
    source: row.source_name,
    otherSource: row.other_source,
  };
}
