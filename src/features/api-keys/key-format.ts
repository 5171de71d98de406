import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key format: `smk_<32 base64url chars: 192 random bits><6 chars of checksum>` for tenant keys,
 * `smp_…` for platform admin keys. The prefix makes a leaked key recognisable to secret scanners; the
 * checksum lets the server reject a mistyped or made-up key without a database query.
 */
export type KeyKind = 'tenant' | 'platform';

const PREFIX: Record<KeyKind, string> = { tenant: 'smk_', platform: 'smp_' };
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = /^(smk|smp)_([A-Za-z0-9_-]{32})([A-Za-z0-9_-]{6})$/;

function checksum(body: string): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, CHECKSUM_LENGTH);
}

/** A new secret, e.g. `smk_Xq3…a9Zk1`. */
export function generateKey(kind: KeyKind): string {
  const body = randomBytes(24).toString('base64url');
  return `${PREFIX[kind]}${body}${checksum(body)}`;
}

/** The key's kind when its shape and checksum are right; undefined otherwise (no database needed). */
export function parseKey(key: string): KeyKind | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const [, prefix, body, sum] = match as unknown as [string, string, string, string];
  if (body.length !== BODY_LENGTH || !safeEqual(checksum(body), sum)) return undefined;
  return prefix === 'smk' ? 'tenant' : 'platform';
}

/** Only this hash is stored; the key itself is shown once. */
export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** What listings show to identify a key without revealing it: `smk_Xq3f…`. */
export function keyHint(key: string): string {
  return `${key.slice(0, 8)}…`;
}
