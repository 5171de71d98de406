import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import { parsePointer } from '../../json/index.ts';
import { parseFieldPath } from '../records/record-filter.ts';
import type { CollectionSettings, RunGuards } from './collections.sql.ts';
import * as sql from './collections.sql.ts';
import { type CollectionSchemas, compileRecordSchema } from './record-schema.ts';

export type { CollectionSettings };

export interface Collection extends CollectionSettings {
  /** Internal id, used by other features' SQL; not part of the API. */
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface IndexState {
  field: string;
  state: 'building' | 'ready' | 'failed';
  error: string | null;
}

export interface CollectionWithCounts extends Collection {
  indexStates: IndexState[];
  counts: { records: number; overridden: number; openConflicts: number };
  lastSync: { id: string; status: string; mode: string; startedAt: string; finishedAt: string | null } | null;
}

interface CollectionRow {
  id: string;
  name: string;
  id_field: string;
  delete_policy: CollectionSettings['deletePolicy'];
  conflict_policy: 'keep-manual' | 'take-source';
  conflict_policies: Record<string, 'keep-manual' | 'take-source'> | null;
  overlap: CollectionSettings['overlap'];
  max_delete_ratio: number;
  record_schema: object | null;
  indexes: string[];
  guards: CollectionSettings['guards'] | null;
  index_states?: IndexState[];
  created_at: Date;
  updated_at: Date;
  inserted?: boolean;
  record_count?: number;
  overridden_count?: number;
  open_conflict_count?: number;
  last_sync?: CollectionWithCounts['lastSync'];
}

export const DEFAULT_SETTINGS: CollectionSettings = {
  idField: 'id',
  deletePolicy: 'delete',
  conflictPolicy: 'keep-manual',
  overlap: 'priority',
  maxDeleteRatio: 0.5,
  schema: null,
  indexes: [],
  guards: {},
};

/** Declared indexes per collection, at most. */
export const MAX_INDEXES = 32;

export class CollectionService {
  constructor(
    private readonly db: Database,
    private readonly hooks: {
      schemas?: CollectionSchemas;
      /** Called after a collection's declared indexes may have changed (the index builder's cue). */
      indexesChanged?: () => void;
    } = {},
  ) {}

  /** Creates the collection or replaces its settings (omitted settings take their defaults). */
  async put(tenantId: string, name: string, settings: Partial<CollectionSettings> & RunGuards) {
    const { maxChangeRatio, maxFieldChangeRatio, requiredFields, ...rest } = settings;
    const full = { ...DEFAULT_SETTINGS, ...rest };
    full.guards = checkGuards({ maxChangeRatio, maxFieldChangeRatio, requiredFields });
    // Checked before anything is written: an invalid schema or index field changes nothing.
    if (full.schema !== null) compileRecordSchema(full.schema);
    full.indexes = checkIndexFields(full.indexes);
    const row = await withTenant(this.db, tenantId, async (tx) => {
      await refuseIdFieldChange(tx, tenantId, name, full.idField);
      const [upserted] = await tx.query<CollectionRow>(sql.upsertCollection(tenantId, name, full));
      await tx.query(sql.syncIndexRows(tenantId, upserted!.id, full.indexes));
      const [withCounts] = await tx.query<CollectionRow>(sql.findCollectionWithCounts(tenantId, name));
      return { ...withCounts!, inserted: upserted!.inserted };
    });
    this.hooks.schemas?.forget(tenantId, name);
    this.hooks.indexesChanged?.();
    return { created: row.inserted === true, collection: withCounts(row) };
  }

  async get(tenantId: string, name: string): Promise<CollectionWithCounts> {
    const [row] = await withTenant(this.db, tenantId, (tx) =>
      tx.query<CollectionRow>(sql.findCollectionWithCounts(tenantId, name)),
    );
    if (!row) throw notFound(name);
    return withCounts(row);
  }

  /** The collection's settings inside a transaction another feature already holds. */
  async require(tx: Queryable, tenantId: string, name: string): Promise<Collection> {
    const [row] = await tx.query<CollectionRow>(sql.findCollection(tenantId, name));
    if (!row) throw notFound(name);
    return toCollection(row);
  }

  async list(tenantId: string, afterName: string | null, limit: number): Promise<CollectionWithCounts[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.query<CollectionRow>(sql.listCollectionsWithCounts(tenantId, afterName, limit)),
    );
    return rows.map(withCounts);
  }

  /** Deletes the collection with its records and their history, after any sync of it in flight. */
  async delete(tenantId: string, name: string): Promise<void> {
    await withTenant(this.db, tenantId, async (tx) => {
      const collection = await this.require(tx, tenantId, name);
      await tx.query(sql.lockCollection(tenantId, collection.id));
      await tx.query(sql.deleteCollectionRecords(tenantId, collection.id));
      await tx.query(sql.deleteCollection(tenantId, name));
    });
    this.hooks.schemas?.forget(tenantId, name);
    this.hooks.indexesChanged?.();
  }
}

function notFound(name: string): AppError {
  return new AppError('collection_not_found', `No collection "${name}"`);
}

function toCollection(row: CollectionRow): Collection {
  return {
    id: row.id,
    name: row.name,
    idField: row.id_field,
    deletePolicy: row.delete_policy,
    conflictPolicy: row.conflict_policies ?? row.conflict_policy,
    overlap: row.overlap,
    maxDeleteRatio: Number(row.max_delete_ratio),
    schema: row.record_schema ?? null,
    indexes: row.indexes ?? [],
    guards: row.guards ?? {},
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function withCounts(row: CollectionRow): CollectionWithCounts {
  return {
    ...toCollection(row),
    ...(row.guards ?? {}),
    indexStates: row.index_states ?? [],
    counts: {
      records: row.record_count ?? 0,
      overridden: row.overridden_count ?? 0,
      openConflicts: row.open_conflict_count ?? 0,
    },
    lastSync: row.last_sync ?? null,
  };
}

/** Index fields as declared: dotted field names (as filters take them), each once. */
function checkIndexFields(fields: string[]): string[] {
  if (fields.length > MAX_INDEXES)
    throw new AppError('invalid_schema', `a collection declares at most ${MAX_INDEXES} indexes`);
  for (const field of fields) {
    try {
      parseFieldPath(field, 'indexes');
    } catch (error) {
      throw new AppError('invalid_schema', `indexes: ${(error as Error).message}`);
    }
  }
  return [...new Set(fields)];
}

/**
 * A collection's stored record ids were taken from its id field, and a sync recognises an unchanged
 * feed row by its text alone (src/sync/feed/types.ts KnownRecords): with another id field the same text
 * would name another record. So the field is fixed once the collection holds records (delete the
 * collection, or make a new one, to re-key). Checked under the collection's sync lock, so a sync that
 * read the old field cannot be running meanwhile.
 */
async function refuseIdFieldChange(tx: Queryable, tenantId: string, name: string, idField: string) {
  const [current] = await tx.query<CollectionRow>(sql.findCollection(tenantId, name));
  if (!current || current.id_field === idField) return;
  await tx.query(sql.lockCollection(tenantId, current.id));
  const [records] = await tx.query<{ yes: boolean }>(sql.hasRecords(tenantId, current.id));
  if (records!.yes) {
    throw new AppError(
      'id_field_locked',
      `collection "${name}" holds records keyed by "${current.id_field}"; its id field cannot become "${idField}"`,
    );
  }
}

/** The run guards as set (absent ones left out), their pointers checked. */
function checkGuards(guards: RunGuards): RunGuards {
  const checked: RunGuards = {};
  const pointers = [...Object.keys(guards.maxFieldChangeRatio ?? {}), ...(guards.requiredFields ?? [])];
  for (const pointer of pointers) {
    try {
      if (parsePointer(pointer).length === 0) throw new Error('the whole record is not a field');
    } catch (error) {
      throw new AppError(
        'validation_failed',
        `guard field ${JSON.stringify(pointer)}: ${(error as Error).message}`,
      );
    }
  }
  if (guards.maxChangeRatio !== undefined) checked.maxChangeRatio = guards.maxChangeRatio;
  if (guards.maxFieldChangeRatio !== undefined) checked.maxFieldChangeRatio = guards.maxFieldChangeRatio;
  if (guards.requiredFields !== undefined) checked.requiredFields = [...new Set(guards.requiredFields)];
  return checked;
}
