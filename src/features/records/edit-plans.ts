import type { JsonObject, OverrideSet } from '../../json/index.ts';
import { type RecordValidator, schemaViolation } from '../collections/record-schema.ts';
import type { Written } from './edit-writes.ts';
import { checkWritePreconditions, type Preconditions } from './preconditions.ts';
import {
  type Actor,
  applyEdit,
  type CollectionInfo,
  type Edit,
  type ManualDelete,
  type RecordState,
  sameState,
} from './record-edits.ts';
import type * as sql from './records.sql.ts';

// What an edit would write, planned from a record's state: the preconditions, then the new state
// (record-edits.ts), and the answer once the database has written it.
export interface RecordRow {
  record_id: string;
  source: JsonObject | null;
  upstream_gone: boolean;
  overrides: OverrideSet;
  manual_delete: ManualDelete | null;
  data: JsonObject | null;
  version: number;
  change_id: string;
  updated_at: Date;
}

/** A record as `?meta=true` shows it (deleted records included, with `data: null`). */
export interface RecordMeta {
  id: string;
  data: JsonObject | null;
  source: JsonObject | null;
  overrides: Array<{ path: string } & OverrideSet[string]>;
  manualDelete: ManualDelete | null;
  upstreamGone: boolean;
  version: number;
  updatedAt: string;
}

export interface WriteResult {
  /** True when the record had no effective value before (a create or revival). */
  created: boolean;
  /** False when the edit changed nothing, so nothing was written. */
  changed: boolean;
  version: number;
  meta: RecordMeta;
}

/** What an edit would write (`write: null`: nothing changes, `unchanged` is the answer). */
export type PlannedEdit = { write: null; unchanged: WriteResult } | PlannedWrite;

export interface PlannedWrite {
  write: sql.RecordWrite;
  /** True when the record had no effective value before (a create or revival). */
  created: boolean;
  /** The row as the write leaves it, given the version and time the database gave it. */
  rowAfter: (written: Written) => MetaRow;
  /** About the size of that row's JSON (RecentEdits' budget): the source taken as big as the value. */
  weight: number;
}

/**
 * A plan from a remembered state, or null when planning refused: a failed If-Match or `test` operation
 * may be the remembered state's fault, so the fresh read decides.
 */
export function planOrNull(plan: () => PlannedEdit): PlannedEdit | null {
  try {
    return plan();
  } catch {
    return null;
  }
}

/** Preconditions, then the new state (record-edits.ts), of an edit of `row` (undefined: none yet). */
export function planEdit(
  tenantId: string,
  info: CollectionInfo,
  row: MetaRow | undefined,
  recordId: string,
  edit: Edit,
  by: string | null,
  preconditions: Preconditions,
  /** The collection's schema: an edit that would leave an effective value it refuses is a 422. */
  check?: RecordValidator,
): PlannedEdit {
  checkWritePreconditions(preconditions, row ? { version: row.version, live: row.data !== null } : null);
  const current = row ? toState(row) : null;
  const actor: Actor = { by, at: new Date().toISOString() };
  const next = applyEdit(info, recordId, current, edit, actor);
  if (row && current && sameState(current, next)) {
    return {
      write: null,
      unchanged: { created: false, changed: false, version: row.version, meta: toMeta(row) },
    };
  }
  if (check && next.data !== null) {
    const failures = check(next.data);
    if (failures) throw schemaViolation(failures);
  }
  const write: sql.RecordWrite = {
    tenantId,
    collectionId: info.id,
    recordId,
    apiKeyId: by,
    overrides: JSON.stringify(next.overrides),
    manualDelete: next.manualDelete === null ? null : JSON.stringify(next.manualDelete),
    data: next.data === null ? null : JSON.stringify(next.data),
  };
  const sourceSize = next.source === null ? 0 : (write.data?.length ?? JSON.stringify(next.source).length);
  return {
    write,
    weight: write.overrides.length + (write.data?.length ?? 0) + sourceSize,
    created: current?.data == null && next.data !== null,
    rowAfter: (written) => ({
      record_id: recordId,
      source: next.source,
      upstream_gone: next.upstreamGone,
      overrides: next.overrides,
      manual_delete: next.manualDelete,
      data: next.data,
      version: written.version,
      updated_at: written.updated_at,
    }),
  };
}

function toState(row: MetaRow): RecordState {
  return {
    source: row.source,
    upstreamGone: row.upstream_gone,
    overrides: row.overrides,
    manualDelete: row.manual_delete,
    data: row.data,
  };
}

/** What a meta view needs of a record row, now or as of a snapshot (src/features/snapshots). */
export type MetaRow = Pick<
  RecordRow,
  'record_id' | 'source' | 'upstream_gone' | 'overrides' | 'manual_delete' | 'data' | 'version' | 'updated_at'
>;

export function toMeta(row: MetaRow): RecordMeta {
  return {
    id: row.record_id,
    data: row.data,
    source: row.source,
    overrides: Object.keys(row.overrides)
      .sort()
      .map((path) => ({ path, ...row.overrides[path]! })),
    manualDelete: row.manual_delete,
    upstreamGone: row.upstream_gone,
    version: row.version,
    updatedAt: row.updated_at.toISOString(),
  };
}
