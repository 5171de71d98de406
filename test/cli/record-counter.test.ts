// The CLI's client-side record count behind the sync progress bar: exact for well-formed feeds however
// the stream is cut into chunks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordCounter } from '../../src/cli/record-counter.ts';

/** Counts `text` fed in pieces of `size` bytes (1: every possible cut between chunks). */
function count(format: 'json' | 'ndjson', text: string, size: number): number {
  const bytes = Buffer.from(text);
  const counter = recordCounter(format);
  for (let offset = 0; offset < bytes.length; offset += size)
    counter.push(bytes.subarray(offset, offset + size));
  counter.end();
  return counter.records;
}

function assertCount(format: 'json' | 'ndjson', text: string, expected: number): void {
  for (const size of [1, 2, 3, 7, 64, text.length + 1]) {
    assert.equal(count(format, text, size), expected, `${format} in chunks of ${size}: ${text}`);
  }
}

// Strings that hold every character the counter reacts to, escaped quotes and backslashes included.
const tricky = [
  { id: 'a', name: 'brackets ] [ } { , : in a string' },
  { id: 'b', quote: 'say "records": [1, 2]', slash: 'C:\\dir\\', tail: '\\"' },
  { id: 'c', nested: { list: [{ x: [] }, [{}]], records: [{ id: 'not a record' }] } },
  { id: 'd', unicode: 'caf\u00e9 \u2028 😀', empty: '' },
];

describe('JSON', () => {
  test('a bare array: one per element, nested arrays and objects and strings aside', () => {
    assertCount('json', JSON.stringify(tricky), tricky.length);
    assertCount('json', JSON.stringify(tricky, null, 2), tricky.length);
    assertCount('json', '[]', 0);
    assertCount('json', ' \n[ ]\n', 0);
  });

  test('a wrapper object: the elements of "records" only, whatever members come before or after', () => {
    const wrapped = {
      meta: { records: [{ id: 'x' }], note: '"records": [{}]' },
      other: [{ id: 'y' }, { id: 'z' }],
      records: tricky,
      after: [{ id: 'w' }],
    };
    assertCount('json', JSON.stringify(wrapped), tricky.length);
    assertCount('json', JSON.stringify(wrapped, null, 1), tricky.length);
    assertCount('json', JSON.stringify({ records: [] }), 0);
    assertCount('json', JSON.stringify({ recordsX: [{}], 'rec"ords': [{}], notrecords: [{}] }), 0);
    assertCount('json', '{"records"\n:\n[{"id":1} , {"id":2}]}', 2);
  });

  test('several top-level objects (NDJSON sent as JSON) count one each', () => {
    assertCount('json', tricky.map((record) => JSON.stringify(record)).join('\n'), tricky.length);
  });

  test('large feeds count exactly, in the chunk sizes the CLI reads', () => {
    const records = Array.from({ length: 5000 }, (_, i) => ({
      id: `r${i}`,
      text: `"${'\\'.repeat(i % 4)}]`,
    }));
    const text = JSON.stringify(records);
    assert.equal(count('json', text, 1 << 16), 5000);
    assert.equal(count('json', text, 4093), 5000);
  });
});

describe('NDJSON', () => {
  test('one per non-blank line, with or without a final newline, LF or CRLF', () => {
    const lines = tricky.map((record) => JSON.stringify(record));
    assertCount('ndjson', `${lines.join('\n')}\n`, lines.length);
    assertCount('ndjson', lines.join('\n'), lines.length);
    assertCount('ndjson', `${lines.join('\r\n')}\r\n`, lines.length);
    assertCount('ndjson', `\n\n${lines.join('\n\r\n\n')}\n\n`, lines.length);
    assertCount('ndjson', '', 0);
    assertCount('ndjson', '\r\n', 0);
  });
});
