import type { Queryable } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import { type JsonObject, type OverrideSet, rebaseOverrides } from '../../json/index.ts';
import { lockCollection } from '../collections/collections.sql.ts';
import { emitEvent } from '../webhooks/webhooks.sql.ts';
import * as sql from './snapshots.sql.ts';
import type { Snapshot, SnapshotRow } from './snapshots.types.ts';

export interface RestoreResult {
  snapshotId: string;
  /** The automatic snapshot taken just before the restore: restoring it undoes this one. */
  undoSnapshotId: string;
  changeId: string;
  collections: Array<{
    name: string;
    /** created: deleted now, alive at the snapshot; deleted: the reverse; changed: every other record written. */
    restored: { created: number; changed: number; deleted: number };
    /** Open conflicts whose premise the restore undid. */
    closedConflicts: number;
    /** Conflicts resolved since the snapshot whose premise the restore brought back. */
    reopenedConflicts: number;
  }>;
}

export interface RestoreOptions {
  /** The collections to restore; all of the tenant's when absent. */
  collections?: string[];
  apiKeyId: string | null;
  now: Date;
  take(tx: Queryable, tenantId: string, input: { label: string; auto: boolean }): Promise<Snapshot>;
}

/**
 * Puts the named collections (or all) back as they were at the snapshot, inside the caller's
 * transaction, so it is all-or-nothing. Source values, overrides, manual deletes and effective values
 * all come back; records made after the snapshot become deleted (the row stays, empty). The restore is
 * one new change: every record it rewrites gets a new version, so it can itself be undone by
 * restoring the automatic snapshot it takes first. Only records written since the snapshot are read
 * and written (change_id > S, through an index): the cost follows the change, not the collection.
 */
export async function restoreSnapshot(
  tx: Queryable,
  tenantId: string,
  snapshot: SnapshotRow,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const collections = await resolveCollections(tx, tenantId, options.collections);
  // Lock first, then draw change ids (the undo snapshot, then the restore's change): every record's
  // versions keep increasing change ids, and the undo snapshot sees everything the restore overwrites.
  for (const collection of collections) {
    await tx.query(lockCollection(tenantId, collection.id));
    await tx.query(sql.lockChangedSince(tenantId, collection.id, snapshot.change_id));
  }
  const undo = await options.take(tx, tenantId, {
    label: `before restore of ${snapshot.label ?? snapshot.id}`,
    auto: true,
  });
  const [change] = await tx.query<{ id: string }>(
    sql.insertRestoreChange(tenantId, snapshot.id, options.apiKeyId, options.now),
  );
  const changeId = change!.id;

  const results: RestoreResult['collections'] = [];
  for (const collection of collections) {
    await tx.query(sql.allowSort(false));
    const rows = await tx.query<{ was_deleted: boolean; is_deleted: boolean }>(
      sql.restoreCollection(tenantId, collection.id, snapshot.change_id, changeId, options.now),
    );
    await tx.query(sql.allowSort(true));
    const restored = { created: 0, changed: 0, deleted: 0 };
    for (const row of rows) {
      if (row.is_deleted && !row.was_deleted) restored.deleted++;
      else if (row.was_deleted && !row.is_deleted) restored.created++;
      else restored.changed++;
    }
    const conflicts = await settleConflicts(tx, tenantId, collection.id, snapshot.change_id, options);
    results.push({ name: collection.name, restored, ...conflicts });
  }
  await tx.query(
    emitEvent(tenantId, 'snapshot.restored', null, {
      snapshotId: snapshot.id,
      undoSnapshotId: undo.id,
      changeId,
      collections: results.map((c) => ({ name: c.name, ...c.restored })),
    }),
  );
  return { snapshotId: snapshot.id, undoSnapshotId: undo.id, changeId, collections: results };
}

/**
 * Conflicts are not versioned; after the restore they are made to match the restored state. A conflict
 * stands where a record keeps an override and its source at that path is no longer what the override
 * was based on (the rule a sync applies, `rebaseOverrides`). For the records written since S: open
 * conflicts that no longer stand are closed; standing ones are open, reopened if they were resolved
 * since, with the values the restored state shows. Records not written since S are as they were.
 * A revert (src/features/revert/) settles the records it wrote the same way.
 */
export async function settleConflicts(
  tx: Queryable,
  tenantId: string,
  collectionId: string,
  at: string,
  options: Pick<RestoreOptions, 'now' | 'apiKeyId'>,
): Promise<{ closedConflicts: number; reopenedConflicts: number }> {
  const records = await tx.query<{ record_id: string; source: JsonObject | null; overrides: OverrideSet }>(
    sql.overriddenSince(tenantId, collectionId, at),
  );
  const standing = [];
  for (const record of records) {
    for (const c of rebaseOverrides(record.source, record.source, record.overrides).conflicts) {
      standing.push({
        record_id: record.record_id,
        path: c.path,
        manual_value: c.manualRemoved ? null : (c.manualValue ?? null),
        source_value: c.sourceMissing ? null : (c.sourceValue ?? null),
        previous_source_value: c.previousSourceMissing ? null : (c.previousSourceValue ?? null),
      });
    }
  }
  const input = JSON.stringify(standing);
  const closed = await tx.query(
    sql.closeMootConflicts(tenantId, collectionId, at, input, options.now, options.apiKeyId),
  );
  let reopened = 0;
  if (standing.length > 0) {
    const rows = await tx.query<{ reopened: boolean }>(
      sql.reopenStandingConflicts(tenantId, collectionId, input),
    );
    reopened = rows.filter((row) => row.reopened).length;
    reopened += (await tx.query(sql.openMissingConflicts(tenantId, collectionId, input, options.now))).length;
  }
  return { closedConflicts: closed.length, reopenedConflicts: reopened };
}

async function resolveCollections(
  tx: Queryable,
  tenantId: string,
  names: string[] | undefined,
): Promise<Array<{ id: string; name: string }>> {
  if (names === undefined) return tx.query<{ id: string; name: string }>(sql.listCollections(tenantId));
  const found: Array<{ id: string; name: string }> = [];
  for (const name of names) {
    const [row] = await tx.query<{ id: string; name: string }>(sql.findCollectionByName(tenantId, name));
    if (!row) {
      // Collections are not versioned: deleting one deletes its history, so no snapshot can bring it back.
      throw new AppError(
        'collection_not_found',
        `No collection "${name}": a restore writes back records of collections that exist now; ` +
          'a deleted collection is gone with its history and is not part of any snapshot',
      );
    }
    found.push(row);
  }
  // A fixed lock order (by id) so two restores of overlapping collections cannot deadlock.
  return found.sort((a, b) => Number(a.id) - Number(b.id));
}
