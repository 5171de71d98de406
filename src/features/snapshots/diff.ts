import type { Queryable } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../http/pagination.ts';
import {
  diffFields,
  type FieldChange,
  findUnsafeJson,
  type JsonObject,
  jsonEqual,
} from '../../json/index.ts';
import * as sql from './snapshots.sql.ts';
import type { SnapshotRow } from './snapshots.types.ts';

export interface DiffOptions {
  /** One collection; all of the tenant's when absent. */
  collection?: string;
  limit: number;
  cursor?: string;
}

export interface DiffRecord {
  id: string;
  change: 'created' | 'changed' | 'deleted';
  changes: FieldChange[];
}

export interface DiffResult {
  snapshotId: string;
  collections: Array<{
    name: string;
    counts: { created: number; changed: number; deleted: number };
    records: DiffRecord[];
  }>;
  nextCursor: string | null;
}

/**
 * What changed in the effective values since the snapshot, per collection: records created, changed
 * (with field-level changes) and deleted. Only records written since the snapshot are read. Records
 * are paged in (collection id, record id) order across collections; counts cover each whole
 * collection on every page. A record whose value came back to what it was is not listed.
 */
export async function diffSince(
  tx: Queryable,
  tenantId: string,
  snapshot: SnapshotRow,
  options: DiffOptions,
): Promise<DiffResult> {
  const collections = await collectionsOf(tx, tenantId, options.collection);
  const position = options.cursor === undefined ? null : decodePosition(options.cursor);
  let remaining = options.limit;
  let nextCursor: string | null = null;
  const result: DiffResult['collections'] = [];
  for (const collection of collections) {
    await tx.query(sql.allowSort(false));
    const [counts] = await tx.query<{ created: number; changed: number; deleted: number }>(
      sql.diffCounts(tenantId, collection.id, snapshot.change_id),
    );
    await tx.query(sql.allowSort(true));
    const records: DiffRecord[] = [];
    const skipped = position !== null && Number(collection.id) < Number(position.collectionId);
    const differs = counts!.created + counts!.changed + counts!.deleted > 0;
    if (!skipped && differs && nextCursor === null) {
      if (remaining === 0) {
        // The page filled up in an earlier collection: the next page starts here.
        nextCursor = encodeCursor(JSON.stringify([collection.id, null]));
      } else {
        const after = position?.collectionId === collection.id ? position.recordId : null;
        const rows = await differingSince(
          tx,
          tenantId,
          collection.id,
          snapshot.change_id,
          after,
          remaining + 1,
        );
        for (const row of rows.slice(0, remaining)) records.push(toDiffRecord(row));
        remaining -= records.length;
        if (rows.length > records.length) {
          nextCursor = encodeCursor(JSON.stringify([collection.id, records[records.length - 1]!.id]));
        }
      }
    }
    result.push({ name: collection.name, counts: counts!, records });
  }
  return { snapshotId: snapshot.id, collections: result, nextCursor };
}

const BATCH = 1000;

/**
 * Up to `wanted` records whose effective value differs between S and now, after `after` in record id
 * order: batches of records written since S, each with one lookup of their values at S.
 */
async function differingSince(
  tx: Queryable,
  tenantId: string,
  collectionId: string,
  at: string,
  after: string | null,
  wanted: number,
): Promise<Array<{ record_id: string; before: JsonObject | null; after: JsonObject | null }>> {
  const found: Array<{ record_id: string; before: JsonObject | null; after: JsonObject | null }> = [];
  let cursor = after;
  while (found.length < wanted) {
    const batch = await tx.query<{ record_id: string; data: JsonObject | null }>(
      sql.changedSinceBatch(tenantId, collectionId, at, cursor, BATCH),
    );
    if (batch.length === 0) break;
    const past = await tx.query<{ record_id: string; data: JsonObject | null }>(
      sql.valuesAt(
        tenantId,
        collectionId,
        at,
        batch.map((row) => row.record_id),
      ),
    );
    const before = new Map(past.map((row) => [row.record_id, row.data]));
    for (const row of batch) {
      const then = before.get(row.record_id) ?? null;
      const differs = then === null || row.data === null ? then !== row.data : !jsonEqual(then, row.data);
      if (differs) found.push({ record_id: row.record_id, before: then, after: row.data });
      if (found.length === wanted) break;
    }
    if (batch.length < BATCH) break;
    cursor = batch[batch.length - 1]!.record_id;
  }
  return found;
}

function toDiffRecord(row: {
  record_id: string;
  before: JsonObject | null;
  after: JsonObject | null;
}): DiffRecord {
  const change = row.before === null ? 'created' : row.after === null ? 'deleted' : 'changed';
  return { id: row.record_id, change, changes: diffFields(row.before, row.after) };
}

async function collectionsOf(tx: Queryable, tenantId: string, name: string | undefined) {
  if (name === undefined) return tx.query<{ id: string; name: string }>(sql.listCollections(tenantId));
  const rows = await tx.query<{ id: string; name: string }>(sql.findCollectionByName(tenantId, name));
  if (rows.length === 0) throw new AppError('collection_not_found', `No collection "${name}"`);
  return rows;
}

function decodePosition(cursor: string): { collectionId: string; recordId: string | null } {
  const inner = decodeCursor(cursor)!;
  try {
    const parsed: unknown = JSON.parse(inner);
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      /^\d{1,19}$/.test(parsed[0]) &&
      (parsed[1] === null || (typeof parsed[1] === 'string' && findUnsafeJson(parsed[1]).length === 0))
    ) {
      return { collectionId: parsed[0], recordId: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new AppError('invalid_cursor', 'The cursor is not one this API returned');
}
