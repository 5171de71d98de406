// The records page's query: what the person asked for, kept in the page's URL (so it can be shared and
// reloaded), and turned into the parameters of GET /v1/collections/{c}/records (docs/querying.md).

export const OPERATORS = {
  _eq: 'equals',
  _neq: 'does not equal',
  _lt: '<',
  _lte: '≤',
  _gt: '>',
  _gte: '≥',
  _in: 'is one of',
  _nin: 'is none of',
  _contains: 'contains',
  _starts_with: 'starts with',
  _null: 'is missing or null',
  _nnull: 'is present',
} as const;

export type Operator = keyof typeof OPERATORS;

/** Operators that take no value: the condition is the operator itself. */
export const VALUELESS: ReadonlySet<Operator> = new Set(['_null', '_nnull']);
/** Operators whose value is a list, typed comma-separated. */
export const LISTS: ReadonlySet<Operator> = new Set(['_in', '_nin']);

export interface Condition {
  field: string;
  op: Operator;
  /** As typed: parsed by parseValue when the query is sent. */
  value: string;
}

export const STATES = {
  overridden: 'with manual changes',
  conflicts: 'with an open conflict',
  upstreamGone: 'gone from the last full feed',
  deleted: 'deleted (their last source value)',
} as const;

export type State = keyof typeof STATES;

export interface RecordQuery {
  prefix: string;
  conditions: Condition[];
  /** A field, `-field` for descending; '' for id order. */
  sort: string;
  /** Comma-separated top-level fields to show; '' for the page's most common ones. */
  fields: string;
  states: State[];
}

export const EMPTY_QUERY: RecordQuery = { prefix: '', conditions: [], sort: '', fields: '', states: [] };

function isOperator(op: string): op is Operator {
  return Object.hasOwn(OPERATORS, op);
}

/**
 * Reads the query from the page's URL: `?prefix=p&where=price:_gte:10&sort=-price&state=overridden`.
 * Field names cannot hold a colon (the API allows letters, digits, `_ - $` and dots), so the first two
 * colons split a condition and the value keeps any others.
 */
export function fromSearch(search: URLSearchParams): RecordQuery {
  const conditions: Condition[] = [];
  for (const where of search.getAll('where')) {
    const first = where.indexOf(':');
    const second = where.indexOf(':', first + 1);
    if (first < 1 || second < 0) continue;
    const op = where.slice(first + 1, second);
    if (isOperator(op)) conditions.push({ field: where.slice(0, first), op, value: where.slice(second + 1) });
  }
  return {
    prefix: search.get('prefix') ?? '',
    conditions,
    sort: search.get('sort') ?? '',
    fields: search.get('fields') ?? '',
    states: search.getAll('state').filter((state): state is State => Object.hasOwn(STATES, state)),
  };
}

export function toSearch(query: RecordQuery): string {
  const search = new URLSearchParams();
  if (query.prefix) search.set('prefix', query.prefix);
  for (const c of query.conditions) {
    if (c.field.trim())
      search.append('where', `${c.field.trim()}:${c.op}:${VALUELESS.has(c.op) ? '' : c.value}`);
  }
  if (query.sort.trim()) search.set('sort', query.sort.trim());
  if (query.fields.trim()) search.set('fields', query.fields.trim());
  for (const state of query.states) search.append('state', state);
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * A typed value as JSON when it reads as JSON (`10`, `true`, `null`, `"10"`, `[1,2]`), else as the
 * string typed: `Chair` is the string, `10` the number, `"10"` the string "10".
 */
export function parseValue(text: string): unknown {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

function operand(condition: Condition): unknown {
  if (VALUELESS.has(condition.op)) return true;
  if (LISTS.has(condition.op)) {
    const parsed = parseValue(condition.value);
    if (Array.isArray(parsed)) return parsed;
    return condition.value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map(parseValue);
  }
  return parseValue(condition.value);
}

/** The `query` of GET …/records, without paging. The conditions are ANDed. */
export function toApiQuery(query: RecordQuery, idField: string) {
  const clauses: Record<string, unknown>[] = [];
  if (query.prefix) clauses.push({ [idField]: { _starts_with: query.prefix } });
  for (const condition of query.conditions) {
    if (condition.field.trim())
      clauses.push({ [condition.field.trim()]: { [condition.op]: operand(condition) } });
  }
  const filter = clauses.length === 0 ? undefined : clauses.length === 1 ? clauses[0] : { _and: clauses };
  const states = new Set(query.states);
  return {
    ...(filter ? { filter: JSON.stringify(filter) } : {}),
    ...(query.sort.trim() ? { sort: query.sort.trim() } : {}),
    ...(query.fields.trim() ? { fields: query.fields.replace(/\s+/g, '') } : {}),
    ...(states.has('overridden') ? { overridden: true } : {}),
    ...(states.has('conflicts') ? { conflicts: 'open' as const } : {}),
    ...(states.has('upstreamGone') ? { upstreamGone: true } : {}),
    ...(states.has('deleted') ? { deleted: true } : {}),
  };
}

/** Whether the page shows the plain listing (id order, nothing left out). */
export function isPlain(query: RecordQuery): boolean {
  return toSearch(query) === '';
}

/** The fields the query names (filters first, then the sort), to show them as columns. */
export function namedFields(query: RecordQuery): string[] {
  const names = query.conditions.map((c) => c.field.trim().split('.')[0] ?? '');
  const sort = query.sort.trim().replace(/^-/, '').split('.')[0] ?? '';
  return [...new Set([...names, sort])].filter((name) => name !== '');
}
