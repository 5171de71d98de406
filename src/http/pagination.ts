import { AppError } from '../errors.ts';
import { findUnsafeJson } from '../json/index.ts';
import { isUuid } from '../lib/uuid.ts';

/**
 * Cursors are opaque to clients: base64url of the last key seen. Keyset pagination (WHERE key > last)
 * stays stable while others write, unlike OFFSET.
 */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify([lastKey])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // Only what this API hands out: an id PostgreSQL can hold (no NUL, no lone surrogate).
    const [after] = Array.isArray(parsed) && parsed.length === 1 ? parsed : [];
    if (typeof after === 'string' && findUnsafeJson(after).length === 0) return after;
  } catch {
    // fall through to the error below
  }
  throw invalidCursor();
}

/** A cursor whose key is a uuid (an API key's id): anything else is refused before the database sees it. */
export function decodeUuidCursor(cursor: string | undefined): string | null {
  const after = decodeCursor(cursor);
  if (after === null || isUuid(after)) return after;
  throw invalidCursor();
}

const BIGINT_MAX = 9223372036854775807n;

/** A cursor whose key is a PostgreSQL bigint (a change id): decimal digits, within its range. */
export function decodeBigintCursor(cursor: string | undefined): string | null {
  const after = decodeCursor(cursor);
  if (after === null || (/^\d{1,19}$/.test(after) && BigInt(after) <= BIGINT_MAX)) return after;
  throw invalidCursor();
}

export function invalidCursor(): AppError {
  return new AppError('invalid_cursor', 'The cursor is not one this API returned');
}

/** Fetch limit + 1 rows, return limit of them and a cursor when there was more. */
export function toPage<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => string,
): { items: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1]!)) };
}
