import type { Queryable } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import type { Snapshot, SnapshotRow } from './snapshots.service.ts';
import * as sql from './snapshots.sql.ts';

export interface RestoreResult {
  snapshotId: string;
  /** The automatic snapshot taken just before the restore: restoring it undoes this one. */
  undoSnapshotId: string;
  changeId: string;
  collections: Array<{
    name: string;
    /** created: deleted now, alive at the snapshot; deleted: the reverse; changed: every other record written. */
    restored: { created: number; changed: number; deleted: number };
    closedConflicts: number;
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
    await tx.query(sql.lockCollection(tenantId, collection.id));
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
    const closed = await tx.query(
      sql.closeConflictsSince(
        tenantId,
        collection.id,
        snapshot.change_id,
        snapshot.created_at,
        options.now,
        options.apiKeyId,
      ),
    );
    results.push({ name: collection.name, restored, closedConflicts: closed.length });
  }
  return { snapshotId: snapshot.id, undoSnapshotId: undo.id, changeId, collections: results };
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
