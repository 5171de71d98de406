import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReadFeedOptions } from '../../../src/sync/feed/index.ts';
import { readAll } from './helpers.ts';

const JSON_DOC = Buffer.from(
  '\uFEFF{"meta": {"s": "a]}\\"", "n": [1, {"x": "\\\\"}]},\r\n "records": [\n' +
    '  {"id": "é-1", "name": "Crème brûlée 🍮", "q": "say \\"hi\\" \\\\", "tags": ["]", "}"]},\n' +
    '  {"id": 2, "name": "日本語\\u00e9", "nested": {"a": [[], {}], "b": "\\\\\\""}},\r\n' +
    '  {"id": "3", "s": "\\\\"}\n ], "next": "end"}\n',
);

const NDJSON_DOC = Buffer.from(
  '{"id": "é-1", "name": "Crème brûlée 🍮", "q": "say \\"hi\\" \\\\"}\r\n' +
    '\r\n' +
    '{"id": 2, "name": "日本語\\u00e9", "nested": {"a": [[], {}]}}\n' +
    '  {"id": "é-1", "dup": true}\r\n' +
    '{"id": "3", "s": "\\\\"}',
);

/** The same document with one invalid UTF-8 byte and one bad row, so errors must match too. */
const BAD_JSON_DOC = Buffer.concat([
  Buffer.from('[{"id": "ü", "a": "'),
  Buffer.from([0xff]),
  Buffer.from('"}, {"id": "ü"}, {"id": "ü"}, 5]'),
]);

async function everySplitMatches(doc: Buffer, options: Partial<ReadFeedOptions>): Promise<void> {
  const whole = await readAll([doc], options);
  assert.ok(whole.summary.rows >= 3, 'the reference read must see the rows');
  for (let at = 0; at <= doc.length; at++) {
    const split = await readAll([doc.subarray(0, at), doc.subarray(at)], options);
    assert.deepEqual(split, whole, `split at byte ${at}`);
  }
  const bytes = Array.from({ length: doc.length }, (_, i) => doc.subarray(i, i + 1));
  assert.deepEqual(await readAll(bytes, options), whole, 'one byte per chunk');
}

describe('chunk boundaries anywhere give the same result', () => {
  test('JSON wrapper with multi-byte characters, escapes and a BOM', async () => {
    const whole = await readAll([JSON_DOC], { format: 'json', batchSize: 2 });
    assert.deepEqual(
      whole.records.map((r) => r.id),
      ['é-1', '2', '3'],
    );
    assert.equal(
      whole.records[1]!.text,
      '{"id": 2, "name": "日本語\\u00e9", "nested": {"a": [[], {}], "b": "\\\\\\""}}',
    );
    await everySplitMatches(JSON_DOC, { format: 'json', batchSize: 2 });
  });

  test('JSON strings ending in runs of backslashes, with quotes and brackets inside', async () => {
    // The scanner jumps from quote to quote inside strings: each value here ends in 0 to 5 backslashes
    // (a run of n escaped ones is 2n in JSON), some followed by an escaped quote, bracket or brace.
    const tails = ['', '\\', '\\\\', '\\"', '"', '\\]', ']}', '\\\\"]'];
    const rows = tails.map((tail, i) => ({ id: `r${i}${tail}`, v: `x${tail}`, n: [{ s: tail }] }));
    const doc = Buffer.from(`[${rows.map((row) => JSON.stringify(row)).join(',\n')}]`);
    const whole = await readAll([doc], { format: 'json' });
    assert.deepEqual(
      whole.records.map((r) => r.id),
      rows.map((r) => r.id),
    );
    assert.deepEqual(whole.summary.errors, []);
    await everySplitMatches(doc, { format: 'json' });
  });

  test('NDJSON with CRLF, blank lines, and a duplicate', async () => {
    const whole = await readAll([NDJSON_DOC], { format: 'ndjson' });
    assert.deepEqual(
      whole.summary.errors.map((e) => [e.code, e.row, e.line]),
      [['duplicate_id', 3, 4]],
    );
    await everySplitMatches(NDJSON_DOC, { format: 'ndjson' });
    await everySplitMatches(NDJSON_DOC, { format: 'auto' });
  });

  test('errors (invalid UTF-8, duplicates, non-objects) keep their offsets', async () => {
    const whole = await readAll([BAD_JSON_DOC], { format: 'json' });
    assert.deepEqual(
      whole.summary.errors.map((e) => [e.code, e.row, e.offset]),
      [
        ['invalid_utf8', 1, 20],
        ['duplicate_id', 3, BAD_JSON_DOC.indexOf('{"id": "ü"}', 30)],
        ['not_an_object', 4, BAD_JSON_DOC.length - 2],
      ],
    );
    await everySplitMatches(BAD_JSON_DOC, { format: 'json' });
  });
});
