import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import { parsePointer } from '../../json/pointer.ts';
import type { SourceDefinition } from '../../sync/merge-sources.ts';
import type { CollectionService } from '../collections/collections.service.ts';
import type { NamedSourceRow, NamedSourceSettings } from './named-sources.sql.ts';
import * as sql from './named-sources.sql.ts';
import { nextRun } from './schedule.ts';
import { assertHeadersAllowed } from './sources.service.ts';
import { assertFeedUrlAllowed } from './url-safety.ts';

export type { NamedSourceSettings };

export interface NamedSourceView {
  name: string;
  fields: string[];
  priority: number;
  ignoreEmpty: boolean;
  /** The schedule of §5, when the source has one; header values are never shown, only names. */
  url: string | null;
  schedule: string | null;
  mode: 'full' | 'partial' | null;
  headerNames: string[];
  nextRunAt: string | null;
  lastRun: { at: string; status: string; error: string | null } | null;
  /** False for the implicit `default` of a collection that never stored it. */
  stored: boolean;
}

/** What a collection with no stored sources has: `default`, owning every field. */
export const IMPLICIT_DEFAULT: SourceDefinition = {
  name: 'default',
  fields: ['/'],
  priority: 0,
  ignoreEmpty: false,
};

/** The collection's sources as the sync merges them: the stored ones, and `default` when not stored. */
export async function loadSourceDefinitions(
  tx: Queryable,
  tenantId: string,
  collectionId: string,
): Promise<SourceDefinition[]> {
  const rows = await tx.query<NamedSourceRow>(sql.listNamedSources(tenantId, collectionId));
  const defined = rows.map(toDefinition);
  if (!defined.some((source) => source.name === 'default')) defined.push(IMPLICIT_DEFAULT);
  return defined;
}

/**
 * One source owning everything: the collection syncs exactly as before sources existed (the fast
 * path: no parts stored, the feed's value is the source value).
 */
export function isSingleSource(sources: readonly SourceDefinition[]): boolean {
  if (sources.length !== 1) return false;
  const [only] = sources;
  return only!.name === 'default' && only!.fields.length === 1 && only!.fields[0] === '/';
}

export class NamedSourceService {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    private readonly policy: { allowPrivate: boolean },
  ) {}

  async list(tenantId: string, collection: string): Promise<NamedSourceView[]> {
    const rows = await withTenant(this.db, tenantId, async (tx) => {
      const found = await this.collections.require(tx, tenantId, collection);
      return tx.query<NamedSourceRow>(sql.listNamedSources(tenantId, found.id));
    });
    const views = rows.map(toView);
    if (!views.some((view) => view.name === 'default')) views.unshift(implicitView());
    return views;
  }

  async get(tenantId: string, collection: string, name: string): Promise<NamedSourceView> {
    const [row] = await withTenant(this.db, tenantId, async (tx) => {
      const found = await this.collections.require(tx, tenantId, collection);
      return tx.query<NamedSourceRow>(sql.findNamedSource(tenantId, found.id, name));
    });
    if (row) return toView(row);
    if (name === 'default') return implicitView();
    throw namedSourceNotFound(collection, name);
  }

  async put(
    tenantId: string,
    collection: string,
    name: string,
    settings: NamedSourceSettings,
  ): Promise<{ created: boolean; source: NamedSourceView }> {
    for (const field of settings.fields) assertOwnedPointer(field);
    let next: Date | null = null;
    if (settings.schedule) {
      assertHeadersAllowed(settings.schedule.headers);
      next = nextRun(settings.schedule.schedule);
      // The collection first, so a caller who cannot see it gets 404 rather than the URL's verdict.
      await withTenant(this.db, tenantId, (tx) => this.collections.require(tx, tenantId, collection));
      await assertFeedUrlAllowed(settings.schedule.url, this.policy);
    }
    const row = await withTenant(this.db, tenantId, async (tx) => {
      const found = await this.collections.require(tx, tenantId, collection);
      const [saved] = await tx.query<NamedSourceRow>(
        sql.upsertNamedSource(tenantId, found.id, name, settings, next),
      );
      return saved!;
    });
    return { created: row.inserted === true, source: toView(row) };
  }

  /**
   * The source's settings go; the values it gave records stay in them until a sync writes the record
   * again (the merge then leaves out the parts of sources no longer defined).
   */
  async delete(tenantId: string, collection: string, name: string): Promise<void> {
    const rows = await withTenant(this.db, tenantId, async (tx) => {
      const found = await this.collections.require(tx, tenantId, collection);
      return tx.query(sql.deleteNamedSource(tenantId, found.id, name));
    });
    if (rows.length === 0) throw namedSourceNotFound(collection, name);
  }
}

export function namedSourceNotFound(collection: string, name: string): AppError {
  return new AppError('source_not_found', `The collection "${collection}" has no source "${name}"`);
}

/** "/" (everything) or a JSON Pointer to an object member. */
function assertOwnedPointer(field: string): void {
  if (field === '/') return;
  try {
    if (!field.startsWith('/')) throw new Error('not a pointer');
    parsePointer(field);
  } catch {
    throw new AppError(
      'validation_failed',
      `"${field}" is not a JSON Pointer (fields are "/" or pointers like "/price")`,
    );
  }
}

function toDefinition(row: NamedSourceRow): SourceDefinition {
  return { name: row.name, fields: row.fields, priority: row.priority, ignoreEmpty: row.ignore_empty };
}

function implicitView(): NamedSourceView {
  return {
    ...IMPLICIT_DEFAULT,
    url: null,
    schedule: null,
    mode: null,
    headerNames: [],
    nextRunAt: null,
    lastRun: null,
    stored: false,
  };
}

function toView(row: NamedSourceRow): NamedSourceView {
  return {
    name: row.name,
    fields: row.fields,
    priority: row.priority,
    ignoreEmpty: row.ignore_empty,
    url: row.url,
    schedule: row.schedule,
    mode: row.mode,
    headerNames: Object.keys(row.headers ?? {}).sort(),
    nextRunAt: row.next_run_at ? row.next_run_at.toISOString() : null,
    lastRun: row.last_run_at
      ? { at: row.last_run_at.toISOString(), status: row.last_status ?? 'failed', error: row.last_error }
      : null,
    stored: true,
  };
}
