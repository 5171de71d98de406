import { AppError } from '../../errors.ts';
import { findUnsafeJson } from '../../json/index.ts';

/**
 * Record filters (GET …/records?filter=…), Directus-style, compiled to parameterised SQL over the
 * effective value. No text from the input ever becomes SQL: field paths are bound `text[]`
 * parameters for `#>`, values bound jsonb. docs/querying.md is the user's description.
 *
 * @example
 * const params = new SqlParams(['tenant', 'collection']);
 * const filter = parseFilter('{"price":{"_lt":20},"category":{"_in":["a","b"]}}');
 * compileFilter(filter, params, 'v'); // "((v #> $3::text[]) = …)"
 */

/** Limits a filter must stay within (documented in docs/querying.md). */
export const FILTER_LIMITS = {
  /** Operator clauses in one filter (`_and`/`_or` count as one each). */
  clauses: 100,
  /** Nesting of `_and`/`_or`. */
  depth: 8,
  /** Values in one `_in`/`_nin` list. */
  listValues: 1000,
  /** Segments of a dotted field name. */
  pathSegments: 16,
};

/** A field segment: letters, digits, `_`, `-`, `$` (an array index is a number). */
const SEGMENT = /^[A-Za-z0-9_$-]{1,128}$/;

export type FieldOperator =
  | '_eq'
  | '_neq'
  | '_lt'
  | '_lte'
  | '_gt'
  | '_gte'
  | '_in'
  | '_nin'
  | '_null'
  | '_nnull'
  | '_contains'
  | '_starts_with';

const FIELD_OPERATORS = new Set<string>([
  '_eq',
  '_neq',
  '_lt',
  '_lte',
  '_gt',
  '_gte',
  '_in',
  '_nin',
  '_null',
  '_nnull',
  '_contains',
  '_starts_with',
]);

export type Filter =
  | { kind: 'and' | 'or'; of: Filter[] }
  | { kind: 'field'; field: string; path: string[]; op: FieldOperator; value: unknown };

/** Positional parameters of one statement; `add` returns the placeholder. */
export class SqlParams {
  constructor(readonly values: unknown[] = []) {}
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function invalid(detail: string, part: string): AppError {
  return new AppError('invalid_filter', detail, { part });
}

/** A dotted field name as `#>` path segments; 400 naming `part` when it is not one. */
export function parseFieldPath(field: string, part: string): string[] {
  const path = field.split('.');
  if (path.length > FILTER_LIMITS.pathSegments || !path.every((segment) => SEGMENT.test(segment))) {
    throw invalid(
      `${JSON.stringify(field.slice(0, 200))} is not a field name (dotted segments of letters, digits, _ - $; at most ${FILTER_LIMITS.pathSegments})`,
      part,
    );
  }
  return path;
}

/** Parses the `filter` query parameter (JSON text) into a Filter; 400 naming the part on any fault. */
export function parseFilter(text: string): Filter {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(`filter is not valid JSON: ${(error as Error).message}`, 'filter');
  }
  if (findUnsafeJson(parsed).length > 0)
    throw invalid('filter holds a value the database cannot store (NUL or a lone surrogate)', 'filter');
  const counter = { clauses: 0 };
  return parseGroup(parsed, 'filter', 0, counter);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseGroup(value: unknown, part: string, depth: number, counter: { clauses: number }): Filter {
  if (!isPlainObject(value)) throw invalid(`${part} must be an object`, part);
  if (depth > FILTER_LIMITS.depth)
    throw invalid(`${part}: _and/_or nested deeper than ${FILTER_LIMITS.depth}`, part);
  const of: Filter[] = [];
  for (const [key, inner] of Object.entries(value)) {
    const at = `${part}.${key}`;
    if (key === '_and' || key === '_or') {
      count(counter, at);
      if (!Array.isArray(inner) || inner.length === 0)
        throw invalid(`${at} must be a non-empty array of filters`, at);
      if (inner.length > FILTER_LIMITS.clauses) throw tooMany(at);
      const items = inner.map((item, i) => parseGroup(item, `${at}[${i}]`, depth + 1, counter));
      of.push({ kind: key === '_and' ? 'and' : 'or', of: items });
    } else if (key.startsWith('_')) {
      throw invalid(`unknown operator ${JSON.stringify(key.slice(0, 64))} at ${part}`, at);
    } else {
      const path = parseFieldPath(key, at);
      if (!isPlainObject(inner) || Object.keys(inner).length === 0)
        throw invalid(`${at} must be an object of operators, e.g. {"_eq": 1}`, at);
      for (const [op, operand] of Object.entries(inner)) {
        const opAt = `${at}.${op}`;
        if (!FIELD_OPERATORS.has(op))
          throw invalid(`unknown operator ${JSON.stringify(op.slice(0, 64))} at ${at}`, opAt);
        count(counter, opAt);
        checkOperand(op as FieldOperator, operand, opAt);
        of.push({ kind: 'field', field: key, path, op: op as FieldOperator, value: operand });
      }
    }
  }
  if (of.length === 0) throw invalid(`${part} is empty`, part);
  return of.length === 1 ? of[0]! : { kind: 'and', of };
}

function count(counter: { clauses: number }, part: string): void {
  if (++counter.clauses > FILTER_LIMITS.clauses) throw tooMany(part);
}

function tooMany(part: string): AppError {
  return invalid(`the filter has more than ${FILTER_LIMITS.clauses} clauses`, part);
}

function checkOperand(op: FieldOperator, value: unknown, part: string): void {
  switch (op) {
    case '_lt':
    case '_lte':
    case '_gt':
    case '_gte':
      if (typeof value !== 'number' && typeof value !== 'string')
        throw invalid(`${op} compares numbers or strings`, part);
      return;
    case '_in':
    case '_nin':
      if (!Array.isArray(value)) throw invalid(`${op} takes an array`, part);
      if (value.length > FILTER_LIMITS.listValues)
        throw invalid(`${op} takes at most ${FILTER_LIMITS.listValues} values`, part);
      return;
    case '_null':
    case '_nnull':
      if (typeof value !== 'boolean') throw invalid(`${op} takes true or false`, part);
      return;
    case '_starts_with':
      if (typeof value !== 'string') throw invalid(`${op} takes a string`, part);
      return;
    case '_eq':
    case '_neq':
    case '_contains':
      return;
  }
}

/** The fields the filter tests with an operator an index on the field can serve, top-level ANDs only. */
export function indexableFields(filter: Filter): string[] {
  if (filter.kind === 'field')
    return ['_eq', '_lt', '_lte', '_gt', '_gte', '_in'].includes(filter.op) ? [filter.field] : [];
  if (filter.kind === 'and') return filter.of.flatMap(indexableFields);
  return [];
}

/**
 * The filter as a SQL condition over `value` (an SQL expression of the effective value, jsonb).
 * A missing field is SQL NULL (`#>`); JSON null is the jsonb `null`.
 */
export function compileFilter(filter: Filter, params: SqlParams, value: string): string {
  if (filter.kind !== 'field') {
    const joiner = filter.kind === 'and' ? ' AND ' : ' OR ';
    return `(${filter.of.map((f) => compileFilter(f, params, value)).join(joiner)})`;
  }
  const field = `(${value} #> ${params.add(filter.path)}::text[])`;
  const operand = filter.value;
  switch (filter.op) {
    case '_eq':
      return `(${field} = ${json(params, operand)})`;
    case '_neq':
      return `(${field} IS DISTINCT FROM ${json(params, operand)})`;
    case '_lt':
    case '_lte':
    case '_gt':
    case '_gte': {
      const sign = { _lt: '<', _lte: '<=', _gt: '>', _gte: '>=' }[filter.op];
      const below = filter.op === '_lt' || filter.op === '_lte';
      const fence =
        typeof operand === 'number'
          ? below
            ? NUMBERS_FROM
            : NUMBERS_BELOW
          : below
            ? STRINGS_FROM
            : STRINGS_BELOW;
      return `(${field} ${sign} ${json(params, operand)} AND ${field} ${fence})`;
    }
    case '_in':
      return `(${field} = ANY(${params.add((operand as unknown[]).map((v) => JSON.stringify(v)))}::text[]::jsonb[]))`;
    case '_nin':
      return `(${field} IS NULL OR NOT (${field} = ANY(${params.add((operand as unknown[]).map((v) => JSON.stringify(v)))}::text[]::jsonb[])))`;
    case '_null':
    case '_nnull': {
      const isNull = `(${field} IS NULL OR ${field} = 'null'::jsonb)`;
      return (filter.op === '_null') === operand ? isNull : `(NOT ${isNull})`;
    }
    case '_contains': {
      const element = json(params, operand);
      const substring =
        typeof operand === 'string'
          ? `WHEN 'string' THEN strpos(${field} #>> '{}', ${params.add(operand)}) > 0`
          : '';
      return `(CASE jsonb_typeof(${field}) ${substring}
                 WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(${field}) e WHERE e = ${element})
                 ELSE false END)`;
    }
    case '_starts_with':
      return `(jsonb_typeof(${field}) = 'string' AND starts_with(${field} #>> '{}', ${params.add(operand)}))`;
  }
}

// A range compares within the operand's type only. jsonb orders across types (null < strings <
// numbers < booleans < …), so the other side of the range is fenced at the type's edge, which keeps
// the whole condition an index range whose size the planner estimates from the index's statistics
// (a jsonb_typeof() test beside it was estimated at 0.5% of the rows, and the planner then sorted
// instead of walking the index). -1e131071 is the smallest number PostgreSQL's numeric holds.
const NUMBERS_FROM = `>= '-1e131071'::jsonb`;
const NUMBERS_BELOW = `< 'false'::jsonb`;
const STRINGS_FROM = `> 'null'::jsonb`;
const STRINGS_BELOW = `< '-1e131071'::jsonb`;

function json(params: SqlParams, value: unknown): string {
  return `${params.add(JSON.stringify(value))}::jsonb`;
}
