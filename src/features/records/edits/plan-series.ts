// The edits of one record that queued together, planned one after the other, each from the state the
// one before it leaves: a single edit is a series of one. Pure: the store reads and writes.
import { type RecordValidator, schemaViolation } from '../../collections/record-schema.ts';
import { checkWritePreconditions, type Preconditions } from '../preconditions.ts';
import { type MetaRow, type RecordMeta, toMeta } from '../record-meta.ts';
import { applyEdit, type CollectionInfo, type Edit, type RecordState, sameState } from './apply-edit.ts';

/** A manual edit of a record, as it waits in the record's queue. */
export interface EditRequest {
  edit: Edit;
  /** The API key that sends it. */
  by: string | null;
  preconditions: Preconditions;
  /** The collection's schema, when it has one: an edit that would leave a value it refuses is a 422. */
  check?: RecordValidator;
}

/** A record as read (or locked) for an edit: its collection's settings and its row (null: none yet). */
export interface StoredRecord {
  collection: CollectionInfo;
  recordId: string;
  row: MetaRow | null;
}

/** A state to write: the record's new columns as JSON text, and the key that wrote it. */
export interface NewState {
  apiKeyId: string | null;
  overrides: string;
  manualDelete: string | null;
  data: string | null;
}

/** The answer to an edit. */
export interface WriteResult {
  /** True when the record had no effective value before (a create or revival). */
  created: boolean;
  /** False when the edit changed nothing, so nothing was written. */
  changed: boolean;
  version: number;
  meta: RecordMeta;
}

/** What one edit of a series comes to: a state written, nothing to change, or a refusal. */
type Step =
  | { kind: 'write' | 'unchanged'; created: boolean; state: RecordState; writes: number }
  | { kind: 'refused'; error: unknown };

export interface Series {
  /** The states to write in order, the first on the record as read. */
  states: NewState[];
  /** One for each edit planned, in order; edits after these were left for the next turn (budget). */
  steps: Step[];
}

/** The JSON a series writes at most; its first edit may take more. */
const SERIES_BUDGET = 1024 * 1024;

/**
 * Plans `requests` one after the other from `record`: preconditions, then the new state (apply-edit.ts),
 * then the schema. An edit that changes nothing or is refused writes nothing and the next is planned
 * from the same state. Each answer holds only once the states before it are written.
 */
export function planSeries(record: StoredRecord, requests: readonly EditRequest[]): Series {
  const series: Series = { states: [], steps: [] };
  let current = record.row && stateOf(record.row);
  let version = record.row?.version ?? 0;
  let bytes = 0;
  for (const { edit, by, preconditions, check } of requests) {
    if (bytes > SERIES_BUDGET) break;
    try {
      checkWritePreconditions(preconditions, current && { version, live: current.data !== null });
      const at = new Date().toISOString();
      const next = applyEdit(record.collection, record.recordId, current, edit, { by, at });
      const created = current?.data == null && next.data !== null;
      if (current && sameState(current, next)) {
        series.steps.push({
          kind: 'unchanged',
          created: false,
          state: current,
          writes: series.states.length,
        });
        continue;
      }
      if (check && next.data !== null) {
        const failures = check(next.data);
        if (failures) throw schemaViolation(failures);
      }
      const state = newState(next, by);
      series.states.push(state);
      bytes += state.overrides.length + (state.data?.length ?? 0);
      series.steps.push({ kind: 'write', created, state: next, writes: series.states.length });
      current = next;
      version++;
    } catch (error) {
      series.steps.push({ kind: 'refused', error });
    }
  }
  return series;
}

/** Where the database left the record: the version of the series' last state, and the write's time. */
export type Written = { version: number; updated_at: Date };

/**
 * Each planned edit's answer once the series is written (`written`; none when it has no states): the
 * version and time a state gets follow from where the series started.
 */
export function answersOf(
  record: StoredRecord,
  series: Series,
  written?: Written,
): Array<{ value: WriteResult } | { error: unknown }> {
  const from = written ? written.version - series.states.length : (record.row?.version ?? 0);
  return series.steps.map((step) => {
    if (step.kind === 'refused') return { error: step.error };
    const row: MetaRow = {
      record_id: record.recordId,
      source: step.state.source,
      upstream_gone: step.state.upstreamGone,
      overrides: step.state.overrides,
      manual_delete: step.state.manualDelete,
      data: step.state.data,
      version: from + step.writes,
      updated_at: step.writes > 0 ? written!.updated_at : record.row!.updated_at,
    };
    const value = { created: step.created, changed: step.kind === 'write', version: row.version };
    return { value: { ...value, meta: toMeta(row) } };
  });
}

function stateOf(row: MetaRow): RecordState {
  return {
    source: row.source,
    upstreamGone: row.upstream_gone,
    overrides: row.overrides,
    manualDelete: row.manual_delete,
    data: row.data,
  };
}

function newState(state: RecordState, by: string | null): NewState {
  return {
    apiKeyId: by,
    overrides: JSON.stringify(state.overrides),
    manualDelete: state.manualDelete === null ? null : JSON.stringify(state.manualDelete),
    data: state.data === null ? null : JSON.stringify(state.data),
  };
}
