// The pure JSON toolkit shared by the records API and the sync engine: no I/O, no database.
// Values are treated as immutable everywhere (see types.ts).
export { diffFields, type FieldChange, unionOfKeys } from './diff.ts';
export { jsonEqual } from './equal.ts';
export {
  DEFAULT_MAX_REPORTS,
  type FindUnsafeJsonOptions,
  findImpreciseNumbers,
  findUnsafeJson,
  type ImpreciseNumber,
  MAX_JSON_DEPTH,
  mayHaveImpreciseNumbers,
  precisionProblem,
  UNSAFE_JSON_MESSAGES,
  type UnsafeJsonReason,
  type UnsafeJsonReport,
} from './inspect.ts';
export {
  type ApplyJsonPatchOptions,
  applyJsonPatch,
  JsonPatchError,
  type JsonPatchErrorCode,
  type JsonPatchOperation,
  type JsonPatchWork,
  MAX_JSON_PATCH_OPERATIONS,
  validateJsonPatch,
} from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export {
  applyOverrides,
  keepManual,
  memberAt,
  type Override,
  type OverrideConflict,
  type OverrideSet,
  overridesFor,
  type RebaseResult,
  rebaseOverrides,
  takeSource,
} from './overrides.ts';
export {
  appendPointer,
  escapePointerToken,
  formatPointer,
  getAt,
  isPointerPrefix,
  type JsonLookup,
  JsonPointerError,
  type JsonPointerErrorCode,
  parseArrayIndex,
  parsePointer,
} from './pointer.ts';
export { addAt, removeAt, replaceAt, withMember, withoutMember } from './pointer-edit.ts';
export { jsonByteLength, MAX_RECORD_BYTES } from './size.ts';
export { copyObject, getOwn, isJsonObject, type JsonObject, type JsonValue, setOwn } from './types.ts';
