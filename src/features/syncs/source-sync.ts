import { chunkRows, copyRow } from '../../db/copy/copy-text.ts';
import type { Queryable } from '../../db/database.ts';
import { asOwner } from '../../db/tenant-scope.ts';
import {
  getAt,
  type JsonObject,
  type JsonValue,
  jsonEqual,
  type OverrideSet,
  parsePointer,
} from '../../json/index.ts';
import type { FeedRecord } from '../../sync/feed/index.ts';
import { type MergeConflict, mergeRecord } from '../../sync/merge.ts';
import {
  mergeOrder,
  mergeParts,
  ownedTree,
  projectOwned,
  type SourceDefinition,
  type SourceOverlap,
  type SourceParts,
  storedParts,
} from '../../sync/merge-sources.ts';
import type { Collection } from '../collections/collections.service.ts';
import * as sql from './apply.sql.ts';
import { type ApplyResult, deleteGuard, type SyncCounts, type SyncMode } from './apply.ts';
import { heldReasons } from './guards.ts';
import * as own from './source-sync.sql.ts';
import type { StagedFeed } from './staging.ts';

const PAGE = 2000;
const PLAN_SAMPLE = 20;
const COPY_CHUNK = 4 * 1024 * 1024;

/**
 * The projection a source's staged rows go through: the fields it owns (docs/sources.md), counting
 * the fields it does not own. Tombstones are staged as they are.
 */
export function sourceProjector(source: SourceDefinition, idField: string) {
  const owned = ownedTree(source.fields);
  const projector = {
    ignoredFields: 0,
    project(record: FeedRecord): string {
      const { part, ignored } = projectOwned(
        JSON.parse(record.text) as JsonObject,
        owned,
        idField,
        source.ignoreEmpty,
      );
      projector.ignoredFields += ignored;
      return JSON.stringify(part);
    },
  };
  return projector;
}

/**
 * What a held run of a named source keeps to be applied later exactly as planned: the source and the
 * definitions it was merged with (docs/run-safety.md).
 */
export type SourceHold = { source: string; sources: SourceDefinition[]; ignoredFields: number };

/** The result of a named source's apply: a held one carries what approving it needs. */
export type SourceApplyResult = ApplyResult & { sourceHold: SourceHold };

type PageRow = {
  record_id: string;
  hash: string | null;
  deleted: boolean;
  doc: string | null;
  stored: boolean;
  /** False for a record made by hand (no source value). */
  from_upstream: boolean;
  /** Only where needed: no parts yet, or overrides to rebase (see selectFeedPage). */
  source: JsonObject | null;
  source_hash: string | null;
  source_parts: SourceParts | null;
  upstream_gone: boolean;
  overrides: OverrideSet;
  manual_delete: unknown;
  live: boolean;
};

/**
 * The apply of one source's feed in a collection with several sources, inside the run's transaction
 * and under the collection's lock. stageFeed left the rows this source changed in sync_feed (its
 * unchanged rows never left the client) and, in full mode, the records it had and no longer names in
 * sync_gone. Each such record is read with its parts, the source's part replaced (or removed), the
 * source value merged again from every source's part, overrides rebased as for one source, and the
 * results written with one INSERT and one UPDATE. Only these records are read or written: another
 * source's fields change only where this source's part changed the merge.
 */
export async function applySourceFeed(
  tx: Queryable,
  input: {
    tenantId: string;
    runId: string;
    collection: Collection;
    source: SourceDefinition;
    sources: SourceDefinition[];
    mode: SyncMode;
    dryRun: boolean;
    force: boolean;
    staged: StagedFeed;
    ignoredFields: number;
    snapshotId: string | null;
    changeId: string | null;
  },
): Promise<SourceApplyResult> {
  const { tenantId, collection, source, dryRun, staged, changeId } = input;
  const cid = collection.id;
  const full = input.mode === 'full';
  const ordered = mergeOrder(input.sources);
  const deletePolicy = collection.deletePolicy;
  const timings: Record<string, number> = {};
  let clock = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - clock);
    clock = now;
  };
  const counts: SyncCounts & { ignoredFields: number } = {
    created: 0,
    updated: 0,
    unchanged: staged.unchanged,
    deleted: 0,
    conflicts: 0,
    revived: 0,
    overridesRetired: 0,
    rows: staged.rows,
    ignoredFields: input.ignoredFields,
  };
  if (!dryRun) {
    await tx.query(own.lockNamedRecords(tenantId, cid));
    await tx.query(own.createSourceRows);
  }
  lap('planMs');

  const lines: string[] = [];
  const conflicts: (MergeConflict & { record_id: string })[] = [];
  const sourceConflicts: { record_id: string; overlap: SourceOverlap }[] = [];
  const overlapConflicts = collection.overlap === 'conflict';
  const settled: { record_id: string; path: string }[] = [];
  const plan = { create: [] as string[], update: [] as string[], delete: [] as string[] };
  const note = (kind: keyof typeof plan, id: string) => {
    if (plan[kind].length < PLAN_SAMPLE) plan[kind].push(id);
  };
  // maxFieldChangeRatio: per pointer, the updated records whose merged source value changes there.
  const fieldGuards = Object.keys(collection.guards.maxFieldChangeRatio ?? {}).map((pointer) => ({
    pointer,
    path: parsePointer(pointer),
  }));
  const fieldChanges = new Map<string, number>();
  const countFieldChanges = (row: PageRow, merged: JsonObject) => {
    const before: JsonValue = row.source ?? mergeParts(storedParts(row), ordered).value;
    for (const { pointer, path } of fieldGuards) {
      const was = getAt(before, path);
      const now = getAt(merged, path);
      const same = was.found ? now.found && jsonEqual(was.value, now.value) : !now.found;
      if (!same) fieldChanges.set(pointer, (fieldChanges.get(pointer) ?? 0) + 1);
    }
  };

  const decide = (row: PageRow) => {
    const parts = row.stored ? storedParts(row) : {};
    // Staged without the index (a small feed): a row equal to the source's stored part changes nothing.
    const mine = Object.hasOwn(parts, source.name) ? parts[source.name] : undefined;
    if (!row.deleted && row.hash !== null && mine?.h === row.hash && !row.upstream_gone) {
      counts.unchanged++;
      return;
    }
    if (row.deleted) delete parts[source.name];
    else parts[source.name] = { h: row.hash, v: JSON.parse(row.doc!) as JsonObject };
    const partsText = JSON.stringify(parts);
    const anyPart = ordered.some((s) => Object.hasOwn(parts, s.name));
    if (!anyPart) {
      if (!row.stored) return; // a tombstone for a record never stored
      // No source has it any more: gone upstream. A tombstone deletes; absence follows the policy.
      const remove = row.live && (row.hash === null ? deletePolicy === 'delete' : true);
      if (!row.from_upstream) return; // made by hand: never deleted by a sync
      if (remove) {
        counts.deleted++;
        note('delete', row.record_id);
      }
      lines.push(copyRow([row.record_id, remove ? 'gone-delete' : 'gone-keep', null, partsText, null, null]));
      return;
    }
    const mergedParts = mergeParts(parts, ordered);
    const merged = mergedParts.value;
    if (overlapConflicts && mergedParts.overlaps.length > 0) {
      // Only a disagreement this sync made: one already there (same values) was decided before.
      const before = row.stored ? mergeParts(storedParts(row), ordered).overlaps : [];
      for (const overlap of mergedParts.overlaps) {
        const known = before.some(
          (old) =>
            old.path === overlap.path &&
            old.winner === overlap.winner &&
            old.loser === overlap.loser &&
            jsonEqual(old.winnerValue, overlap.winnerValue) &&
            jsonEqual(old.loserValue, overlap.loserValue),
        );
        if (!known) sourceConflicts.push({ record_id: row.record_id, overlap });
      }
    }
    if (!row.stored) {
      counts.created++;
      note('create', row.record_id);
      lines.push(copyRow([row.record_id, 'insert', JSON.stringify(merged), partsText, null, null]));
      return;
    }
    const revived = !row.live && row.manual_delete === null && row.upstream_gone;
    let overrides = row.overrides;
    let data: string | null = row.manual_delete ? null : 'true';
    if (Object.keys(overrides).length > 0 || !row.from_upstream) {
      const result = mergeRecord(
        { source: row.source, overrides, manualDelete: row.manual_delete },
        merged,
        collection.conflictPolicy,
      );
      overrides = result.overrides;
      data = result.data === null ? null : JSON.stringify(result.data);
      counts.overridesRetired += result.retired.length;
      for (const path of result.retired) settled.push({ record_id: row.record_id, path });
      const stillOpen = new Set<string>();
      for (const conflict of result.conflicts) {
        if (conflict.changedInThisSync) counts.conflicts++;
        conflicts.push({ ...conflict, record_id: row.record_id });
        if (conflict.status === 'resolved') settled.push({ record_id: row.record_id, path: conflict.path });
        else stillOpen.add(conflict.path);
      }
      for (const path of Object.keys(result.overrides)) {
        if (!stillOpen.has(path)) settled.push({ record_id: row.record_id, path });
      }
    }
    if (revived) {
      counts.created++;
      counts.revived++;
      note('create', row.record_id);
    } else {
      counts.updated++;
      note('update', row.record_id);
      if (fieldGuards.length > 0 && row.from_upstream) countFieldChanges(row, merged);
    }
    lines.push(
      copyRow([row.record_id, 'write', JSON.stringify(merged), partsText, JSON.stringify(overrides), data]),
    );
  };

  let copied = 0;
  for (const select of full ? [own.selectFeedPage, own.selectGonePage] : [own.selectFeedPage]) {
    let after: string | null = null;
    for (;;) {
      const rows: PageRow[] = await tx.query<PageRow>(select(tenantId, cid, after, PAGE));
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.record_id;
      for (const row of rows) decide(row);
      if (!dryRun && lines.length > 0) {
        const chunk = lines.splice(0);
        copied += chunk.length;
        await asOwner(tx, () => tx.copyFrom(own.copySourceRows, chunkRows(chunk, COPY_CHUNK)));
      }
      lines.length = 0;
    }
  }
  counts.conflicts += sourceConflicts.length;
  lap('mergeMs');

  // The delete guard counts the real deletes: records no source has any more (decide).
  const guard = deleteGuard(full, staged.rows, staged.live, counts.deleted, collection.maxDeleteRatio);
  const held = input.force
    ? []
    : heldReasons({
        guards: collection.guards,
        deleteGuard: guard,
        updated: counts.updated,
        live: staged.live,
        fieldChanges,
      });
  const sourceHold: SourceHold = {
    source: source.name,
    sources: input.sources,
    ignoredFields: input.ignoredFields,
  };
  if (held.length > 0 && !dryRun) {
    // Held: nothing written; the staged feed is kept by holdRun and merged again on approval.
    return { counts, plan, guard, held, snapshotId: input.snapshotId, changeId, timings, sourceHold };
  }

  if (!dryRun && changeId) {
    const written = counts.created + counts.updated + counts.deleted;
    await tx.query(own.analyzeSourceRows);
    if (counts.created - counts.revived > 0) await tx.query(own.insertSourceRows(tenantId, cid, changeId));
    if (copied > counts.created - counts.revived)
      await tx.query(own.updateSourceRows(tenantId, cid, changeId));
    if (settled.length > 0) await tx.query(sql.closeConflicts(tenantId, cid, settled));
    const toRecord = conflicts.filter((c) => c.changedInThisSync || c.status === 'open');
    if (toRecord.length + sourceConflicts.length > 0) {
      const rowsOut: Record<string, unknown>[] = toRecord.map((c) => ({
        record_id: c.record_id,
        path: c.path,
        manual_value: c.manualValue,
        source_value: c.sourceValue,
        previous_source_value: c.previousSourceValue,
        status: c.status,
        source_name: source.name,
      }));
      for (const { record_id, overlap } of sourceConflicts) {
        rowsOut.push({
          record_id,
          path: overlap.path,
          manual_value: overlap.loserValue,
          source_value: overlap.winnerValue,
          previous_source_value: null,
          status: 'open',
          kind: 'source',
          source_name: overlap.winner,
          other_source: overlap.loser,
        });
      }
      await tx.query(sql.upsertConflicts(tenantId, cid, input.runId, rowsOut));
    }
    const grown = counts.created - counts.revived;
    if (grown >= 100 && grown > staged.live / 5) {
      await asOwner(tx, async () => {
        await tx.query(sql.sampleStatisticsLightly);
        await tx.query(sql.analyzeRecords);
      });
    }
    if (written > 0 || copied > 0) await tx.query(sql.insertChange(tenantId, changeId, input.runId));
  }
  lap('writeMs');
  return {
    counts,
    plan: dryRun ? plan : null,
    guard,
    held,
    snapshotId: input.snapshotId,
    changeId,
    timings,
    sourceHold,
  };
}
