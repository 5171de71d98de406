import type { Database } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { JsonObject, JsonValue, OverrideSet } from '../../json/index.ts';
import { mergeOrder, type SourceParts } from '../../sync/merge-sources.ts';
import type { CollectionService } from '../collections/collections.service.ts';
import { loadSourceDefinitions } from '../sources/named-sources.service.ts';
import * as sql from './blame.sql.ts';
import { leafOrigins, leavesOf } from './leaf-origins.ts';

/** Versions read back at most: a leaf older than that is reported with `complete: false`. */
const HISTORY_LIMIT = 500;

export type SetBy =
  | { kind: 'source'; source: string; syncRunId: string | null }
  | { kind: 'api'; apiKeyId: string | null }
  | { kind: 'restore'; snapshotId: string | null }
  | { kind: string };

export type BlameLeaf = {
  path: string;
  value: JsonValue;
  setBy: SetBy;
  at: string | null;
  changeId: string;
  version: number;
  /** False when the leaf already had this value in the oldest version kept: it was set earlier. */
  complete: boolean;
};

type HistoryRow = {
  version: number;
  change_id: string;
  data: JsonObject | null;
  source_parts: SourceParts | null;
  overrides: OverrideSet;
  kind: string | null;
  api_key_id: string | null;
  sync_run_id: string | null;
  snapshot_id: string | null;
  at: Date | null;
  source_name: string | null;
};

export class BlameService {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
  ) {}

  /** Who set each leaf of the record's effective value, and when (docs/sources.md, "Blame"). */
  async blame(
    tenantId: string,
    collection: string,
    recordId: string,
  ): Promise<{ id: string; leaves: BlameLeaf[] }> {
    const { rows, sources } = await withTenant(this.db, tenantId, async (tx) => {
      const found = await this.collections.require(tx, tenantId, collection);
      return {
        rows: await tx.query<HistoryRow>(sql.recordHistory(tenantId, found.id, recordId, HISTORY_LIMIT)),
        sources: mergeOrder(await loadSourceDefinitions(tx, tenantId, found.id)).reverse(),
      };
    });
    const present = rows[0];
    if (!present || present.data === null) {
      throw new AppError('record_not_found', `No record ${recordId} in ${collection}`);
    }
    const origins = leafOrigins(rows);
    const oldestIsFirst = rows[rows.length - 1]!.version === 1;
    const leaves: BlameLeaf[] = [];
    for (const [path, origin] of origins) {
      const row = rows[origin.index]!;
      leaves.push({
        path,
        value: origin.value,
        setBy: setBy(row, path, present, sources),
        at: row.at ? row.at.toISOString() : null,
        changeId: row.change_id,
        version: row.version,
        complete: origin.complete || (origin.index === rows.length - 1 && oldestIsFirst),
      });
    }
    return { id: recordId, leaves };
  }
}

/**
 * The setter of a version. A sync's write names the source whose part gives the leaf now (with
 * several sources, one source's sync can reveal another's value by dropping its own), else the run's.
 */
function setBy(row: HistoryRow, path: string, present: HistoryRow, sources: { name: string }[]): SetBy {
  if (row.kind === 'sync') {
    return {
      kind: 'source',
      source: ownerOf(present, path, sources) ?? row.source_name ?? 'default',
      syncRunId: row.sync_run_id,
    };
  }
  if (row.kind === 'api') return { kind: 'api', apiKeyId: row.api_key_id };
  if (row.kind === 'restore') return { kind: 'restore', snapshotId: row.snapshot_id };
  return { kind: row.kind ?? 'unknown' };
}

/** The highest-priority source whose part has the leaf (sources are given highest first). */
function ownerOf(present: HistoryRow, path: string, sources: { name: string }[]): string | null {
  const parts = present.source_parts;
  if (!parts) return null;
  for (const source of sources) {
    const part = Object.hasOwn(parts, source.name) ? parts[source.name] : undefined;
    if (part && leavesOf(part.v).has(path)) return source.name;
  }
  return null;
}
