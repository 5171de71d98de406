// CopyBuffer (src/sync/copy-buffer.ts) writes the sync's COPY rows as bytes: these tests pin that the
// bytes are the COPY text copyRow would build, whatever the values hold and however large they are, and
// that a taken chunk stays intact while the next one is written.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CopyBuffer } from '../../../src/db/copy/copy-buffer.ts';
import { copyRow, needsCopyEscape } from '../../../src/db/copy/copy-text.ts';

/** One row through CopyBuffer: every column as `text` (escaped), as copyRow takes them. */
function row(buffer: CopyBuffer, values: string[]): void {
  for (let i = 0; i < values.length; i++) buffer.text(values[i]!, i === values.length - 1);
}

describe('CopyBuffer', () => {
  test('rows are byte for byte what copyRow builds, escapes and non-ASCII included', () => {
    const rows = [
      ['plain', '{"id":"a","n":1}'],
      ['tab\there', '{"s":"back\\\\slash \\"quoted\\""}'],
      ['line\nbreak\r', '{"a":\t1,\r\n"b": 2}'],
      ['ünïcødé 🎉', '{"emoji":"🎉","k":"é"}'],
      ['\\', '\\\\'],
    ];
    const buffer = new CopyBuffer(64);
    for (const values of rows) row(buffer, values);
    const expected = rows.map((values) => copyRow(values)).join('');
    assert.equal(buffer.take().toString('utf8'), expected);
  });

  test('plain and raw columns go in as given, between the escaped ones', () => {
    const buffer = new CopyBuffer(16);
    buffer.raw(Buffer.from('t1\tc1\t'));
    buffer.text('id\t1');
    buffer.plain('abc+/=');
    buffer.plain('42', true);
    assert.equal(buffer.take().toString('utf8'), 't1\tc1\tid\\t1\tabc+/=\t42\n');
  });

  test('a value larger than the buffer grows it, keeping what was written', () => {
    const buffer = new CopyBuffer(8);
    const big = `{"s":"${'é'.repeat(100_000)}\\n"}`;
    buffer.plain('first');
    buffer.text(big, true);
    const bytes = buffer.take();
    assert.equal(bytes.toString('utf8'), `first\t${big.replaceAll('\\', '\\\\')}\n`);
  });

  test('rows far past the chunk size are all kept, in order', () => {
    const buffer = new CopyBuffer(1024);
    const rows: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const text = `{"id":"r${i}","v":"${'x'.repeat(i % 50)}"}`;
      rows.push(copyRow([text]));
      buffer.text(text, true);
    }
    assert.equal(buffer.take().toString('utf8'), rows.join(''));
  });

  test('a taken chunk is untouched while the next is written; the one after reuses its memory', () => {
    const buffer = new CopyBuffer(1024);
    buffer.text('one', true);
    const first = buffer.take();
    buffer.text('two', true);
    assert.equal(first.toString(), 'one\n');
    const second = buffer.take();
    assert.equal(second.toString(), 'two\n');
    assert.equal(buffer.length, 0);
    buffer.text('three', true);
    assert.equal(buffer.take().toString(), 'three\n');
    // The third chunk was written over the first one's memory: why a write must be settled first.
    assert.equal(first.toString(), 'thre');
  });

  test('needsCopyEscape finds each character COPY escapes, and only those', () => {
    for (const ch of ['\\', '\t', '\n', '\r'])
      assert.equal(needsCopyEscape(`a${ch}b`), true, JSON.stringify(ch));
    assert.equal(needsCopyEscape('{"a":"b c","d":[1,2]} é 🎉 \u000b \f'), false);
  });
});
