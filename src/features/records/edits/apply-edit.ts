// What a manual edit does to a record's state, as pure functions: the store reads and writes, these
// decide (plan-series.ts runs them). No I/O here.
import { AppError } from '../../../errors.ts';
import {
  applyJsonPatch,
  applyMergePatch,
  applyOverrides,
  findUnsafeJson,
  isJsonObject,
  type JsonObject,
  JsonPatchError,
  type JsonValue,
  jsonByteLength,
  jsonEqual,
  MAX_RECORD_BYTES,
  type OverrideSet,
  overridesFor,
  takeSource,
  UNSAFE_JSON_MESSAGES,
} from '../../../json/index.ts';

export type ManualDelete = { by: string | null; at: string };

/** The stored state of one record, as the row holds it. */
export interface RecordState {
  source: JsonObject | null;
  upstreamGone: boolean;
  overrides: OverrideSet;
  manualDelete: ManualDelete | null;
  data: JsonObject | null;
}

export interface CollectionInfo {
  id: string;
  idField: string;
  deletePolicy: 'delete' | 'keep';
}

export type Edit =
  | { kind: 'put'; body: unknown }
  | { kind: 'merge-patch'; patch: unknown }
  | { kind: 'json-patch'; patch: unknown }
  | { kind: 'delete' }
  | { kind: 'revert'; path: string | undefined };

export type Actor = { by: string | null; at: string };

/**
 * The state after `edit`, given the current state (`null`: no row yet). Throws AppError for edits
 * that cannot apply; never touches the input.
 */
export function applyEdit(
  collection: CollectionInfo,
  recordId: string,
  current: RecordState | null,
  edit: Edit,
  actor: Actor,
): RecordState {
  const live = current !== null && current.data !== null ? current : null;
  switch (edit.kind) {
    case 'put': {
      const desired = withRecordId(collection.idField, recordId, edit.body);
      return desiredState(current, desired, actor);
    }
    case 'merge-patch':
    case 'json-patch': {
      if (live === null) throw notFound(recordId);
      const patched =
        edit.kind === 'merge-patch'
          ? applyMergePatch(live.data, edit.patch as JsonValue)
          : jsonPatch(live.data, edit.patch);
      if (!isJsonObject(patched))
        throw new AppError('invalid_record', 'The patch would turn the record into a non-object');
      const idField = collection.idField;
      if (
        !jsonEqual(patched[idField] ?? null, live.data![idField] ?? null) ||
        Object.hasOwn(patched, idField) !== Object.hasOwn(live.data!, idField)
      ) {
        throw new AppError('invalid_record', `The patch may not change the record's id ("/${idField}")`);
      }
      return desiredState(live, checkStorable(patched), actor);
    }
    case 'delete':
      if (live === null) throw notFound(recordId);
      return { ...live, manualDelete: { by: actor.by, at: actor.at }, data: null };
    case 'revert': {
      if (current === null || (current.data === null && current.manualDelete === null))
        throw notFound(recordId);
      if (current.source === null) {
        throw new AppError(
          'no_source_value',
          'This record was made by hand: it has no source value to go back to (DELETE the record instead)',
        );
      }
      let { overrides, manualDelete } = current;
      if (edit.path === undefined) {
        overrides = {};
        manualDelete = null;
      } else {
        if (!Object.hasOwn(overrides, edit.path)) {
          throw new AppError(
            'override_not_found',
            `The record has no override at ${JSON.stringify(edit.path)}`,
          );
        }
        overrides = takeSource(overrides, [edit.path]);
      }
      // Reverting cannot bring back a record that a sync removed (gone upstream, delete policy).
      const deletedUpstream = current.upstreamGone && collection.deletePolicy === 'delete';
      const data =
        manualDelete !== null || deletedUpstream ? null : applyOverrides(current.source, overrides);
      return { ...current, overrides, manualDelete, data };
    }
  }
}

/** True when nothing a reader can see or a sync relies on would change: then nothing is written. */
export function sameState(a: RecordState, b: RecordState): boolean {
  return (
    jsonEqual(a.data, b.data) &&
    jsonEqual(a.manualDelete as JsonValue, b.manualDelete as JsonValue) &&
    jsonEqual(a.overrides as JsonValue, b.overrides as JsonValue)
  );
}

// The new state for a wanted effective value: overrides relative to the source value (none for a
// record made by hand, where every member is an override). A PUT revives a deleted record.
function desiredState(current: RecordState | null, desired: JsonObject, actor: Actor): RecordState {
  const source = current?.source ?? null;
  const previous = current?.data === null ? {} : (current?.overrides ?? {});
  const overrides = overridesFor(source, desired, previous, actor.by, actor.at);
  return {
    source,
    upstreamGone: current?.upstreamGone ?? false,
    overrides,
    manualDelete: null,
    data: desired,
  };
}

/** The PUT body with its id member checked against the URL's id, or set to it when absent. */
function withRecordId(idField: string, recordId: string, body: unknown): JsonObject {
  if (!isJsonObject(body)) throw new AppError('invalid_record', 'A record must be a JSON object');
  if (!Object.hasOwn(body, idField)) {
    // Spread defines properties, so an own "__proto__" could not sneak in as a prototype here.
    return checkStorable({ ...body, [idField]: recordId });
  }
  const id = body[idField];
  const same = typeof id === 'string' ? id === recordId : Number.isSafeInteger(id) && String(id) === recordId;
  if (!same) {
    throw new AppError(
      'invalid_record',
      `The body's "${idField}" (${JSON.stringify(id)}) does not match the record id in the URL (${JSON.stringify(recordId)})`,
    );
  }
  return checkStorable(body);
}

// A patch can nest a body below an already deep path, or copy a subtree into itself until the record
// is huge: the result is checked again, its size first (that walk is linear even for shared subtrees).
function checkStorable(value: JsonObject): JsonObject {
  const size = jsonByteLength(value, MAX_RECORD_BYTES);
  if (size > MAX_RECORD_BYTES) {
    throw new AppError(
      'record_too_large',
      `The record would be more than ${MAX_RECORD_BYTES} bytes of JSON; nothing was changed`,
      { limit: MAX_RECORD_BYTES },
    );
  }
  const [problem] = findUnsafeJson(value, { maxReports: 1 });
  if (problem) {
    throw new AppError(
      'unsafe_json',
      `At ${JSON.stringify(problem.pointer)}: ${UNSAFE_JSON_MESSAGES[problem.reason]}`,
      {
        errors: [{ pointer: problem.pointer, reason: problem.reason }],
      },
    );
  }
  return value;
}

function jsonPatch(data: JsonObject | null, patch: unknown): JsonValue {
  try {
    return applyJsonPatch(data as JsonObject, patch);
  } catch (error) {
    if (!(error instanceof JsonPatchError)) throw error;
    const operation = { index: error.index, op: error.op, path: error.path };
    const where =
      error.index >= 0 ? `operation ${error.index} (${error.op} ${error.path ?? ''})`.trim() : 'the patch';
    const code =
      error.code === 'invalid-patch'
        ? 'invalid_patch'
        : error.code === 'test-failed'
          ? 'patch_test_failed'
          : error.code === 'too-many-operations'
            ? 'payload_too_large'
            : 'patch_failed';
    const message = error.message.startsWith('operation ') ? error.message : `${where}: ${error.message}`;
    throw new AppError(code, `Nothing was changed: ${message}`, { operation, reason: error.code });
  }
}

function notFound(recordId: string): AppError {
  return new AppError('record_not_found', `No record ${JSON.stringify(recordId)}`);
}
