import type { Readable } from 'node:stream';
import { acceptedRun } from '../syncs/sync-outcome.ts';
import type { SyncOrigin, SyncService } from '../syncs/syncs.service.ts';

/** Where an automatic sync came from, stored in sync_runs.origin. */
export type FeedOrigin =
  | { kind: 'auto-import'; file: string; claim: string }
  | { kind: 'schedule'; url: string };

export interface FeedSyncInput {
  tenantId: string;
  collection: string;
  /** The collection's named source the feed is for (docs/sources.md); `default` when absent. */
  source?: string;
  body: Readable;
  /** From the file's extension; undefined lets the engine sniff (scheduled feeds). */
  format: 'json' | 'ndjson' | undefined;
  mode: 'full' | 'partial';
  origin: FeedOrigin;
}

/** The part of a sync run the importers act on. */
export interface FeedSyncResult {
  id: string;
  status: 'succeeded' | 'failed' | 'planned' | 'held' | 'rejected' | 'expired';
  counts: Record<string, number>;
  errors: unknown[];
}

/** Runs one ordinary (not dry-run, not forced) sync from a byte stream. */
export type FeedSync = (input: FeedSyncInput) => Promise<FeedSyncResult>;

/**
 * THE ADAPTER between auto-import / scheduled sources and the sync engine. Both importers
 * call only this function, so the engine's service is called from exactly one place. A refused sync
 * (bad feed, delete guard) throws the engine's AppError, with `syncId` among its extensions.
 */
export function feedSyncThroughSyncService(syncs: SyncService): FeedSync {
  return async (input) => {
    const origin: SyncOrigin = input.origin;
    const run = acceptedRun(
      await syncs.run({
        tenantId: input.tenantId,
        collection: input.collection,
        ...(input.source ? { source: input.source } : {}),
        mode: input.mode,
        dryRun: false,
        force: false,
        format: input.format ?? 'auto',
        feed: input.body,
        origin,
      }),
    );
    return {
      id: run.id,
      status: run.status === 'running' ? 'failed' : run.status,
      counts: run.counts as Record<string, number>,
      errors: run.errors,
    };
  };
}
