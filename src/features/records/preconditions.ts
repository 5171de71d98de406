import { AppError } from '../../errors.ts';

/** The conditional headers of a request (RFC 9110 §13), as sent. */
export interface Preconditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
}

/**
 * A record's ETag: strong, from its version. Versions only grow per record (a deleted and re-made
 * record keeps counting), so a tag is never reused for different content of the same record.
 */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * RFC 9110 §13.1.1/§13.1.2 on a write, against the locked row (`null`: the record was never made).
 * If-Match: `*` needs a live record; a list of tags needs the current one, compared strongly (a weak
 * tag never matches), and a record that does not exist fails it (412, not 404: the client's
 * precondition is what failed). If-None-Match: `*` refuses to overwrite a live record (create only).
 */
export function checkWritePreconditions(
  preconditions: Preconditions,
  current: { version: number; live: boolean } | null,
): void {
  const { ifMatch, ifNoneMatch } = preconditions;
  if (ifMatch !== undefined) {
    const ok = isStar(ifMatch)
      ? current?.live === true
      : current !== null && tagsOf(ifMatch).includes(etagOf(current.version));
    if (!ok) throw stale('If-Match', current);
  }
  if (ifNoneMatch !== undefined && current !== null) {
    const matches = isStar(ifNoneMatch)
      ? current.live
      : tagsOf(ifNoneMatch).some((tag) => weakEquals(tag, etagOf(current.version)));
    if (matches) throw stale('If-None-Match', current);
  }
}

/** If-None-Match on a read (weak comparison): true when the client's copy is current (→ 304). */
export function notModified(ifNoneMatch: string | undefined, version: number): boolean {
  if (ifNoneMatch === undefined) return false;
  if (isStar(ifNoneMatch)) return true;
  const etag = etagOf(version);
  return tagsOf(ifNoneMatch).some((tag) => weakEquals(tag, etag));
}

function stale(header: string, current: { version: number } | null): AppError {
  const now = current ? `the record is at ${etagOf(current.version)}` : 'the record does not exist';
  return new AppError('precondition_failed', `${header} does not hold: ${now}`, {
    currentEtag: current ? etagOf(current.version) : null,
  });
}

function isStar(header: string): boolean {
  return header.trim() === '*';
}

function tagsOf(header: string): string[] {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

function weakEquals(a: string, b: string): boolean {
  const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);
  return opaque(a) === opaque(b);
}
