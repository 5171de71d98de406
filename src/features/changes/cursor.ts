import { AppError } from '../../errors.ts';
import { findUnsafeJson } from '../../json/index.ts';
import type { FeedPosition } from './changes.sql.ts';

/**
 * A change feed cursor: the position of the last change served, (xid, change id, collection id,
 * record id), and `seenAt`, a time before which every change the consumer has not seen yet had not
 * committed (docs/changes.md: it decides whether retention may have pruned one: 410 cursor_expired).
 * `seenAt` is null only for the start of the feed, before its first read.
 *
 * `seen`, set only on a cursor of "now" (an export's, a new webhook's), is the PostgreSQL snapshot
 * taken with it: changes already visible in it were committed before the cursor was handed out and
 * are not served, although their transaction ids may sort after the cursor (docs/changes.md).
 */
export interface FeedCursor extends FeedPosition {
  seenAt: number | null;
  seen: string | null;
}

export const FEED_START: FeedCursor = {
  xid: '0',
  changeId: '0',
  collectionId: '0',
  recordId: '',
  seenAt: null,
  seen: null,
};

const DIGITS = /^\d{1,20}$/;

/** Opaque to clients: base64url of a small JSON array. */
export function encodeFeedCursor(cursor: FeedCursor): string {
  const parts = [1, cursor.xid, cursor.changeId, cursor.collectionId, cursor.recordId, cursor.seenAt];
  if (cursor.seen !== null) parts.push(cursor.seen);
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeFeedCursor(text: string | undefined): FeedCursor {
  if (text === undefined || text === '') return FEED_START;
  try {
    const parts: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && (parts.length === 6 || parts.length === 7) && parts[0] === 1) {
      const [, xid, changeId, collectionId, recordId, seenAt, seen = null] = parts as unknown[];
      if (
        typeof xid === 'string' &&
        DIGITS.test(xid) &&
        BigInt(xid) <= 18446744073709551615n &&
        typeof changeId === 'string' &&
        DIGITS.test(changeId) &&
        BigInt(changeId) <= 9223372036854775807n &&
        typeof collectionId === 'string' &&
        DIGITS.test(collectionId) &&
        BigInt(collectionId) <= 9223372036854775807n &&
        typeof recordId === 'string' &&
        findUnsafeJson(recordId).length === 0 &&
        (seenAt === null || (typeof seenAt === 'number' && Number.isSafeInteger(seenAt))) &&
        (seen === null || isSnapshotText(seen))
      ) {
        return { xid, changeId, collectionId, recordId, seenAt, seen };
      }
    }
  } catch {
    // fall through
  }
  throw new AppError('invalid_cursor', 'The cursor is not one this API returned');
}

const SNAPSHOT = /^(\d{1,20}):(\d{1,20}):((?:\d{1,20},){0,9999}\d{1,20})?$/;

/** What PostgreSQL's pg_snapshot input accepts: 0 < xmin <= xmax, in-progress ids sorted in [xmin, xmax). */
function isSnapshotText(text: unknown): text is string {
  const match = typeof text === 'string' ? SNAPSHOT.exec(text) : null;
  if (!match) return false;
  const xmin = BigInt(match[1]!);
  const xmax = BigInt(match[2]!);
  const xips = match[3] ? match[3].split(',').map(BigInt) : [];
  const max = 18446744073709551615n;
  if (xmin === 0n || xmin > xmax || xmax > max) return false;
  return xips.every((xip, i) => xip >= xmin && xip < xmax && (i === 0 || xip >= xips[i - 1]!));
}

/** The snapshot a cursor at `xid` still needs: none once every id it could hide sorts before `xid`. */
export function seenSnapshotAt(seen: string | null, xid: string): string | null {
  if (seen === null) return null;
  const xmax = BigInt(seen.slice(seen.indexOf(':') + 1, seen.lastIndexOf(':')));
  return BigInt(xid) >= xmax ? null : seen;
}

/** -1, 0 or 1 as position a sorts before, with or after b (seenAt aside). */
export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  const keys: [bigint, bigint][] = [
    [BigInt(a.xid), BigInt(b.xid)],
    [BigInt(a.changeId), BigInt(b.changeId)],
    [BigInt(a.collectionId), BigInt(b.collectionId)],
  ];
  for (const [x, y] of keys) if (x !== y) return x < y ? -1 : 1;
  return a.recordId === b.recordId ? 0 : a.recordId < b.recordId ? -1 : 1;
}
