import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// copyFrom's failure contract, on the database the suite runs on: a COPY the server refuses rejects
// with the server's error code, and a savepoint taken before it rolls the transaction back to a usable
// state. On PostgreSQL this needs patch 4 of patches/apply.mjs (postgres.js 3.4.9 left the COPY
// waiting for ever, or let the transaction "commit" into a silent rollback).
let t: TestDatabase;

before(async () => {
  t = await createTestDatabase();
  await t.db.query('CREATE TABLE copy_target (id text PRIMARY KEY)');
  await t.db.query(`INSERT INTO copy_target VALUES ('taken')`);
});
after(() => t.close());

async function* rows(...chunks: string[]): AsyncGenerator<string> {
  yield* chunks;
}

for (const [name, chunks] of [
  ['at its first row', ['taken\nfree-1\n']],
  ['after many rows, while chunks are still being written', bigChunksWithDuplicateAt(3)],
] as const) {
  test(`a COPY refused ${name} rejects with the server's code; a savepoint recovers`, async () => {
    const seen = await t.db.transaction(async (tx) => {
      const savepoint = tx.query('SAVEPOINT before_copy');
      const failure = await tx.copyFrom('COPY copy_target (id)', rows(...chunks)).then(
        () => null,
        (error: { code?: string }) => error,
      );
      await savepoint;
      await tx.query('ROLLBACK TO SAVEPOINT before_copy');
      await tx.query(`INSERT INTO copy_target VALUES ('after-recovery')`);
      return failure;
    });
    assert.equal(seen?.code, '23505');
    const ids = await t.db.query<{ id: string }>('SELECT id FROM copy_target ORDER BY id');
    assert.deepEqual(
      ids.map((row) => row.id),
      ['after-recovery', 'taken'],
    );
    await t.db.query(`DELETE FROM copy_target WHERE id = 'after-recovery'`);
  });
}

function bigChunksWithDuplicateAt(chunk: number): string[] {
  const out: string[] = [];
  for (let c = 0; c < 40; c++) {
    let text = c === chunk ? 'taken\n' : '';
    for (let i = 0; i < 5000; i++) text += `row-${c}-${i}\n`;
    out.push(text);
  }
  return out;
}

// copyTo: the rows in order, split anywhere, and the connection usable after it. On PostgreSQL a COPY
// whose stream was full when it ended left the socket paused (patch 7 of patches/apply.mjs): the next
// statement of the transaction then waited for ever.
test('COPY TO streams every row of a large result, and the transaction goes on after it', {
  timeout: 30_000,
}, async () => {
  const statement = `COPY (SELECT g, repeat('x', 200) FROM generate_series(1, 40000) g ORDER BY g)`;
  for (let round = 0; round < 3; round++) {
    const after = await t.db.transaction(async (tx) => {
      const pieces: Buffer[] = [];
      for await (const piece of tx.copyTo(statement)) pieces.push(Buffer.from(piece));
      const lines = Buffer.concat(pieces).toString('utf8').split('\n');
      assert.equal(lines.length, 40_001, 'every row, then the final newline');
      assert.equal(lines[0], `1\t${'x'.repeat(200)}`);
      assert.equal(lines[39_999], `40000\t${'x'.repeat(200)}`);
      return tx.query<{ one: number }>('SELECT 1 AS one');
    });
    assert.equal(after[0]?.one, 1);
  }
});
