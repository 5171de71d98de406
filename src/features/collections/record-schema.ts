import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import addFormats from 'ajv-formats';
import { RE2JS } from 're2js';
import type { Database } from '../../db/database.ts';
import { readAsTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';

/** One reason a value does not fit a collection's schema: where (a JSON Pointer) and why. */
export interface SchemaFailure {
  pointer: string;
  message: string;
}

/** A compiled schema: null when the value fits, else its failures (at most MAX_FAILURES). */
export type RecordValidator = (value: unknown) => SchemaFailure[] | null;

/** Failures kept per value: enough to fix a record, not a wall of text. */
const MAX_FAILURES = 10;
/** A schema's JSON text may be at most this long (it is compiled to code in this process). */
export const MAX_SCHEMA_BYTES = 256 * 1024;

/**
 * `pattern` and `patternProperties` run on RE2's linear-time engine: a tenant's schema is untrusted,
 * and a backtracking pattern such as `^(a+)+$` would hold the event loop for every tenant. RE2 has no
 * lookaround or backreferences; a schema using them is refused when saved.
 */
const linearRegExp: RegExpEngine = Object.assign((pattern: string) => RE2JS.compile(pattern), {
  code: 're2js.RE2JS.compile',
});

// One Ajv per process: compiled schemas are cached by their text (below), and Ajv keeps what it
// compiled, so the instance is reset when the cache is.
let ajv = newAjv();
const compiled = new Map<string, RecordValidator>();
const MAX_COMPILED = 200;

function newAjv(): Ajv2020 {
  // strict: false: real-world schemas carry annotations Ajv does not know (e.g. "example").
  // No loadSchema: a $ref is never fetched, only resolved inside the schema.
  const instance = new Ajv2020({
    allErrors: true,
    strict: false,
    validateFormats: true,
    code: { regExp: linearRegExp },
  });
  (addFormats as unknown as (a: Ajv2020) => Ajv2020)(instance);
  return instance;
}

/**
 * Compiles a JSON Schema (2020-12) once per distinct text; an invalid schema is a 422 invalid_schema.
 *
 * @example
 * const validate = compileRecordSchema({ type: 'object', properties: { price: { type: 'number' } } });
 * validate({ price: '1' }); // [{ pointer: '/price', message: 'must be number' }]
 */
export function compileRecordSchema(schema: unknown): RecordValidator {
  const text = JSON.stringify(schema);
  const cached = compiled.get(text);
  if (cached) return cached;
  if (text.length > MAX_SCHEMA_BYTES)
    throw new AppError('invalid_schema', `the schema is larger than ${MAX_SCHEMA_BYTES} bytes`);
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    throw new AppError('invalid_schema', 'the schema must be a JSON object');
  if (compiled.size >= MAX_COMPILED) {
    compiled.clear();
    ajv = newAjv();
  }
  let check: ReturnType<Ajv2020['compile']>;
  try {
    if (!ajv.validateSchema(schema)) {
      throw new AppError('invalid_schema', `the schema does not fit JSON Schema 2020-12`, {
        errors: failuresOf(ajv.errors ?? []),
      });
    }
    // A schema may carry an $id; the same id twice would clash inside the one Ajv instance.
    const { $id: _ignored, ...withoutId } = schema as Record<string, unknown>;
    check = ajv.compile(withoutId);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('invalid_schema', `the schema cannot be compiled: ${(error as Error).message}`);
  }
  const validate: RecordValidator = (value) => (check(value) ? null : failuresOf(check.errors ?? []));
  compiled.set(text, validate);
  return validate;
}

function failuresOf(errors: ErrorObject[]): SchemaFailure[] {
  return errors.slice(0, MAX_FAILURES).map((error) => {
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    const pointer =
      missing === undefined ? error.instancePath : `${error.instancePath}/${escapePointer(missing)}`;
    return { pointer: pointer === '' ? '' : pointer, message: error.message ?? error.keyword };
  });
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The failures of one value as the detail of a 422 schema_violation. */
export function schemaViolation(failures: SchemaFailure[]): AppError {
  const first = failures[0]!;
  return new AppError(
    'schema_violation',
    `the record would not fit the collection's schema: ${first.pointer || '(the record)'} ${first.message}`,
    { errors: failures },
  );
}

/** How long a schema read for an edit is trusted in a process that did not change it. */
const SCHEMA_TTL_MS = 1000;

/**
 * The collections' schemas as edits check them: read once a second at most per collection, and
 * forgotten at once when this process changes the collection's settings. Another process's change
 * may take up to SCHEMA_TTL_MS to apply to this one's edits (docs/querying.md).
 */
export class CollectionSchemas {
  private readonly cache = new Map<string, { at: number; validate: RecordValidator | null }>();

  constructor(private readonly db: Database) {}

  async validatorFor(tenantId: string, collection: string): Promise<RecordValidator | null> {
    const key = `${tenantId}\u0000${collection}`;
    const hit = this.cache.get(key);
    const now = performance.now();
    if (hit && now - hit.at < SCHEMA_TTL_MS) return hit.validate;
    const [row] = await readAsTenant(this.db, tenantId, (tx) =>
      tx.query<{ record_schema: unknown }>(
        'SELECT record_schema FROM collections WHERE tenant_id = $1 AND name = $2',
        [tenantId, collection],
      ),
    );
    const schema = row?.record_schema ?? null;
    const validate = schema === null ? null : compileRecordSchema(schema);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: now, validate });
    return validate;
  }

  forget(tenantId: string, collection: string): void {
    this.cache.delete(`${tenantId}\u0000${collection}`);
  }
}
