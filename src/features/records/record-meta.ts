import type { JsonObject, OverrideSet } from '../../json/index.ts';
import type { ManualDelete } from './edits/apply-edit.ts';

/** A record's row as the database holds it (its data as the effective value). */
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

/** What a meta view needs of a record row, now or as of a snapshot (src/features/snapshots). */
export type MetaRow = Pick<
  RecordRow,
  'record_id' | 'source' | 'upstream_gone' | 'overrides' | 'manual_delete' | 'data' | 'version' | 'updated_at'
>;

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
