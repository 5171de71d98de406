import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MERGE, type RecordsFixture, startRecordsFixture } from './fixture.ts';

let f: RecordsFixture;
before(async () => {
  f = await startRecordsFixture();
});
after(() => f.close());

/** Makes record `id` empty, then sends `n` PATCHes at once without If-Match, each setting field `<prefix><i>`. */
async function patchFieldsConcurrently(id: string, prefix: string, n: number): Promise<void> {
  await f.call('PUT', f.records(id), { body: {} });
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      f.call('PATCH', f.records(id), { body: { [`${prefix}${i}`]: i }, headers: MERGE }),
    ),
  );
  assert.deepEqual(
    responses.map((r) => r.status),
    Array(n).fill(200),
  );
}

test('50 concurrent PATCHes with one If-Match: exactly one 200 and 49 × 412', async () => {
  const put = await f.call('PUT', f.records('c1'), { body: { n: 0 } });
  const etag = put.headers.get('etag')!;
  const responses = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      f.call('PATCH', f.records('c1'), { body: { n: i + 1 }, headers: { ...MERGE, 'if-match': etag } }),
    ),
  );
  const statuses = responses.map((r) => r.status).sort();
  assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(statuses));
  assert.equal(statuses.filter((s) => s === 412).length, 49);
  const winner = responses.find((r) => r.status === 200)!;
  const get = await f.call('GET', f.records('c1'));
  assert.deepEqual(get.body, winner.body);
  assert.equal(get.headers.get('etag'), '"2"');
});

test('30 concurrent PATCHes of different fields without If-Match: all 30 fields present, 30 versions', async () => {
  await patchFieldsConcurrently('c2', 'f', 30);
  const get = await f.call('GET', f.records('c2'));
  for (let i = 0; i < 30; i++) assert.equal(get.body[`f${i}`], i, `f${i} lost`);
  assert.equal(get.headers.get('etag'), '"31"');
  const history = await f.call('GET', `${f.records('c2')}/history?limit=100`);
  assert.equal(history.body.items.length, 31);
});

test('concurrent PUTs creating one new id: one 201, the rest 200, one record', async () => {
  const responses = await Promise.all(
    Array.from({ length: 10 }, (_, i) => f.call('PUT', f.records('c3'), { body: { who: i } })),
  );
  const statuses = responses.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
  assert.equal(statuses.filter((s) => s === 200).length, 9);
});

test('concurrent PATCHes without If-Match: every version closes at the change of the next, in increasing order', async () => {
  // Edits queue per record and the optimistic write draws its change ids only once it holds the row at
  // the version it read, so the history reads as one increasing chain.
  await patchFieldsConcurrently('c4', 'g', 20);
  const chain = await f.server.db.query<{ version: number; valid_from: string; valid_to: string | null }>(
    `SELECT version, valid_from, valid_to FROM record_versions WHERE record_id = 'c4'
     UNION ALL SELECT version, change_id, NULL FROM records WHERE record_id = 'c4'
     ORDER BY version`,
  );
  assert.deepEqual(
    chain.map((row) => row.version),
    Array.from({ length: 21 }, (_, i) => i + 1),
  );
  for (let i = 0; i < chain.length - 1; i++) {
    const [version, next] = [chain[i]!, chain[i + 1]!];
    assert.ok(BigInt(version.valid_from) < BigInt(next.valid_from), `version ${version.version}`);
    assert.equal(version.valid_to, next.valid_from, `version ${version.version} closes at the next`);
  }
});
