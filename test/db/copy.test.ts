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
