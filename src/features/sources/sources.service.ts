import type { Database } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { CollectionService } from '../collections/collections.service.ts';
import { nextRun } from './schedule.ts';
import type { SourceSettings } from './sources.sql.ts';
import * as sql from './sources.sql.ts';
import { assertFeedUrlAllowed } from './url-safety.ts';

export type { SourceSettings };

export interface SourceView {
  collection: string;
  /** The named source (docs/sources.md); the routes of …/source act on `default`. */
  name: string;
  url: string;
  schedule: string;
  mode: 'full' | 'partial';
  /** Header values can be upstream secrets: only the names are shown. */
  headerNames: string[];
  nextRunAt: string;
  lastRun: { at: string; status: string; error: string | null } | null;
  createdAt: string;
  updatedAt: string;
}

export interface SourceRunView {
  id: string;
  url: string;
  status: 'synced' | 'unchanged' | 'failed';
  httpStatus: number | null;
  error: string | null;
  syncId: string | null;
  startedAt: string;
  finishedAt: string;
}

interface SourceRow {
  collection: string;
  name: string;
  url: string;
  schedule: string;
  mode: 'full' | 'partial';
  headers: Record<string, string>;
  next_run_at: Date;
  last_run_at: Date | null;
  last_status: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  inserted?: boolean;
}

/** Header names a tenant may not set: they belong to the connection or the conditional request. */
const RESERVED_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'if-none-match',
  'if-modified-since',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
]);

export class SourceService {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    private readonly policy: { allowPrivate: boolean },
  ) {}

  async put(
    tenantId: string,
    collection: string,
    settings: SourceSettings,
  ): Promise<{ created: boolean; source: SourceView }> {
    assertHeadersAllowed(settings.headers);
    const next = nextRun(settings.schedule);
    // The collection first, so a caller who cannot see it learns nothing from the URL check (and
    // gets 404, not 422). The URL check resolves the host: not inside a transaction.
    await withTenant(this.db, tenantId, (tx) => this.collections.require(tx, tenantId, collection));
    await assertFeedUrlAllowed(settings.url, this.policy);
    const row = await withTenant(this.db, tenantId, async (tx) => {
      const target = await this.collections.require(tx, tenantId, collection);
      const [saved] = await tx.query<SourceRow>(sql.upsertSource(tenantId, target.id, settings, next));
      return saved!;
    });
    return { created: row.inserted === true, source: toView(row) };
  }

  async get(tenantId: string, collection: string): Promise<SourceView> {
    const [row] = await withTenant(this.db, tenantId, async (tx) => {
      await this.collections.require(tx, tenantId, collection);
      return tx.query<SourceRow>(sql.findSource(tenantId, collection));
    });
    if (!row) throw notFound(collection);
    return toView(row);
  }

  /** `after`: the cursor key of the last source seen, `<collection>/<name>` (sourceCursorKey). */
  async list(tenantId: string, after: string | null, limit: number): Promise<SourceView[]> {
    const slash = after === null ? -1 : after.indexOf('/');
    const key: [string, string] | null =
      after === null ? null : slash < 0 ? [after, ''] : [after.slice(0, slash), after.slice(slash + 1)];
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.query<SourceRow>(sql.listSources(tenantId, key, limit)),
    );
    return rows.map(toView);
  }

  async delete(tenantId: string, collection: string): Promise<void> {
    const rows = await withTenant(this.db, tenantId, async (tx) => {
      const target = await this.collections.require(tx, tenantId, collection);
      const cleared = await tx.query(sql.deleteSource(tenantId, collection));
      await tx.query(sql.deletePlainDefault(tenantId, target.id));
      return cleared;
    });
    if (rows.length === 0) throw notFound(collection);
  }

  /** Makes the source due now; the scheduler's next tick fetches it. */
  async runNow(tenantId: string, collection: string): Promise<SourceView> {
    const rows = await withTenant(this.db, tenantId, async (tx) => {
      await this.collections.require(tx, tenantId, collection);
      return tx.query(sql.makeDue(tenantId, collection));
    });
    if (rows.length === 0) throw notFound(collection);
    return this.get(tenantId, collection);
  }

  async runs(
    tenantId: string,
    collection: string,
    before: string | null,
    limit: number,
  ): Promise<SourceRunView[]> {
    const rows = await withTenant(this.db, tenantId, async (tx) => {
      await this.collections.require(tx, tenantId, collection);
      return tx.query<{
        id: string;
        url: string;
        status: SourceRunView['status'];
        http_status: number | null;
        error: string | null;
        sync_run_id: string | null;
        started_at: Date;
        finished_at: Date;
      }>(sql.listRuns(tenantId, collection, before, limit));
    });
    return rows.map((row) => ({
      id: row.id,
      url: row.url,
      status: row.status,
      httpStatus: row.http_status,
      error: row.error,
      syncId: row.sync_run_id,
      startedAt: row.started_at.toISOString(),
      finishedAt: row.finished_at.toISOString(),
    }));
  }
}

/** Names and names only: names can hold no '/' (the Name pattern), so the key splits back. */
export function sourceCursorKey(source: { collection: string; name: string }): string {
  return `${source.collection}/${source.name}`;
}

export function assertHeadersAllowed(headers: Record<string, string>): void {
  for (const name of Object.keys(headers)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new AppError('validation_failed', `The header "${name}" cannot be set on a feed request`);
    }
  }
}

function notFound(collection: string): AppError {
  return new AppError('source_not_found', `The collection "${collection}" has no scheduled source`);
}

function toView(row: SourceRow): SourceView {
  return {
    collection: row.collection,
    name: row.name,
    url: row.url,
    schedule: row.schedule,
    mode: row.mode,
    headerNames: Object.keys(row.headers ?? {}).sort(),
    nextRunAt: row.next_run_at.toISOString(),
    lastRun: row.last_run_at
      ? { at: row.last_run_at.toISOString(), status: row.last_status ?? 'failed', error: row.last_error }
      : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
