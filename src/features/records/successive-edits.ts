import type { RecordValidator } from '../collections/record-schema.ts';
import { type MetaRow, type PlannedWrite, planEdit, toMeta, type WriteResult } from './edit-plans.ts';
import type { Decided } from './edit-turns.ts';
import type { Written } from './edit-writes.ts';
import type { Preconditions } from './preconditions.ts';
import type { RememberedRecord } from './recent-edits.ts';
import type { Edit } from './record-edits.ts';

/** A manual edit of one record, waiting its turn (EditTurns). */
export interface EditRequest {
  tenantId: string;
  collection: string;
  recordId: string;
  edit: Edit;
  by: string | null;
  preconditions: Preconditions;
  /** The collection's schema, when it has one (planEdit). */
  check?: RecordValidator;
}

/** What one request of a series comes to, once the writes before it have gone through. */
type Step =
  | { kind: 'write'; planned: PlannedWrite }
  /** Nothing to change in the state that `writes[after]` leaves. */
  | { kind: 'unchanged'; after: number }
  /** Refused (a failed If-Match or `test`, an invalid edit) against the state the writes before it leave. */
  | { kind: 'refused'; error: unknown };

/** Edits of one record planned one after the other, each from the state the one before it leaves. */
export interface SuccessiveEdits {
  /** The writes in order: the first from the remembered state, each next from the one before. */
  writes: PlannedWrite[];
  /** One for each request planned, in order; the requests after these were left for another turn. */
  steps: Step[];
}

/** The JSON a series takes at most (PlannedWrite.weight); a single edit may take more. */
const SERIES_BUDGET = 1024 * 1024;

/**
 * Plans `requests` (of one record) one after the other from the state this process last wrote, or
 * returns null when the first would not write from it: a refusal or "nothing to change" may be the
 * remembered state's fault, and only a fresh read decides that (records.service.ts).
 *
 * Every later outcome is planned from a state that exists only once the writes before it went through,
 * so it stands only then (decideSeries).
 */
export function planSeries(
  remembered: RememberedRecord,
  requests: readonly EditRequest[],
): SuccessiveEdits | null {
  const { collection: info } = remembered;
  let row: MetaRow = remembered.row;
  const series: SuccessiveEdits = { writes: [], steps: [] };
  let weight = 0;
  for (const { tenantId, recordId, edit, by, preconditions, check } of requests) {
    if (series.writes.length > 0 && weight >= SERIES_BUDGET) break;
    let step: Step;
    try {
      const planned = planEdit(tenantId, info, row, recordId, edit, by, preconditions, check);
      step =
        planned.write === null
          ? { kind: 'unchanged', after: series.writes.length - 1 }
          : { kind: 'write', planned };
    } catch (error) {
      step = { kind: 'refused', error };
    }
    if (series.writes.length === 0 && step.kind !== 'write') return null;
    series.steps.push(step);
    if (step.kind === 'write') {
      series.writes.push(step.planned);
      weight += step.planned.weight;
      // The time is the database's, known once written; planning does not look at it.
      row = step.planned.rowAfter({ version: row.version + 1, updated_at: row.updated_at });
    }
  }
  return series;
}

/**
 * The outcomes of a series the database wrote from `version` up to `written.version`: each request's
 * answer, as far as the writes before it went through (the rest are left for another turn), and the
 * state the last write left, to remember.
 */
export function decideSeries(
  series: SuccessiveEdits,
  version: number,
  written: Written,
): { outcomes: Array<Decided<WriteResult>>; last: { row: MetaRow; weight: number } } {
  const wrote = written.version - version;
  const stateAfter = (write: number) =>
    series.writes[write]!.rowAfter({ version: version + write + 1, updated_at: written.updated_at });
  const outcomes: Array<Decided<WriteResult>> = [];
  let writes = 0;
  for (const step of series.steps) {
    if (step.kind === 'write') {
      if (writes === wrote) break;
      const row = stateAfter(writes++);
      outcomes.push({
        value: { created: step.planned.created, changed: true, version: row.version, meta: toMeta(row) },
      });
    } else if (step.kind === 'unchanged') {
      const row = stateAfter(step.after);
      outcomes.push({ value: { created: false, changed: false, version: row.version, meta: toMeta(row) } });
    } else {
      outcomes.push({ error: step.error });
    }
  }
  return { outcomes, last: { row: stateAfter(wrote - 1), weight: series.writes[wrote - 1]!.weight } };
}
