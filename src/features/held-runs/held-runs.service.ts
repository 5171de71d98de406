import type { Database, Queryable } from '../../db/database.ts';
import { withTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import type { FeedSummary } from '../../sync/feed/index.ts';
import type { SourceDefinition } from '../../sync/merge-sources.ts';
import type { CollectionService } from '../collections/collections.service.ts';
import { lockCollection } from '../collections/collections.sql.ts';
import { isSingleSource, loadSourceDefinitions } from '../sources/named-sources.service.ts';
import { type ApplyResult, applyStaged, type SyncMode, type SyncPlan } from '../syncs/apply.ts';
import type { GuardReason } from '../syncs/guards.ts';
import * as snapshotSql from '../syncs/lock-and-snapshot.sql.ts';
import { applySourceFeed, type SourceApplyResult, type SourceHold } from '../syncs/source-sync.ts';
import * as stagingSql from '../syncs/staging.sql.ts';
import type { StagedFeed } from '../syncs/staging.ts';
import * as runSql from '../syncs/sync-runs.sql.ts';
import type { SyncRunView, SyncService } from '../syncs/syncs.service.ts';
import { emitEvent } from '../webhooks/webhooks.sql.ts';
import * as sql from './held-runs.sql.ts';

/** What a held run keeps beside its staged rows: enough to apply it later exactly as planned. */
type Hold = {
  reasons: GuardReason[];
  plan: SyncPlan;
  staged: { rows: number; unchanged: number; live: number };
  /** A named source's run (docs/sources.md): the source and the definitions it was planned with. */
  named?: SourceHold;
};

const PLAN_SAMPLE = 20;

/**
 * Inside the run's transaction, instead of applying: keeps the staged rows, removes the rows the
 * run inserted while streaming and its snapshot, marks the run held and announces it (`sync.held`).
 * The transaction then commits: the collection is as it was, the plan waits for a person.
 */
export async function holdRun(
  tx: Queryable,
  input: {
    tenantId: string;
    runId: string;
    collection: { id: string; name: string };
    mode: SyncMode;
    applied: ApplyResult;
    staged: StagedFeed;
    heldRunDays: number;
  },
): Promise<void> {
  const { tenantId, runId, collection, applied } = input;
  await tx.query(sql.keepStaged(tenantId, collection.id, runId, applied.changeId!));
  await tx.query(sql.removeInserted(tenantId, collection.id, applied.changeId!));
  await tx.query(sql.deleteSnapshot(tenantId, applied.snapshotId!));
  const [created] = await tx.query<{ ids: string[] }>(sql.sampleCreated(tenantId, runId, PLAN_SAMPLE));
  // New ids are in the held rows (written while streaming) or, on the named-source path, in the plan.
  const create = [...new Set([...applied.plan!.create, ...created!.ids])].sort().slice(0, PLAN_SAMPLE);
  const plan: SyncPlan = { ...applied.plan!, create };
  const named = (applied as Partial<SourceApplyResult>).sourceHold;
  const [newest] = await tx.query<{ change_id: string | null }>(sql.newestChange(tenantId, collection.id));
  const hold: Hold = {
    reasons: applied.held,
    plan,
    staged: { rows: input.staged.rows, unchanged: input.staged.unchanged, live: input.staged.live },
    ...(named ? { named } : {}),
  };
  await tx.query(
    sql.markHeld(tenantId, runId, applied.counts, applied.held, hold, input.heldRunDays, newest!.change_id),
  );
  await tx.query(
    emitEvent(tenantId, 'sync.held', collection.name, {
      syncRunId: runId,
      collection: collection.name,
      mode: input.mode,
      counts: applied.counts,
      reasons: applied.held,
    }),
  );
}

type HeldRow = {
  id: string;
  status: string;
  mode: SyncMode;
  collection_id: string;
  collection: string;
  hold: Hold | null;
  planned_at_change: string | null;
  expired: boolean;
};

/** Approve (apply the stored plan), reject, and expire held runs. */
export class HeldRunService {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    private readonly syncs: SyncService,
    private readonly options: { snapshotRetentionDays: number },
  ) {}

  /**
   * Applies exactly the held plan, from its staged rows, under the collection's lock and in one
   * transaction; 409 collection_changed when any record of the collection was written since it was
   * planned (sync again to plan afresh).
   */
  async approve(tenantId: string, runId: string): Promise<SyncRunView> {
    await withTenant(this.db, tenantId, async (tx) => {
      const run = await requireHeld(tx, tenantId, runId);
      const collection = await this.collections.require(tx, tenantId, run.collection);
      await tx.query(lockCollection(tenantId, collection.id));
      const [newest] = await tx.query<{ change_id: string | null }>(
        sql.newestChange(tenantId, collection.id),
      );
      const hold = run.hold!;
      const sources = await loadSourceDefinitions(tx, tenantId, collection.id);
      const sourcesAsPlanned = hold.named
        ? sameSources(hold.named.sources, sources)
        : isSingleSource(sources);
      if (newest!.change_id !== run.planned_at_change || !sourcesAsPlanned) {
        const what = sourcesAsPlanned ? 'changed' : 'had its sources changed';
        throw new AppError(
          'collection_changed',
          `The collection "${run.collection}" ${what} since sync run ${runId} was planned: sync again to plan afresh`,
          { syncId: runId },
        );
      }
      const [snapshot] = await tx.query<{ id: string }>(
        snapshotSql.snapshotBefore(tenantId, this.options.snapshotRetentionDays),
      );
      const changeId = (await tx.query<{ id: string }>(snapshotSql.nextChangeId))[0]!.id;
      await tx.query(stagingSql.createStaging);
      await tx.query(stagingSql.createGoneStaging);
      await tx.query(sql.restageFeed(tenantId, runId));
      await tx.query(sql.restageGone(tenantId, runId));
      const inserted = await tx.query(sql.insertHeldNew(tenantId, collection.id, runId, changeId));
      await tx.query(stagingSql.indexStaging);
      const summary: FeedSummary = { rows: hold.staged.rows, errors: [], errorCount: 0, format: 'json' };
      const staged: StagedFeed = { ...hold.staged, summary, inserted: inserted.length };
      const input = {
        tenantId,
        runId,
        collection,
        mode: run.mode,
        dryRun: false,
        force: true,
        staged,
        snapshotId: snapshot!.id,
        changeId,
      };
      const named = hold.named;
      const applied = named
        ? await applySourceFeed(tx, {
            ...input,
            source: named.sources.find((source) => source.name === named.source)!,
            sources: named.sources,
            ignoredFields: named.ignoredFields,
          })
        : await applyStaged(tx, input);
      await tx.query(
        runSql.finishRun(
          tenantId,
          runId,
          'succeeded',
          applied.counts,
          [],
          applied.timings,
          snapshot!.id,
          changeId,
        ),
      );
      await tx.query(sql.deleteHeldRows(tenantId, runId));
      await tx.query(
        emitEvent(tenantId, 'sync.succeeded', collection.name, {
          syncRunId: runId,
          collection: collection.name,
          mode: run.mode,
          counts: applied.counts,
          changeId,
        }),
      );
    });
    return this.syncs.get(tenantId, runId);
  }

  /** Discards the held plan and its staged rows. */
  async reject(tenantId: string, runId: string): Promise<SyncRunView> {
    await withTenant(this.db, tenantId, async (tx) => {
      await requireHeld(tx, tenantId, runId);
      await tx.query(sql.deleteHeldRows(tenantId, runId));
      await tx.query(sql.closeHeld(tenantId, runId, 'rejected'));
    });
    return this.syncs.get(tenantId, runId);
  }

  /** Every tenant's held runs past their time: expired, staged rows deleted. */
  expire(): Promise<number> {
    return expireHeldRuns(this.db);
  }
}

/** Platform-level: every tenant's held runs past their time expire, and their staged rows go. */
export async function expireHeldRuns(db: Database): Promise<number> {
  return (await db.transaction((tx) => tx.query(sql.expireHeldRuns))).length;
}

/** The definitions a named source's run was merged with are still the collection's. */
function sameSources(planned: SourceDefinition[], now: SourceDefinition[]): boolean {
  const key = (list: SourceDefinition[]) =>
    JSON.stringify(
      [...list]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map(({ name, fields, priority, ignoreEmpty }) => [name, fields, priority, ignoreEmpty]),
    );
  return key(planned) === key(now);
}

async function requireHeld(tx: Queryable, tenantId: string, runId: string): Promise<HeldRow> {
  const [run] = await tx.query<HeldRow>(sql.findHeld(tenantId, runId));
  if (!run) throw new AppError('sync_not_found', `No sync run ${runId}`);
  if (run.status !== 'held') {
    throw new AppError('run_not_held', `Sync run ${runId} is ${run.status}, not held`, { syncId: runId });
  }
  if (run.expired) {
    throw new AppError('run_not_held', `Sync run ${runId} was held past its time and has expired`, {
      syncId: runId,
    });
  }
  return run;
}
