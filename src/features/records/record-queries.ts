import type { Database, Statement } from '../../db/database.ts';
import { readAsTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../http/pagination.ts';
import {
  decodeSortCursor,
  encodeSortCursor,
  needsIndex,
  pageStatement,
  type QueryTarget,
  type RecordQuery,
  type SortCursor,
  servingIndexes,
} from './record-query.ts';

type PageRow = { record_id: string; sort_value: string | null; item: string };

interface FoundTarget {
  id: string;
  idField: string;
  ready: ReadonlySet<string>;
}

/** Collections whose target a RecordQueries keeps (the least recently found goes first). */
const KEPT_TARGETS = 1000;

const targetKey = (tenantId: string, collection: string) => `${tenantId}/${collection}`;

function sameTarget(a: FoundTarget, b: FoundTarget): boolean {
  return (
    a.id === b.id &&
    a.idField === b.idField &&
    a.ready.size === b.ready.size &&
    [...a.ready].every((field) => b.ready.has(field))
  );
}

const findTarget = (tenantId: string, name: string): Statement => ({
  text: `SELECT c.id, c.id_field,
                COALESCE((SELECT array_agg(i.field) FROM collection_indexes i
                           WHERE i.tenant_id = c.tenant_id AND i.collection_id = c.id AND i.state = 'ready'),
                         '{}') AS ready
           FROM collections c WHERE c.tenant_id = $1 AND c.name = $2`,
  values: [tenantId, name],
});

/** At most `limit` of the collection's record rows, counted (an index-only walk of its key). */
const countUpTo = (tenantId: string, collectionId: string, limit: number): Statement => ({
  text: `SELECT count(*)::int AS n FROM (SELECT 1 FROM records
           WHERE tenant_id = $1 AND collection_id = $2 LIMIT $3) x`,
  values: [tenantId, collectionId, limit],
});

/**
 * Listings with a filter, sort, projection or record-state filter (record-query.ts). Each page is
 * a keyset walk (no OFFSET): stable while others write, as the plain listing is.
 */
export class RecordQueries {
  constructor(
    private readonly db: Database,
    private readonly options: { unindexedQueryLimit: number },
  ) {}

  private readonly targets = new Map<string, FoundTarget>();

  async page(
    tenantId: string,
    collection: string,
    query: RecordQuery,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ items: string; next: string | null }> {
    const sortCursor = query.sort ? decodeSortCursor(query.sort.text, cursor) : null;
    const after = query.sort ? null : decodeCursor(cursor);
    let found = this.targets.get(targetKey(tenantId, collection));
    let fresh = found === undefined;
    if (!found) found = await this.lookUp(tenantId, collection);
    for (;;) {
      if (needsIndex(query, found.ready)) {
        if (!fresh) {
          found = await this.lookUp(tenantId, collection);
          fresh = true;
          continue;
        }
        await this.refuseLarge({ tenantId, collectionId: found.id, idField: found.idField }, query);
      }
      const target: QueryTarget = {
        tenantId,
        collectionId: found.id,
        idField: found.idField,
        expect: { name: collection, readyIndexOn: servingIndexes(query, found.ready) },
      };
      const page = await this.pageOf(target, query, after, sortCursor, limit);
      // An empty page from a kept target may be a stale one (its checks in the statement failed).
      if (page.items !== '' || fresh) return page;
      const now = await this.lookUp(tenantId, collection);
      if (sameTarget(now, found)) return page;
      found = now;
      fresh = true;
    }
  }

  /**
   * The collection's id, id field and ready indexes, found under the tenant's row-level security, and
   * kept for the next request: each page statement checks them again itself (QueryTarget.expect), so a
   * request costs one statement while they hold.
   */
  private async lookUp(tenantId: string, collection: string): Promise<FoundTarget> {
    const key = targetKey(tenantId, collection);
    const [row] = await readAsTenant(this.db, tenantId, (tx) =>
      tx.query<{ id: string; id_field: string; ready: string[] }>(findTarget(tenantId, collection)),
    );
    this.targets.delete(key);
    if (!row) throw new AppError('collection_not_found', `No collection "${collection}"`);
    const found = { id: row.id, idField: row.id_field, ready: new Set(row.ready) };
    if (this.targets.size >= KEPT_TARGETS) this.targets.delete(this.targets.keys().next().value!);
    this.targets.set(key, found);
    return found;
  }

  private async pageOf(
    target: QueryTarget,
    query: RecordQuery,
    after: string | null,
    sortCursor: SortCursor | null,
    limit: number,
  ): Promise<{ items: string; next: string | null }> {
    if (!query.sort) {
      const rows = await this.read(
        pageStatement(target, query, after === null ? null : { id: after }, limit + 1),
      );
      const page = rows.slice(0, limit);
      const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.record_id) : null;
      return { items: page.map((row) => row.item).join(','), next };
    }
    // The records that have the sort field, then those without it (record-query.ts pageStatement).
    const rows: Array<PageRow & { missing?: true }> = [];
    if (sortCursor === null || sortCursor.value !== undefined)
      rows.push(...(await this.read(pageStatement(target, query, sortCursor, limit + 1, 'valued'))));
    if (rows.length <= limit) {
      const from = sortCursor !== null && sortCursor.value === undefined ? sortCursor : null;
      const missing = await this.read(pageStatement(target, query, from, limit + 1 - rows.length, 'missing'));
      rows.push(...missing.map((row) => ({ ...row, missing: true as const })));
    }
    const page = rows.slice(0, limit);
    let next: string | null = null;
    if (rows.length > limit) {
      const last = page[page.length - 1]!;
      const at: SortCursor = last.missing
        ? { id: last.record_id }
        : { id: last.record_id, value: last.sort_value! };
      next = encodeSortCursor(query.sort.text, at);
    }
    return { items: page.map((row) => row.item).join(','), next };
  }

  /**
   * A page runs as the connection's user, outside row-level security: under it, PostgreSQL evaluates
   * the policy before any condition whose operators are not leakproof, and the jsonb operators are
   * not, so no declared index could serve a filter or sort (docs/performance.md). The statement names the tenant and the collection explicitly, and the
   * collection was found under the tenant's row-level security (findTarget).
   */
  private read(statement: Statement): Promise<PageRow[]> {
    return this.db.query<PageRow>(statement);
  }

  /** A filter or sort no index serves scans the collection: refused past the configured size. */
  private async refuseLarge(target: QueryTarget, query: RecordQuery): Promise<void> {
    const limit = this.options.unindexedQueryLimit;
    const [counted] = await readAsTenant(this.db, target.tenantId, (tx) =>
      tx.query<{ n: number }>(countUpTo(target.tenantId, target.collectionId, limit + 1)),
    );
    if (counted!.n <= limit) return;
    const sorted = query.sort ? ` (e.g. "${query.sort.field}")` : '';
    throw new AppError(
      'index_required',
      `The collection holds more than ${limit} records and no ready index serves this filter or sort; declare one of its fields${sorted} in the collection's "indexes"`,
      { limit },
    );
  }
}
