import type { Queryable } from '../../db/database.ts';
import type { ReadFeedOptions } from '../../sync/feed/index.ts';
import type { SourceDefinition } from '../../sync/merge-sources.ts';
import type { Collection } from '../collections/collections.service.ts';
import { compileRecordSchema } from '../collections/record-schema.ts';
import {
  isSingleSource,
  loadSourceDefinitions,
  namedSourceNotFound,
} from '../sources/named-sources.service.ts';
import { requiredFieldsCheck } from './guards.ts';
import { skipsStoredIndex } from './index-strategy.ts';
import { sourceProjector } from './source-sync.ts';
import { type StagedFeed, stageFeed } from './staging.ts';
import type { SyncRequest } from './syncs.service.ts';

export type FeedValidator = ReadFeedOptions['validate'];

/** What the stream-and-stage stage leaves for the plan: the staged feed and the path it takes. */
export type Staged = {
  feed: StagedFeed;
  /** Set when the collection has several sources: the feed is one named source's, applied by source-sync.ts. */
  named: {
    source: SourceDefinition;
    sources: SourceDefinition[];
    /** Read when the feed is applied: counted while it was staged. */
    ignoredFields: () => number;
  } | null;
  /** The rows the collection's schema refused, left out (invalidRecords=skip); null when not skipping. */
  skipped: { count: number; errors: unknown[] } | null;
  timings: { indexMs: number; indexSkipped?: 1; stageMs: number; stageDbWaitMs: number };
};

/** The collection's record check (schema and requiredFields), compiled once per run (cached by the schema's text). */
export function feedValidator(collection: Collection): FeedValidator | undefined {
  return requiredFieldsCheck(
    collection.guards.requiredFields,
    collection.schema === null ? undefined : compileRecordSchema(collection.schema),
  );
}

/**
 * Reads the feed as a stream and stages what changed (staging.ts), after choosing the path: the
 * collection's sources are read again under the lock, and a small partial feed may skip the stored index.
 */
export async function streamAndStage(
  tx: Queryable,
  input: {
    request: SyncRequest;
    collection: Collection;
    changeId: string | null;
    validate: FeedValidator | undefined;
  },
): Promise<Staged> {
  const { request, collection, validate } = input;
  const started = performance.now();
  const sourceName = request.source ?? 'default';
  const sources = await loadSourceDefinitions(tx, request.tenantId, collection.id);
  const source = sources.find((candidate) => candidate.name === sourceName);
  if (!source) throw namedSourceNotFound(request.collection, sourceName);
  const projector = isSingleSource(sources) ? null : sourceProjector(source, collection.idField);
  const skipIndex = await skipsStoredIndex(tx, {
    tenantId: request.tenantId,
    collectionId: collection.id,
    partial: request.mode === 'partial',
    feedBytes: request.feedBytes,
  });
  const feed = await stageFeed(tx, request.feed, {
    skipIndex,
    ...(projector ? { source: { name: source.name, project: projector.project } } : {}),
    tenantId: request.tenantId,
    collectionId: collection.id,
    full: request.mode === 'full',
    deleteGone: collection.deletePolicy === 'delete',
    changeId: input.changeId,
    format: request.format,
    idField: collection.idField,
    onProgress: request.onProgress,
    ...(validate ? { validate, skipInvalid: request.invalidRecords === 'skip' } : {}),
  });
  return {
    feed,
    named: projector ? { source, sources, ignoredFields: () => projector.ignoredFields } : null,
    skipped:
      validate && request.invalidRecords === 'skip'
        ? { count: feed.summary.skippedCount ?? 0, errors: feed.summary.skipped ?? [] }
        : null,
    timings: {
      indexMs: feed.indexMs,
      ...(skipIndex ? { indexSkipped: 1 as const } : {}),
      stageMs: Math.round(performance.now() - started),
      stageDbWaitMs: feed.dbWaitMs,
    },
  };
}
