import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  detectFormatFromName,
  FeedReader,
  readFeedFromFile,
  sniffFormat,
} from '../../../src/sync/feed/index.ts';
import { chunks, readAll } from './helpers.ts';

describe('readFeed, JSON', () => {
  test('reads a bare array: row, id, raw trimmed text, sha1 of the text', async () => {
    const { records, summary } = await readAll(['[\n  {"id": "a", "n": 1} ,\n{"id":2}\n]\n']);
    assert.deepEqual(
      records.map((r) => [r.row, r.id, r.text]),
      [
        [1, 'a', '{"id": "a", "n": 1}'],
        [2, '2', '{"id":2}'],
      ],
    );
    assert.equal(records[0]!.hash, hash('sha1', '{"id": "a", "n": 1}', 'base64'));
    assert.deepEqual(summary, { rows: 2, errors: [], errorCount: 0, format: 'json' });
  });

  test('reads the records member of a wrapper object and checks the other members', async () => {
    const feed = '{"meta": {"x": [1, "]"]}, "records": [{"id": 1}], "next": null}';
    const { records, summary } = await readAll([feed]);
    assert.deepEqual(
      records.map((r) => r.id),
      ['1'],
    );
    assert.equal(summary.errorCount, 0);
    const bad = await readAll(['{"meta": {"x": tru}, "records": [{"id": 1}]}']);
    assert.equal(bad.summary.errors[0]?.code, 'invalid_json');
    assert.match(bad.summary.errors[0]!.message, /"meta"/);
    const none = await readAll(['{"data": [{"id": 1}]}']);
    assert.match(none.summary.errors[0]!.message, /no "records" array/);
  });

  test('strings with brackets, braces, quotes, escaped quotes and backslashes stay inside their record', async () => {
    const texts = [
      '{"id":"a]","s":"}{[,"}',
      '{"id":"b","s":"say \\"hi\\", ]"}',
      '{"id":"c","s":"\\\\","t":"\\\\\\""}',
    ];
    const { records, summary } = await readAll([`[${texts.join(',')}]`]);
    assert.equal(summary.errorCount, 0);
    assert.deepEqual(
      records.map((r) => r.text),
      texts,
    );
    assert.deepEqual(
      records.map((r) => r.id),
      ['a]', 'b', 'c'],
    );
  });

  test('an empty array is zero rows; an empty file is an error', async () => {
    assert.deepEqual((await readAll(['  [ ] '])).summary, {
      rows: 0,
      errors: [],
      errorCount: 0,
      format: 'json',
    });
    assert.deepEqual((await readAll(['{"records": []}'])).summary.errorCount, 0);
    const empty = await readAll([]);
    assert.equal(empty.summary.errors[0]?.code, 'invalid_json');
    assert.match(empty.summary.errors[0]!.message, /empty feed/);
  });

  test('bytes after the closing bracket, a trailing comma or an unfinished array are errors with offsets', async () => {
    const garbage = await readAll(['[{"id":1}] [{"id":2}]']);
    assert.deepEqual(garbage.summary.errors, [
      {
        code: 'invalid_json',
        offset: 11,
        message: "unexpected '[' after the end of the feed's JSON value (byte 11)",
      },
    ]);
    assert.equal(garbage.records.length, 0);
    const comma = await readAll(['[{"id":1},]']);
    assert.deepEqual(
      comma.summary.errors.map((e) => [e.code, e.offset]),
      [['invalid_json', 10]],
    );
    const cut = await readAll(['[{"id":1}, {"id": "tr']);
    assert.match(cut.summary.errors[0]!.message, /unexpected end of feed/);
  });

  test('integer ids become decimal strings; other ids are errors', async () => {
    const { records } = await readAll(['[{"id": 42}, {"id": -7}, {"id": 9007199254740991}]']);
    assert.deepEqual(
      records.map((r) => r.id),
      ['42', '-7', '9007199254740991'],
    );
    const bad = await readAll([
      `[{"id": 1.5}, {"id": ""}, {"id": "${'x'.repeat(513)}"}, {"id": null}, {"id": [1]}, {"name": 1}]`,
    ]);
    assert.deepEqual(
      bad.summary.errors.map((e) => [e.row, e.code]),
      [
        [1, 'invalid_id'],
        [2, 'invalid_id'],
        [3, 'invalid_id'],
        [4, 'invalid_id'],
        [5, 'invalid_id'],
        [6, 'missing_id'],
      ],
    );
    const ok = await readAll([`[{"id": "${'x'.repeat(512)}"}]`]);
    assert.equal(ok.summary.errorCount, 0);
  });

  test('every record kind of error, with its row and byte offset', async () => {
    const feed =
      '[{"id":1}, 7, {"id":1}, {"id":2,"x":tru}, {"id":"\\u0000"}, {"id":3,"big":12345678901234567890}]';
    const { records, summary } = await readAll([feed]);
    assert.equal(records.length, 0, 'nothing is yielded once an error is seen');
    assert.deepEqual(
      summary.errors.map(({ row, offset, code, id }) => ({ row, offset, code, id })),
      [
        { row: 2, offset: 11, code: 'not_an_object', id: undefined },
        { row: 3, offset: 14, code: 'duplicate_id', id: '1' },
        { row: 4, offset: feed.indexOf('{"id":2'), code: 'invalid_json', id: undefined },
        { row: 5, offset: feed.indexOf('{"id":"\\u0000'), code: 'unsafe_value', id: '\u0000' },
        { row: 6, offset: feed.indexOf('{"id":3'), code: 'unsafe_value', id: '3' },
      ],
    );
    assert.match(summary.errors[1]!.message, /duplicate id "1": an earlier row has the same id/);
    assert.match(summary.errors[2]!.message, /^invalid JSON: /);
    assert.match(summary.errors[4]!.message, /12345678901234567890/);
    assert.equal(summary.rows, 6);
  });

  test('unsafe values: __proto__ keys, lone surrogates, depth over 64, overflowing exponents', async () => {
    const deep = `${'{"a":'.repeat(70)}1${'}'.repeat(70)}`;
    const deepOk = `${'['.repeat(60)}1${']'.repeat(60)}`;
    const feed = `[{"id":1,"__proto__":{"x":1}}, {"id":2,"s":"\\ud800"}, {"id":3,"d":${deep}}, {"id":4,"n":1e400},
      {"id":5,"n":0.1,"m":1e-5,"z":0,"d":${deepOk}}, {"id":6,"z":1e-400}, {"id":7,"n":0.30000000000000004441}]`;
    const { summary } = await readAll([feed]);
    assert.deepEqual(
      summary.errors.map((e) => [e.row, e.code]),
      [
        [1, 'unsafe_value'],
        [2, 'unsafe_value'],
        [3, 'unsafe_value'],
        [4, 'unsafe_value'],
        [6, 'unsafe_value'],
        [7, 'unsafe_value'],
      ],
    );
  });

  test('a bad record at the very end of a 10,000-record feed is reported as row 10000', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ id: `r${i + 1}`, n: i }));
    rows[9_999] = '{"id":"r10000","n":}';
    const text = `[${rows.join(',\n')}]`;
    const { summary, records } = await readAll([text], { batchSize: 1000 });
    assert.equal(summary.rows, 10_000);
    assert.deepEqual(
      summary.errors.map((e) => [e.row, e.code, e.offset]),
      [[10_000, 'invalid_json', text.lastIndexOf('{')]],
    );
    assert.equal(records.length < 10_000, true, 'the batch holding the bad row is not yielded');
  });

  test('errors are capped at maxErrors but all are counted, and reading goes on to the end', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? `{"id":${i}}` : '{"nope":1}'));
    const { summary } = await readAll([lines.join('\n')], { format: 'ndjson', maxErrors: 3 });
    assert.equal(summary.errorCount, 25);
    assert.deepEqual(
      summary.errors.map((e) => [e.row, e.line]),
      [
        [2, 2],
        [4, 4],
        [6, 6],
      ],
    );
    assert.equal(summary.rows, 50);
  });

  test('batches hold batchSize records', async () => {
    const feed = `[${Array.from({ length: 12 }, (_, i) => `{"id":${i}}`).join(',')}]`;
    const { batchSizes } = await readAll([feed], { batchSize: 5 });
    assert.deepEqual(batchSizes, [5, 5, 2]);
  });

  test('checkDuplicates: false leaves duplicates to the caller', async () => {
    const { summary } = await readAll(['[{"id":1},{"id":1}]'], { checkDuplicates: false });
    assert.equal(summary.errorCount, 0);
  });
});

describe('readFeed, NDJSON', () => {
  test('one record per line; blank lines skipped; CRLF accepted; no newline at the end', async () => {
    const { records, summary } = await readAll(['{"id":"a"}\r\n\r\n  \n{"id":"b"} \r\n{"id":3}'], {
      format: 'ndjson',
    });
    assert.deepEqual(
      records.map((r) => [r.row, r.id, r.text]),
      [
        [1, 'a', '{"id":"a"}'],
        [2, 'b', '{"id":"b"}'],
        [3, '3', '{"id":3}'],
      ],
    );
    assert.equal(summary.errorCount, 0);
    assert.deepEqual((await readAll([], { format: 'ndjson' })).summary.rows, 0);
  });

  test('errors give the row and the physical line', async () => {
    const { summary } = await readAll(['{"id":1}\n\n[1]\n{"id":1}\n{"id":\n"str"\n'], { format: 'ndjson' });
    assert.deepEqual(
      summary.errors.map(({ row, line, code }) => [row, line, code]),
      [
        [2, 3, 'not_an_object'],
        [3, 4, 'duplicate_id'],
        [4, 5, 'invalid_json'],
        [5, 6, 'not_an_object'],
      ],
    );
  });

  test('invalid UTF-8 is an error with its byte offset, never a silent U+FFFD', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"id":1}\n{"id":"a'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}\n'),
    ]);
    const { summary } = await readAll([bytes], { format: 'ndjson' });
    assert.deepEqual(
      summary.errors.map(({ row, line, offset, code }) => ({ row, line, offset, code })),
      [{ row: 2, line: 2, offset: 17, code: 'invalid_utf8' }],
    );
    const json = await readAll([
      Buffer.concat([Buffer.from('[{"id":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}]')]),
    ]);
    assert.deepEqual(
      json.summary.errors.map((e) => [e.code, e.offset]),
      [['invalid_utf8', 8]],
    );
  });

  test('a leading BOM is skipped', async () => {
    const { records } = await readAll([Buffer.from([0xef, 0xbb, 0xbf]), '{"id":1}\n'], { format: 'ndjson' });
    assert.deepEqual(
      records.map((r) => r.text),
      ['{"id":1}'],
    );
  });
});

describe('format detection', () => {
  test('auto: [ is JSON, a wrapper is JSON, complete first lines with more lines are NDJSON', async () => {
    const read = async (text: string) => (await readAll([text], { format: 'auto' })).summary.format;
    assert.equal(await read('  [{"id":1}]'), 'json');
    assert.equal(await read('{\n  "records": [{"id": 1}]\n}'), 'json');
    assert.equal(await read('{"records": [{"id": 1}]}\n'), 'json');
    assert.equal(await read('{"id":1}\n{"id":2}\n'), 'ndjson');
    assert.equal(await read('{"id":1}'), 'ndjson');
    assert.equal(await read(''), 'ndjson');
    assert.equal(sniffFormat(Buffer.from('{"id":1}\n  '), false), null, 'waits for more bytes');
  });

  test('detectFormatFromName maps extensions', () => {
    assert.equal(detectFormatFromName('a/b/feed.NDJSON'), 'ndjson');
    assert.equal(detectFormatFromName('feed.jsonl'), 'ndjson');
    assert.equal(detectFormatFromName('feed.json'), 'json');
    assert.equal(detectFormatFromName('feed.csv'), null);
  });

  test('readFeedFromFile picks the format from the extension; FeedReader gives the summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-test-'));
    try {
      const path = join(dir, 'feed.jsonl');
      writeFileSync(path, '{"id":1}\n{"id":2}\n');
      const feed = readFeedFromFile(path, { idField: 'id' });
      let step = await feed.next();
      const ids: string[] = [];
      for (; !step.done; step = await feed.next()) ids.push(...step.value.records.map((r) => r.id));
      assert.deepEqual(ids, ['1', '2']);
      assert.equal(step.value.format, 'ndjson');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const reader = new FeedReader(chunks(['[{"id":"x"},{"id":"x"}]']), { format: 'json', idField: 'id' });
    assert.throws(() => reader.summary(), /before batches/);
    for await (const batch of reader.batches()) assert.fail(`no batch expected, got ${batch.records.length}`);
    assert.equal(reader.summary().errors[0]?.code, 'duplicate_id');
  });
});
