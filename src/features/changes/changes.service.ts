import type { Database, Queryable } from '../../db/database.ts';
import { asOwner, readAsTenant } from '../../db/tenant-scope.ts';
import { AppError } from '../../errors.ts';
import { diffFields, type JsonObject } from '../../json/index.ts';
import * as sql from './changes.sql.ts';
import {
  comparePositions,
  decodeFeedCursor,
  encodeFeedCursor,
  type FeedCursor,
  seenSnapshotAt,
} from './cursor.ts';
import type { ChangeNotifier } from './notifier.ts';

export type ChangeOrigin = {
  kind: string;
  apiKeyId?: string;
  syncRunId?: string;
  snapshotId?: string;
};

/** One change of one record's effective value, as the feed serves it (without its data). */
export interface ChangeItem {
  cursor: string;
  collection: string;
  recordId: string;
  op: 'create' | 'update' | 'delete';
  version: number;
  origin: ChangeOrigin;
  /** JSON Pointers that changed; `''` (the whole record) for a create or a delete. */
  fields: string[];
  at: string;
  changeId: string;
}

/** A change item with its record's new value as JSON text (null for a delete; '' when not read). */
export interface ChangeEntry {
  item: ChangeItem;
  dataText: string | null;
}

export interface FeedPage {
  entries: ChangeEntry[];
  /** Where to read next: after the last entry, or, once caught up, after everything committed. */
  nextCursor: string;
  /** More changes are committed and servable now (false: caught up). */
  hasMore: boolean;
  /**
   * The xmin this page was read below. A stream passes it to its next reads (`upTo`): the set of
   * changes below it is final, so the stream ends where it was caught up when it began.
   */
  upTo: string;
}

interface FeedRow {
  xmin: string;
  changes_read: number;
  last_xid: string | null;
  last_change_id: string | null;
  pending: boolean;
  /** On the head row: [[change id, at, kind, API key, sync run, snapshot], …] of the changes read. */
  changes_text: string | null;
  xid: string | null;
  change_id: string | null;
  collection_id: string | null;
  record_id: string | null;
  version: number | null;
  data_text: string | null;
  before_text: string | null;
}

/**
 * Runs a feed read's statements as the connection's user, outside row-level security, every one
 * naming its tenant: under the policy, PostgreSQL could not use `records_change` for the range of
 * record ids a page starts from (its key, `record_id || ''`, is not leakproof), and each page would
 * scan the whole change again. In a read-only batch of its own, or in the caller's transaction.
 */
type Runner = <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T>;

/** Changes looked at per statement: each is probed for its records by index. */
const CHANGE_BATCH = 200;
/** Longest long poll, in seconds. */
export const MAX_WAIT_SECONDS = 60;
/** While committed changes wait behind an open transaction, a long poll looks again this often. */
const PENDING_POLL_MS = 25;
/**
 * Margin between retention's window start and the horizon it records: a change could be pruned
 * behind a cursor read after the window start only if one transaction stayed open across this long.
 */
export const HORIZON_MARGIN_MS = 60 * 60 * 1000;

/**
 * The change feed (docs/changes.md): every change of an effective value, in an order in which a late
 * commit never lands behind a cursor already handed out, read from the rows the writers wrote.
 */
export class ChangeFeed {
  private readonly now: () => Date;

  constructor(
    private readonly db: Database,
    private readonly notifier: ChangeNotifier,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** The cursor of "now": following it serves every change not committed yet (an export's cursor). */
  async currentCursor(tenantId: string): Promise<string> {
    const seenAt = this.now().getTime();
    const [row] = await readAsTenant(this.db, tenantId, (tx) =>
      tx.query<{ xmin: string; snapshot: string }>(sql.currentSnapshot),
    );
    const seen = seenSnapshotAt(row!.snapshot, row!.xmin);
    return encodeFeedCursor({ xid: row!.xmin, changeId: '0', collectionId: '0', recordId: '', seenAt, seen });
  }

  /**
   * One page from `cursorText`: at most `limit` changes. With `waitMs` and nothing to serve, waits
   * until a change commits (or the time is up, or `signal` aborts) and reads again.
   */
  async read(
    tenantId: string,
    collection: string | null,
    cursorText: string | undefined,
    options: { limit: number; waitMs?: number; signal?: AbortSignal; upTo?: string; withData?: boolean },
  ): Promise<FeedPage> {
    const deadline = Date.now() + (options.waitMs ?? 0);
    let cursor = decodeFeedCursor(cursorText);
    // One waiter at a time: a poll round that ends before the commit keeps the same one.
    let woken: Promise<void> | null = null;
    let wokenDone = true;
    for (;;) {
      if (options.waitMs && wokenDone) {
        wokenDone = false;
        woken = this.notifier.next(tenantId, Math.max(0, deadline - Date.now()), options.signal).then(() => {
          wokenDone = true;
        });
      }
      const { page, pending } = await this.readOnce(
        tenantId,
        collection,
        cursor,
        options.limit,
        options.upTo,
        options.withData ?? true,
      );
      const left = deadline - Date.now();
      if (page.entries.length > 0 || !woken || left <= 0 || options.signal?.aborted) return page;
      cursor = decodeFeedCursor(page.nextCursor);
      // Committed changes held back by an open transaction do not notify again when it ends; nor
      // does anything reach a waiter before LISTEN is set up: poll then.
      if (pending || !this.notifier.isListening) {
        await Promise.race([woken, delay(Math.min(PENDING_POLL_MS, left))]);
      } else await woken;
    }
  }

  /**
   * One page inside the caller's tenant transaction (no long poll, no values): its statements run as
   * the owner (Runner, above) and the tenant role is entered again after them.
   */
  async readWithin(
    tx: Queryable,
    tenantId: string,
    collection: string | null,
    cursorText: string | undefined,
    limit: number,
  ): Promise<FeedPage> {
    const run: Runner = (fn) => asOwner(tx, () => fn(tx));
    return (
      await this.readOnce(tenantId, collection, decodeFeedCursor(cursorText), limit, undefined, false, run)
    ).page;
  }

  private async readOnce(
    tenantId: string,
    collection: string | null,
    from: FeedCursor,
    limit: number,
    upTo: string | undefined,
    withData: boolean,
    run: Runner = (fn) => this.db.transaction(fn, { readOnlyBatch: true }),
  ): Promise<{ page: FeedPage; pending: boolean }> {
    const readAt = this.now().getTime();
    const [{ names, horizon }, ...rest] = await this.readBatch(
      run,
      tenantId,
      collection,
      from,
      limit,
      upTo,
      withData,
    );
    let rows = rest[0]!;
    if (from.seenAt !== null && horizon !== null && from.seenAt < horizon) {
      throw new AppError(
        'cursor_expired',
        'Retention has pruned history this cursor had not read yet; export the collection and follow from the cursor the export returns',
      );
    }
    const seenAt = from.seenAt ?? horizon ?? 0;
    let position: FeedCursor = { ...from, seenAt };
    const entries: ChangeEntry[] = [];
    let served = 0;
    for (;;) {
      const head = rows[0]!;
      const changes = sharedOf(head.changes_text);
      const feedRows = rows.filter((row) => row.change_id !== null);
      for (const row of feedRows) {
        position = {
          xid: row.xid!,
          changeId: row.change_id!,
          collectionId: row.collection_id!,
          recordId: row.record_id!,
          seenAt,
          seen: seenSnapshotAt(from.seen, row.xid!),
        };
        const entry = toEntry(row, changes.get(row.change_id!)!, names, position);
        if (entry) entries.push(entry);
      }
      served += feedRows.length;
      if (served >= limit) return { page: pageOf(entries, position, true, head.xmin), pending: false };
      if (head.changes_read < CHANGE_BATCH) {
        // Caught up: every change that ended before this read's xmin was served.
        const end: FeedCursor = {
          xid: head.xmin,
          changeId: '0',
          collectionId: '0',
          recordId: '',
          seenAt: readAt,
          seen: seenSnapshotAt(from.seen, head.xmin),
        };
        const next = comparePositions(end, position) > 0 ? end : { ...position, seenAt: readAt };
        return { page: pageOf(entries, next, false, head.xmin), pending: head.pending };
      }
      position = {
        xid: head.last_xid!,
        changeId: head.last_change_id!,
        collectionId: sql.LAST_COLLECTION,
        recordId: '',
        seenAt,
        seen: seenSnapshotAt(from.seen, head.last_xid!),
      };
      const next = position;
      rows = await run((tx) => {
        tx.query(sql.readSettings).catch(() => {}); // if it failed, so does the read, whose error is thrown
        return tx.query<FeedRow>(
          sql.readFeed(
            tenantId,
            collection,
            next,
            CHANGE_BATCH,
            limit - served,
            next.seen,
            head.xmin,
            withData,
          ),
        );
      });
    }
  }

  private async readBatch(
    run: Runner,
    tenantId: string,
    collection: string | null,
    from: FeedCursor,
    limit: number,
    upTo: string | undefined,
    withData: boolean,
  ) {
    return run(async (tx) => {
      const settings = tx.query(sql.readSettings);
      settings.catch(() => {}); // if it failed, so does the read, whose error is thrown
      const collections = tx.query<{ id: string; name: string }>(sql.listCollections(tenantId, collection));
      const horizon = tx.query<{ pruned_before: Date }>(sql.horizon(tenantId));
      const rows = tx.query<FeedRow>(
        sql.readFeed(tenantId, collection, from, CHANGE_BATCH, limit, from.seen, upTo ?? null, withData),
      );
      const list = await collections;
      if (collection !== null && list.length === 0) {
        throw new AppError('collection_not_found', `No collection "${collection}"`);
      }
      const [bound] = await horizon;
      return [
        {
          names: new Map(list.map((c) => [c.id, c.name])),
          horizon: bound ? bound.pruned_before.getTime() : null,
        },
        await rows,
      ] as const;
    });
  }
}

function pageOf(entries: ChangeEntry[], position: FeedCursor, hasMore: boolean, upTo: string): FeedPage {
  return { entries, nextCursor: encodeFeedCursor(position), hasMore, upTo };
}

/** What every record change of one change shares. */
interface ChangeShared {
  at: string;
  origin: ChangeOrigin;
}

/** The head row's changes_text as change id → what its record changes share. */
function sharedOf(changesText: string | null): Map<string, ChangeShared> {
  const shared = new Map<string, ChangeShared>();
  const list = changesText === null ? [] : (JSON.parse(changesText) as (string | null)[][]);
  for (const [id, at, kind, apiKeyId, syncRunId, snapshotId] of list) {
    const origin: ChangeOrigin = { kind: kind === 'api' ? 'manual' : (kind ?? 'unknown') };
    if (apiKeyId) origin.apiKeyId = apiKeyId;
    if (syncRunId) origin.syncRunId = syncRunId;
    if (snapshotId) origin.snapshotId = snapshotId;
    shared.set(id!, { at: at!, origin });
  }
  return shared;
}

function toEntry(
  row: FeedRow,
  change: ChangeShared,
  names: Map<string, string>,
  position: FeedCursor,
): ChangeEntry | null {
  const after = row.data_text;
  const before = row.version === 1 ? null : row.before_text;
  let op: ChangeItem['op'];
  let fields: string[];
  if (after === null) {
    if (before === null) return null; // was deleted, still is (a flag moved)
    op = 'delete';
    fields = [''];
  } else if (before === null) {
    op = 'create';
    fields = [''];
  } else {
    if (before === after) return null;
    fields = diffFields(JSON.parse(before) as JsonObject, JSON.parse(after) as JsonObject).map((c) => c.path);
    if (fields.length === 0) return null; // the same value, written another way
    op = 'update';
  }
  const item: ChangeItem = {
    cursor: encodeFeedCursor(position),
    collection: names.get(row.collection_id!) ?? row.collection_id!,
    recordId: row.record_id!,
    op,
    version: row.version!,
    origin: change.origin,
    fields,
    at: change.at,
    changeId: row.change_id!,
  };
  return { item, dataText: after };
}

/** A change's origin as JSON, written once for all of its record changes (they share the object). */
const originTexts = new WeakMap<ChangeOrigin, string>();

/**
 * One change as a line of JSON, its data spliced in as the text the database gave. Written field by
 * field, as JSON.stringify(item) would (same keys, same order): the cursor, op, time and change id
 * need no escaping, and the origin is the change's, written once.
 */
export function entryText(entry: ChangeEntry, includeData: boolean): string {
  const { item } = entry;
  let origin = originTexts.get(item.origin);
  if (origin === undefined) {
    origin = JSON.stringify(item.origin);
    originTexts.set(item.origin, origin);
  }
  const fields = item.fields.length === 1 && item.fields[0] === '' ? '[""]' : JSON.stringify(item.fields);
  const text =
    `{"cursor":"${item.cursor}","collection":${JSON.stringify(item.collection)},` +
    `"recordId":${JSON.stringify(item.recordId)},"op":"${item.op}","version":${item.version},` +
    `"origin":${origin},"fields":${fields},"at":"${item.at}","changeId":"${item.changeId}"`;
  return includeData ? `${text},"data":${entry.dataText ?? 'null'}}` : `${text}}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
