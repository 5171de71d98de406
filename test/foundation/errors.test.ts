import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AppError, ERROR_CATALOG, type ErrorCode } from '../../src/errors.ts';
import { toAppError } from '../../src/http/problem.ts';

const DOC = new URL('../../docs/errors.md', import.meta.url);

/** The rows of the table in docs/errors.md: | `code` | status | title | when |. */
function documentedRows(): Map<string, { status: number; title: string; when: string }> {
  const rows = new Map<string, { status: number; title: string; when: string }>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const match = /^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d{3})\s*\|([^|]+)\|(.+)\|\s*$/.exec(line);
    if (!match) continue;
    assert.ok(!rows.has(match[1]!), `docs/errors.md lists ${match[1]} twice`);
    rows.set(match[1]!, { status: Number(match[2]), title: match[3]!.trim(), when: match[4]!.trim() });
  }
  return rows;
}

test('error codes are unique, snake_case, and have an HTTP error status and a title', () => {
  const source = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');
  const declared = [...source.matchAll(/^\s+([a-z0-9_]+): \{ status:/gm)].map((m) => m[1]);
  assert.equal(new Set(declared).size, declared.length, 'a code is declared twice in src/errors.ts');
  for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
    assert.match(code, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, code);
    assert.ok(entry.status >= 400 && entry.status <= 599, code);
    assert.ok(entry.title.length > 0, code);
  }
});

test('every code in src/errors.ts is documented in docs/errors.md with its status and title', () => {
  const rows = documentedRows();
  const missing: string[] = [];
  for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
    const row = rows.get(code);
    if (!row) {
      missing.push(code);
      continue;
    }
    assert.equal(
      row.status,
      entry.status,
      `docs/errors.md: ${code} has status ${row.status}, the catalog ${entry.status}`,
    );
    assert.equal(row.title, entry.title, `docs/errors.md: the title of ${code} differs from the catalog`);
    assert.ok(row.when.length > 10, `docs/errors.md: say when ${code} happens`);
  }
  assert.deepEqual(missing, [], `add a row to docs/errors.md for: ${missing.join(', ')}`);
});

test('docs/errors.md names no code the catalog lacks', () => {
  const stale = [...documentedRows().keys()].filter((code) => !(code in ERROR_CATALOG));
  assert.deepEqual(
    stale,
    [],
    `docs/errors.md documents codes that src/errors.ts no longer has: ${stale.join(', ')}`,
  );
});

test('an AppError takes its status and title from the catalog; Fastify errors map onto it', () => {
  for (const code of Object.keys(ERROR_CATALOG) as ErrorCode[]) {
    const error = new AppError(code);
    assert.equal(error.status, ERROR_CATALOG[code].status);
    assert.equal(error.message, ERROR_CATALOG[code].title);
  }
  const tooLarge = Object.assign(new Error('too big'), {
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    statusCode: 413,
  });
  assert.equal(toAppError(tooLarge)?.code, 'payload_too_large');
  assert.equal(toAppError(new Error('boom')), undefined);
});
