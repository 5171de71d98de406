// BinaryCopyBuffer (src/sync/copy-binary.ts) writes the first import's rows in PostgreSQL's COPY binary
// format: these tests load its bytes into a real table on the database the suite runs on, and read them
// back with readBinaryCopyRows (what the sync does after a chunk conflicts with a record made by hand).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BinaryCopyBuffer,
  binaryBigintField,
  binaryUuidField,
  readBinaryCopyRows,
} from '../../../src/db/copy/copy-binary.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

const TENANT = '0b9f6c1e-5a3d-4e2f-9c8b-7a6d5e4f3a21';
/** Ids and documents that COPY text would have to escape, non-ASCII, long, and empty-ish. */
const ROWS: [string, string][] = [
  ['plain', '{"id":"plain","n":1}'],
  ['tab\there', '{"s":"back\\\\slash \\"quoted\\" \\t"}'],
  ['line\nbreak\r', '{"a":"x\\ny","b":[1,2,{"c":null}]}'],
  ['ünïcødé 🎉', '{"emoji":"🎉","k":"é","n":-1.5e300}'],
  ['\\N', '{}'],
  ['long', JSON.stringify({ s: 'é'.repeat(50_000) })],
];

function write(buffer: BinaryCopyBuffer, rows: [string, string][]): Buffer {
  const head = Buffer.concat([binaryUuidField(TENANT), binaryBigintField('9007199254740993')]);
  for (const [id, doc] of rows) {
    buffer.row(4);
    buffer.raw(head);
    buffer.text(id);
    buffer.jsonb(doc);
  }
  return buffer.take();
}

async function* once(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk;
}

describe('BinaryCopyBuffer', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await t.db.query('CREATE TABLE binary_target (tenant uuid, big bigint, id text, doc jsonb)');
  });
  after(() => t.close());

  test('a COPY binary load stores every value exactly, escapes, non-ASCII and a value past the buffer', async () => {
    const stream = write(new BinaryCopyBuffer(64), ROWS);
    await t.db.transaction((tx) =>
      tx.copyFrom('COPY binary_target (tenant, big, id, doc)', once(stream), 'binary'),
    );
    const stored = await t.db.query<{ tenant: string; big: string; id: string; doc: string }>(
      'SELECT tenant::text, big::text, id, doc::text FROM binary_target',
    );
    assert.equal(stored.length, ROWS.length);
    const byId = new Map(stored.map((row) => [row.id, row]));
    for (const [id, doc] of ROWS) {
      const row = byId.get(id);
      assert.ok(row, `row ${JSON.stringify(id)} is missing`);
      assert.equal(row.tenant, TENANT);
      assert.equal(row.big, '9007199254740993');
      assert.deepEqual(JSON.parse(row.doc), JSON.parse(doc), id);
    }
  });

  test('readBinaryCopyRows gives back each field as written', () => {
    const rows = readBinaryCopyRows(write(new BinaryCopyBuffer(1024), ROWS));
    assert.equal(rows.length, ROWS.length);
    rows.forEach(([tenant, big, id, doc], i) => {
      assert.equal(tenant!.toString('hex'), TENANT.replaceAll('-', ''));
      assert.equal(big!.readBigInt64BE(), 9007199254740993n);
      assert.equal(id!.toString('utf8'), ROWS[i]![0]);
      assert.equal(doc![0], 1, 'jsonb version byte');
      assert.equal(doc!.toString('utf8', 1), ROWS[i]![1]);
    });
  });

  test('each take() is one whole stream; an empty buffer takes nothing', () => {
    const buffer = new BinaryCopyBuffer(1024);
    assert.equal(buffer.take().length, 0);
    const first = write(buffer, ROWS.slice(0, 2));
    assert.equal(readBinaryCopyRows(first).length, 2);
    const second = write(buffer, ROWS.slice(2));
    assert.equal(readBinaryCopyRows(second).length, ROWS.length - 2);
    assert.throws(() => readBinaryCopyRows(Buffer.from('not a stream')), /not a COPY binary stream/);
  });
});
