import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Database } from '../../src/db/database.ts';
import { ApiKeyService } from '../../src/features/api-keys/api-keys.service.ts';
import { generateKey, hashKey, keyHint, parseKey } from '../../src/features/api-keys/key-format.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every key that differs from `key` in exactly one character after the prefix. */
function oneCharacterChanges(key: string): string[] {
  const changed: string[] = [];
  for (let i = 4; i < key.length; i++) {
    const other = ALPHABET[(ALPHABET.indexOf(key[i]!) + 1 + (i % 7)) % ALPHABET.length]!;
    changed.push(key.slice(0, i) + other + key.slice(i + 1));
  }
  return changed;
}

test('keys carry a recognisable prefix per kind and parse back to it', () => {
  const tenant = generateKey('tenant');
  const platform = generateKey('platform');
  assert.match(tenant, /^smk_[A-Za-z0-9_-]{38}$/);
  assert.match(platform, /^smp_[A-Za-z0-9_-]{38}$/);
  assert.equal(parseKey(tenant), 'tenant');
  assert.equal(parseKey(platform), 'platform');
});

test('the checksum rejects every one-character change', () => {
  for (let round = 0; round < 20; round++) {
    const key = generateKey(round % 2 === 0 ? 'tenant' : 'platform');
    for (const changed of oneCharacterChanges(key)) assert.equal(parseKey(changed), undefined, changed);
  }
});

test('malformed keys are rejected by shape', () => {
  const key = generateKey('tenant');
  for (const bad of [
    '',
    'smk_',
    key.slice(0, -1),
    `${key}x`,
    `xyz_${key.slice(4)}`,
    key.toUpperCase(),
    ` ${key}`,
    `${key}\n`,
  ]) {
    assert.equal(parseKey(bad), undefined, JSON.stringify(bad));
  }
});

test('a key holds at least 128 random bits', () => {
  const keys = Array.from({ length: 2000 }, () => generateKey('tenant'));
  assert.equal(new Set(keys).size, keys.length);
  // The random part is the 32 base64url characters after the prefix: 6 bits each.
  const body = keys[0]!.slice(4, 36);
  assert.ok(body.length * 6 >= 128);
  // Every position varies across keys (no fixed or low-entropy characters).
  for (let i = 4; i < 36; i++) {
    const seen = new Set(keys.map((key) => key[i]));
    assert.ok(seen.size > 40, `position ${i} took only ${seen.size} values`);
  }
});

test('only a SHA-256 of the key is stored, and the hint reveals a few characters only', () => {
  const key = generateKey('tenant');
  assert.deepEqual(hashKey(key), createHash('sha256').update(key).digest());
  assert.equal(hashKey(key).length, 32);
  const hint = keyHint(key);
  assert.ok(hint.length <= 9 && key.startsWith(hint.replace('…', '')));
});

test('a mistyped key is refused without any database query', async () => {
  let queries = 0;
  const refuse = async () => {
    queries++;
    throw new Error('no query expected');
  };
  const db = {
    kind: 'pglite',
    query: refuse,
    transaction: refuse,
    exec: refuse,
    copyFrom: refuse,
    copyTo: refuse,
    close: refuse,
  };
  const keys = new ApiKeyService(db as unknown as Database);
  for (const kind of ['tenant', 'platform'] as const) {
    for (const changed of oneCharacterChanges(generateKey(kind))) {
      assert.equal(await keys.authenticate(changed), undefined);
    }
  }
  assert.equal(await keys.authenticate('not-a-key'), undefined);
  assert.equal(queries, 0);
});
