/**
 * The error catalog: every error a user can cause, with its HTTP status and title. Services throw
 * `AppError(code)`; only src/http/ turns one into problem+json, and the CLI maps it to exit code 1.
 * A test checks codes are unique and each is documented in docs/errors.md.
 */
export const ERROR_CATALOG = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The body is not valid JSON' },
  unsafe_json: { status: 422, title: 'The JSON holds a value that cannot be stored exactly' },
  invalid_cursor: { status: 400, title: 'The pagination cursor is not valid' },
  invalid_patch: { status: 400, title: 'The patch document is not valid' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'The API key lacks the scope for this operation' },
  csrf_header_missing: {
    status: 403,
    title: 'A change authenticated by the session cookie lacks the CSRF header',
  },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  console_not_built: { status: 404, title: 'The web console has not been built' },
  tenant_not_found: { status: 404, title: 'Tenant not found' },
  api_key_not_found: { status: 404, title: 'API key not found' },
  collection_not_found: { status: 404, title: 'Collection not found' },
  record_not_found: { status: 404, title: 'Record not found' },
  override_not_found: { status: 404, title: 'The record has no override at this path' },
  snapshot_not_found: { status: 404, title: 'Snapshot not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed on this route' },
  tenant_exists: { status: 409, title: 'A tenant with this slug already exists' },
  sync_in_progress: { status: 409, title: 'Another sync of this collection is running' },
  patch_test_failed: { status: 409, title: 'A test operation of the JSON Patch failed' },
  no_source_value: { status: 409, title: 'The record was made by hand and has no source value to revert to' },
  precondition_failed: { status: 412, title: 'The resource changed since the given ETag' },
  body_timeout: { status: 408, title: 'The request body stopped arriving' },
  too_many_syncs: { status: 429, title: 'Too many syncs of this tenant at once' },
  payload_too_large: { status: 413, title: 'The body is larger than this route accepts' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  feed_invalid: { status: 422, title: 'The feed has invalid records; nothing was applied' },
  delete_guard: { status: 409, title: 'The sync would delete more records than the delete guard allows' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used with another request' },
  sync_not_found: { status: 404, title: 'Sync run not found' },
  run_not_revertable: { status: 409, title: 'The sync run applied nothing that can be reverted' },
  run_not_held: { status: 409, title: 'The sync run is not held for approval' },
  collection_changed: { status: 409, title: 'The collection changed since the held run was planned' },
  sync_held: { status: 409, title: 'The sync tripped a guard and is held for approval' },
  run_history_expired: { status: 410, title: 'The sync run is older than the history kept' },
  conflict_not_found: { status: 404, title: 'Conflict not found' },
  conflict_resolved: { status: 409, title: 'The conflict is already resolved' },
  id_field_locked: { status: 409, title: 'The id field of a collection that holds records cannot change' },
  unprocessable: { status: 422, title: 'The request cannot be carried out' },
  patch_failed: { status: 422, title: 'The patch cannot be applied to this record' },
  invalid_record: { status: 422, title: 'The result is not a valid record' },
  record_too_large: { status: 422, title: 'The record is larger than a record may be' },
  feed_url_refused: { status: 422, title: 'The feed URL points at an address the server will not fetch' },
  invalid_schedule: { status: 400, title: 'The schedule is not a valid cron expression' },
  source_not_found: { status: 404, title: 'The collection has no such source' },
  webhook_not_found: { status: 404, title: 'Webhook not found' },
  webhook_url_refused: {
    status: 422,
    title: 'The webhook URL points at an address the server will not call',
  },
  cursor_expired: { status: 410, title: 'The change feed cursor is older than the history kept' },
  as_of_out_of_retention: { status: 422, title: 'The history at that time is no longer kept' },
  invalid_filter: { status: 400, title: 'The filter, sort or fields parameter is not valid' },
  index_required: { status: 422, title: 'No index serves this filter or sort on a collection this large' },
  invalid_schema: { status: 422, title: 'The collection schema is not a valid JSON Schema' },
  schema_violation: { status: 422, title: "The record would not fit the collection's schema" },
  rate_limited: { status: 429, title: 'Too many requests for this API key' },
  internal_error: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'The service is shutting down or not ready' },
  schema_mismatch: { status: 503, title: 'The database schema does not match this build' },
  database_unavailable: { status: 503, title: 'The database does not answer' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class AppError extends Error {
  readonly status: number;
  readonly title: string;

  /** `extensions` are extra members of the problem document, e.g. `{ errors: [...] }`. */
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    const entry = ERROR_CATALOG[code];
    super(detail ?? entry.title);
    this.status = entry.status;
    this.title = entry.title;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
