import type { Statement } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import { findUnsafeJson } from '../../json/index.ts';
import {
  compileFilter,
  type Filter,
  indexableFields,
  parseFieldPath,
  parseFilter,
  SqlParams,
} from './record-filter.ts';

/**
 * A record listing with a filter, a sort, a projection or record-state filters (docs/querying.md):
 * the query parameters, checked, and the SQL they compile to. The plain listing (none of these) keeps
 * its own faster path (pages_effective_as_tenant).
 */
export interface RecordQuery {
  filter: Filter | null;
  sort: { text: string; field: string; path: string[]; descending: boolean } | null;
  /** Top-level members to keep (the id field always comes along). */
  fields: string[] | null;
  overridden?: boolean;
  conflicts?: 'open';
  upstreamGone?: boolean;
  deleted?: boolean;
}

export interface RecordQueryParams {
  filter?: string;
  sort?: string;
  fields?: string;
  overridden?: boolean;
  conflicts?: 'open';
  upstreamGone?: boolean;
  deleted?: boolean;
}

const MAX_FIELDS = 100;

/** The parsed query, or null for the plain listing. Bad input is a 400 naming the parameter. */
export function parseRecordQuery(q: RecordQueryParams): RecordQuery | null {
  const plain =
    q.filter === undefined &&
    q.sort === undefined &&
    q.fields === undefined &&
    q.overridden === undefined &&
    q.conflicts === undefined &&
    q.upstreamGone === undefined &&
    q.deleted === undefined;
  if (plain) return null;
  const query: RecordQuery = {
    filter: q.filter === undefined ? null : parseFilter(q.filter),
    sort: q.sort === undefined ? null : parseSort(q.sort),
    fields: q.fields === undefined ? null : parseFields(q.fields),
  };
  if (q.overridden !== undefined) query.overridden = q.overridden;
  if (q.conflicts !== undefined) query.conflicts = q.conflicts;
  if (q.upstreamGone !== undefined) query.upstreamGone = q.upstreamGone;
  if (q.deleted) query.deleted = true;
  return query;
}

function parseSort(text: string): NonNullable<RecordQuery['sort']> {
  const descending = text.startsWith('-');
  const field = descending ? text.slice(1) : text;
  return { text, field, path: parseFieldPath(field, 'sort'), descending };
}

function parseFields(text: string): string[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.length > MAX_FIELDS)
    throw new AppError('invalid_filter', `fields names at most ${MAX_FIELDS} members`, { part: 'fields' });
  for (const name of names) {
    const path = parseFieldPath(name, 'fields');
    if (path.length !== 1)
      throw new AppError('invalid_filter', `fields takes top-level member names, not "${name}"`, {
        part: 'fields',
      });
  }
  return names;
}

/** Whether this query needs a declared index to run on a large collection (none of `ready` serves it). */
export function needsIndex(query: RecordQuery, ready: ReadonlySet<string>): boolean {
  if (servedByBuiltInIndex(query)) return false;
  return servingIndexes(query, ready).length === 0 && (query.filter !== null || query.sort !== null);
}

/** The fields of `ready` whose index can serve this query's sort or filter. */
export function servingIndexes(query: RecordQuery, ready: ReadonlySet<string>): string[] {
  const fields = new Set<string>();
  if (query.sort && ready.has(query.sort.field)) fields.add(query.sort.field);
  if (query.filter)
    for (const field of indexableFields(query.filter)) if (ready.has(field)) fields.add(field);
  return [...fields];
}

/** Partial indexes of migration 0004 (and conflicts' own) serve these on any size. */
function servedByBuiltInIndex(query: RecordQuery): boolean {
  return (
    query.conflicts === 'open' || query.overridden === true || query.upstreamGone === true || !!query.deleted
  );
}

/**
 * Where a sorted listing stopped: the last sort value as jsonb text (kept as text: a number parsed in
 * JS may lose digits; absent: among the records without the field) and the last id.
 */
export interface SortCursor {
  value?: string;
  id: string;
}

export function encodeSortCursor(sort: string, cursor: SortCursor): string {
  return Buffer.from(JSON.stringify({ s: sort, ...cursor })).toString('base64url');
}

export function decodeSortCursor(sort: string, text: string | undefined): SortCursor | null {
  if (text === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const { s, id, value } = parsed as { s?: unknown; id?: unknown; value?: unknown };
      // The value goes back to the database as jsonb: it must parse.
      const valueOk = value === undefined || (typeof value === 'string' && JSON.parse(value) !== undefined);
      if (s === sort && typeof id === 'string' && valueOk && findUnsafeJson(parsed).length === 0) {
        return value === undefined ? { id } : { id, value };
      }
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('invalid_cursor', 'The cursor is not one this API returned for this sort');
}

export interface QueryTarget {
  tenantId: string;
  collectionId: string;
  idField: string;
  /**
   * What the target was found with, for a target kept between requests: the page then reads nothing
   * unless the collection still has this name and id field, and (when `readyIndexOn` names fields)
   * one of those fields' indexes is still ready, so that a stale target costs an empty page, never
   * another collection's records or an unindexed scan (record-queries.ts).
   */
  expect?: { name: string; readyIndexOn: string[] };
}

/**
 * One page's statement. For a sort, `part` says which of its two walks: the records that have the
 * field (by value, ties by id in the same direction), then those without it (by id): each is a
 * keyset walk an index on (value, id) serves, and missing values come last either way.
 */
export function pageStatement(
  target: QueryTarget,
  query: RecordQuery,
  after: SortCursor | null,
  limit: number,
  part: 'valued' | 'missing' = 'valued',
): Statement {
  const params = new SqlParams([target.tenantId, target.collectionId]);
  const value = query.deleted ? 'r.source' : 'effective_value(r.data, r.source)';
  const where = [
    'r.tenant_id = $1',
    'r.collection_id = $2',
    query.deleted ? 'r.data IS NULL' : 'r.data IS NOT NULL',
  ];
  if (query.overridden === true) where.push(`(r.overrides <> '{}'::jsonb OR r.manual_delete IS NOT NULL)`);
  if (query.overridden === false) where.push(`r.overrides = '{}'::jsonb AND r.manual_delete IS NULL`);
  if (query.upstreamGone === true) where.push('r.upstream_gone');
  if (query.upstreamGone === false) where.push('NOT r.upstream_gone');
  if (query.conflicts === 'open') {
    where.push(`EXISTS (SELECT 1 FROM conflicts f WHERE f.tenant_id = $1 AND f.collection_id = $2
                   AND f.record_id = r.record_id AND f.status = 'open')`);
  }
  if (target.expect) {
    // Uncorrelated: each is checked once, before any record is read (a one-time filter).
    where.push(`EXISTS (SELECT 1 FROM collections c WHERE c.tenant_id = $1 AND c.id = $2
                   AND c.name = ${params.add(target.expect.name)} AND c.id_field = ${params.add(target.idField)})`);
    if (target.expect.readyIndexOn.length > 0)
      where.push(`EXISTS (SELECT 1 FROM collection_indexes i WHERE i.tenant_id = $1 AND i.collection_id = $2
                     AND i.field = ANY(${params.add(target.expect.readyIndexOn)}::text[]) AND i.state = 'ready')`);
  }
  if (query.filter) where.push(compileFilter(query.filter, params, value));

  const whole = query.deleted
    ? `COALESCE(r.source, jsonb_build_object(${params.add(target.idField)}::text, r.record_id))`
    : value;
  const item = query.fields
    ? `COALESCE((SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(${whole}) e
                  WHERE e.key = ANY(${params.add([target.idField, ...query.fields])}::text[])), '{}'::jsonb)`
    : whole;

  let order = 'r.record_id';
  let sortValue = 'NULL::text';
  if (query.sort) {
    const field = `(${value} #> ${params.add(query.sort.path)}::text[])`;
    if (part === 'valued') {
      const direction = query.sort.descending ? ' DESC' : '';
      where.push(`${field} IS NOT NULL`);
      if (after)
        where.push(
          `(${field}, r.record_id) ${query.sort.descending ? '<' : '>'} (${params.add(after.value)}::jsonb, ${params.add(after.id)})`,
        );
      order = `${field}${direction}, r.record_id${direction}`;
      sortValue = `${field}::text`;
    } else {
      where.push(`${field} IS NULL`);
      if (after) where.push(`r.record_id > ${params.add(after.id)}`);
    }
  } else if (after) {
    where.push(`r.record_id > ${params.add(after.id)}`);
  }
  return {
    text: `SELECT r.record_id, ${sortValue} AS sort_value, (${item})::text AS item FROM records r
            WHERE ${where.join('\n              AND ')}
            ORDER BY ${order} LIMIT ${params.add(limit)}`,
    values: params.values,
    prepare: false,
  };
}
