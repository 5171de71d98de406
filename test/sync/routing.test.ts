// The client routes each feed row by the collection's stored index (src/sync/stored-index.ts): these
// tests pin what that must never get wrong — ids that need escaping, more records than one index page,
// flags of hand-made and gone records, and the conflict with a record made by hand during a sync.
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { describe, test } from 'node:test';
import { CollectionService } from '../../src/features/collections/collections.service.ts';
import { copyStoredIndex } from '../../src/features/syncs/staging.sql.ts';
import { addStoredLines } from '../../src/features/syncs/staging.ts';
import { SyncService } from '../../src/features/syncs/syncs.service.ts';
import { EntryNumbers, StoredIndex } from '../../src/sync/stored-index.ts';
import { handMade, makeCollection, ndjson, stored, sync, tenantServer } from './sync-helpers.ts';

const fixture = tenantServer();

const counts = (response: { body: { counts: Record<string, number> } }) => {
  const { created, updated, unchanged, deleted } = response.body.counts;
  return { created, updated, unchanged, deleted };
};

describe('routing feed rows by the stored index', () => {
  test('ids with backslashes, newlines, tabs and non-ASCII are recognised on the next sync', async () => {
    await makeCollection(fixture.ctx, 'odd');
    const ids = ['a\\b', 'line\nbreak', 'tab\there', 'back\\nslash-n', 'ünïcødé', '\\', 'emoji 🎉', 'x\r\ny'];
    const feed = ids.map((id, i) => ({ id, n: i }));
    assert.deepEqual(counts(await sync(fixture.ctx, 'odd', feed)), {
      created: 8,
      updated: 0,
      unchanged: 0,
      deleted: 0,
    });
    assert.deepEqual(counts(await sync(fixture.ctx, 'odd', feed)), {
      created: 0,
      updated: 0,
      unchanged: 8,
      deleted: 0,
    });
    const changed = feed.map((row, i) => (i === 1 ? { ...row, n: 100 } : row)).filter((_, i) => i !== 0);
    assert.deepEqual(counts(await sync(fixture.ctx, 'odd', changed)), {
      created: 0,
      updated: 1,
      unchanged: 6,
      deleted: 1,
    });
    const rows = await stored(fixture.ctx, fixture.tenantId, 'odd');
    assert.equal(rows.get('a\\b')!.data, null, 'the gone id is the one with a backslash');
    assert.equal(rows.get('a\\b')!.upstream_gone, true);
    assert.deepEqual(rows.get('line\nbreak')!.data, { id: 'line\nbreak', n: 100 });
  });

  test('a collection larger than one index page: unchanged, changed, new and gone all counted exactly', async () => {
    await makeCollection(fixture.ctx, 'big', { maxDeleteRatio: 1 });
    const n = 120_000;
    const row = (i: number, v = 0) => ({ id: `k${i}`, v });
    const first = Array.from({ length: n }, (_, i) => row(i));
    assert.equal((await sync(fixture.ctx, 'big', ndjson(first))).body.counts.created, n);
    const second: unknown[] = [];
    for (let i = 0; i < n + 50; i++) {
      if (i < n && i % 1000 === 1) continue; // 120 gone
      second.push(row(i, i % 500 === 3 ? 1 : 0)); // 240 changed; 50 new at the end
    }
    const result = await sync(fixture.ctx, 'big', ndjson(second));
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(counts(result), { created: 50, updated: 240, unchanged: n - 120 - 240, deleted: 120 });
    const live = await fixture.server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM records r JOIN collections c ON c.id = r.collection_id
       WHERE c.tenant_id = $1 AND c.name = 'big' AND r.data IS NOT NULL`,
      [fixture.tenantId],
    );
    assert.equal(live[0]!.n, n + 50 - 120);
  });

  test('a hand-made record and a record gone before are planned by the database, never skipped', async () => {
    await makeCollection(fixture.ctx, 'mixed');
    await sync(fixture.ctx, 'mixed', [
      { id: 'g', v: 1 },
      { id: 's', v: 1 },
    ]);
    await sync(fixture.ctx, 'mixed', [{ id: 's', v: 1 }]); // g gone
    await handMade(fixture.ctx, fixture.tenantId, 'mixed', 'h', { id: 'h', v: 1 });
    // The same content as before for g, and for h the same text a feed would send: both must be written.
    const result = await sync(fixture.ctx, 'mixed', [
      { id: 'g', v: 1 },
      { id: 's', v: 1 },
      { id: 'h', v: 1 },
    ]);
    assert.deepEqual(counts(result), { created: 1, updated: 1, unchanged: 1, deleted: 0 });
    const rows = await stored(fixture.ctx, fixture.tenantId, 'mixed');
    assert.deepEqual(rows.get('g')!.data, { id: 'g', v: 1 });
    assert.equal(rows.get('g')!.upstream_gone, false);
    assert.deepEqual(rows.get('h')!.source, { id: 'h', v: 1 }, 'the hand-made record now has a source');
  });

  // PGlite serves one connection: the hand-made insert would wait for the sync's transaction.
  const onPglite = !process.env.TEST_DATABASE_URL;
  test('a row recognised by its text still counts for duplicates, whichever row comes first', async () => {
    await makeCollection(fixture.ctx, 'dups');
    const a = { id: 'a', v: 1 };
    assert.equal((await sync(fixture.ctx, 'dups', [a, { id: 'b', v: 1 }])).status, 200);
    const cases: [string, unknown[]][] = [
      ['the same unchanged row twice', [a, a]],
      ['an unchanged row, then its id with other content', [a, { id: 'a', v: 2 }]],
      ['a changed row, then the unchanged text of that id', [{ id: 'a', v: 2 }, a]],
    ];
    for (const [what, feed] of cases) {
      const response = await sync(fixture.ctx, 'dups', feed, 'mode=partial');
      assert.equal(response.status, 422, what);
      const errors = response.body.errors as { code: string; id: string; row: number }[];
      assert.deepEqual(
        errors.map((e) => [e.code, e.id, e.row]),
        [['duplicate_id', 'a', 2]],
        what,
      );
    }
    const rows = await stored(fixture.ctx, fixture.tenantId, 'dups');
    assert.deepEqual(rows.get('a')!.data, a, 'nothing was applied');
  });

  test("a collection's id field is fixed once it holds records: an unchanged text names one record", async () => {
    await makeCollection(fixture.ctx, 'keyed');
    const put = (idField: string) =>
      fixture.server.request('PUT', '/v1/collections/keyed', { key: fixture.ctx.key, body: { idField } });
    assert.equal((await put('sku')).status, 200, 'an empty collection may change its id field');
    assert.equal((await sync(fixture.ctx, 'keyed', [{ id: 'x', sku: 's1' }])).status, 200);
    const refused = await put('id');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'id_field_locked');
    assert.equal((await put('sku')).status, 200, 'the same id field is fine');
    const again = await sync(fixture.ctx, 'keyed', [{ id: 'x', sku: 's1' }]);
    assert.equal(again.body.counts.unchanged, 1);
    assert.deepEqual([...(await stored(fixture.ctx, fixture.tenantId, 'keyed')).keys()], ['s1']);
  });

  test('a record made by hand while a sync streams is merged as a changed row, not refused', {
    skip: onPglite && 'needs a second connection (PostgreSQL only)',
  }, async () => {
    await makeCollection(fixture.ctx, 'race');
    // Hold the feed open until the hand-made record is committed: the sync's index was read before it.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* feed() {
      yield Buffer.from(`${JSON.stringify({ id: 'a', v: 1 })}\n`);
      await gate;
      // The chunk that conflicts also carries ids and texts COPY escapes, read back for its second write.
      yield Buffer.from(`${JSON.stringify({ id: 'late', v: 2 })}\n`);
      yield Buffer.from(`${JSON.stringify({ id: 'odd\t\\id', s: 'quote " backslash \\ tab \t' })}\n`);
      yield Buffer.from('{"id": "pretty",\t"n":\r 1}\n');
    }
    const syncs = new SyncService(fixture.server.db, new CollectionService(fixture.server.db), {
      snapshotRetentionDays: 30,
    });
    const running = syncs.run({
      tenantId: fixture.tenantId,
      collection: 'race',
      mode: 'full',
      dryRun: false,
      force: false,
      format: 'ndjson',
      feed: feed(),
      origin: { kind: 'api' },
    });
    await waitForRunning(fixture.tenantId);
    await handMade(fixture.ctx, fixture.tenantId, 'race', 'late', { id: 'late', by: 'hand' });
    release();
    const outcome = await running;
    assert.equal(outcome.run.status, 'succeeded');
    assert.equal(outcome.run.counts.created, 3);
    assert.equal(outcome.run.counts.updated, 1, 'the hand-made record got the feed as its source');
    const rows = await stored(fixture.ctx, fixture.tenantId, 'race');
    assert.deepEqual(rows.get('late')!.source, { id: 'late', v: 2 });
    assert.deepEqual(rows.get('odd\t\\id')!.source, { id: 'odd\t\\id', s: 'quote " backslash \\ tab \t' });
    assert.deepEqual(rows.get('pretty')!.source, { id: 'pretty', n: 1 });
  });
});

async function waitForRunning(tenant: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const rows = await fixture.server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_runs WHERE tenant_id = $1 AND status = 'running'`,
      [tenant],
    );
    if (rows[0]!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the sync never started');
}

describe('StoredIndex', () => {
  const textHash = (text: string) => hash('sha1', text, 'base64');
  /** Adds records in the loader's order: ascending UTF-8 bytes of the id. */
  const addSorted = (index: StoredIndex, rows: [string, string | null, number][]) => {
    const sorted = [...rows].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
    for (const [id, sourceHash, flags] of sorted) index.add(id, sourceHash, flags);
  };

  test('matches unchanged texts and claims parsed ids once each; lists the unseen ones', () => {
    const index = new StoredIndex();
    const rows: [string, string | null, number][] = [];
    for (let i = 0; i < 5000; i++) rows.push([`id${i}`, textHash(`{"id":"id${i}"}`), 3]);
    rows.push(['hand', null, 1]);
    rows.push(['gone', textHash('{"id":"gone"}'), 4]);
    rows.push(['kept', textHash('{"id":"kept"}'), 5]); // gone before, kept live by policy keep
    addSorted(index, rows);
    assert.equal(index.size, 5003);
    assert.equal(index.liveCount, 5002);
    assert.equal(index.matchText(textHash('{"id":"id1"}')), 'matched');
    assert.equal(index.matchText(textHash('{"id":"id1"}')), 'duplicate');
    assert.equal(index.claimId('id1'), 'duplicate', 'a row matched by its text used the id');
    assert.equal(index.matchText(textHash('{"id":"id2","changed":true}')), null);
    assert.equal(index.claimId('id2'), 'stored');
    assert.equal(index.claimId('id2'), 'duplicate');
    assert.equal(index.matchText(textHash('{"id":"id2"}')), 'duplicate');
    assert.equal(index.claimId('hand'), 'stored', 'a hand-made record is parsed and planned by the database');
    assert.equal(
      index.matchText(textHash('{"id":"gone"}')),
      null,
      'a record gone upstream is never unchanged',
    );
    assert.equal(index.claimId('gone'), 'stored');
    assert.equal(index.claimId('nope'), 'unknown');
    assert.equal(index.claimId('id3'), 'stored');
    const unseen = [...index.unseenGone()];
    assert.equal(unseen.length, 4997);
    assert.ok(!unseen.includes('id1') && !unseen.includes('id3') && !unseen.includes('hand'));
    assert.ok(!unseen.includes('kept'), 'gone before: not gone again under policy keep');
    const underDelete = [...index.unseenGone(true)];
    assert.equal(underDelete.length, 4998);
    assert.ok(underDelete.includes('kept'), 'under policy delete a live record gone before goes now');
  });

  test('two stored records with one source text (another id field then) are never matched by text', () => {
    const index = new StoredIndex();
    const same = textHash('{"id":"a","sku":"b"}');
    const rows: [string, string | null, number][] = [
      ['a', same, 3],
      ['b', same, 3],
    ];
    for (let i = 0; i < 5000; i++) rows.push([`x${i}`, textHash(`{"id":"x${i}"}`), 3]);
    addSorted(index, rows);
    assert.equal(index.matchText(same), null);
    assert.equal(index.matchText(textHash('{"id":"x4999"}')), 'matched');
    assert.equal(index.claimId('a'), 'stored');
    assert.equal(index.claimId('b'), 'stored');
  });

  test('the same id twice in a row is one entry; an id out of order is refused', () => {
    const index = new StoredIndex();
    index.add('b', 'qUqP5cyxm6YcTAhz05Hph5gvu9M=', 3);
    index.add('b', 'qUqP5cyxm6YcTAhz05Hph5gvu9M=', 3);
    assert.equal(index.size, 1);
    assert.equal(index.liveCount, 1);
    assert.throws(() => index.add('a', null, 1), /ascending/);
    assert.throws(() => index.add('', null, 1), /ascending/, 'a prefix sorts first');
    index.add('bb', null, 1);
    assert.equal(index.matchText('qUqP5cyxm6YcTAhz05Hph5gvu9M='), 'matched');
    assert.throws(() => index.add('c', null, 1), /after the first lookup/);
    assert.deepEqual([...index.unseenGone()], []);
  });

  test('ids past one entry block, across arena blocks and restart groups, and longer than a block, read back exactly', () => {
    const index = new StoredIndex();
    const n = 150_000; // > 2 entry blocks of 65,536; ~3 MB of ids: > 2 arena blocks of 1 MB
    // Ids that share little (a hash first) and ids that share much, non-ASCII among them.
    const idOf = (i: number) =>
      i % 7 === 0 ? `ü-${i}-🎉-padding` : i % 5 === 0 ? `${textHash(String(i))}-${i}` : `record-${i}-padding`;
    const long = `long-${'x'.repeat(1_500_000)}`;
    const ids = Array.from({ length: n }, (_, i) => idOf(i));
    const order = [...ids.keys(), -1].sort((a, b) =>
      Buffer.compare(Buffer.from(a < 0 ? long : ids[a]!), Buffer.from(b < 0 ? long : ids[b]!)),
    );
    for (const [k, i] of order.entries()) {
      const id = i < 0 ? long : ids[i]!;
      const text = i < 0 ? '{"long":true}' : `{"id":"${id}"}`;
      if (k % 2 === 0) index.add(id, textHash(text), 3);
      else {
        // The loader's path: id and hash read from one buffer, as a stored page holds them.
        const line = Buffer.from(`${textHash(text)}\t${id}`);
        const tab = line.indexOf(0x09);
        index.addBytes(line, tab + 1, line.length, 0, tab, 3);
      }
    }
    assert.equal(index.size, n + 1);
    const probes = [0, 1, 5, 7, 15, 16, 17, 65_535, 65_536, 99_999, n - 1, ...order.slice(0, 40)].filter(
      (i) => i >= 0,
    );
    for (const i of probes) {
      assert.equal(index.matchText(textHash(`{"id":"${ids[i]}"}`)), 'matched', ids[i]);
      assert.equal(index.claimId(ids[i]!), 'duplicate', ids[i]);
    }
    assert.equal(index.claimId(long), 'stored');
    assert.equal(index.claimId(`${long}y`), 'unknown');
    assert.equal(index.claimId('record-1-paddin'), 'unknown', 'a prefix is another id');
    assert.equal(index.claimId('record-1-paddinh'), 'unknown', 'between two ids');
    assert.equal(index.claimId('\u{10FFFF}'), 'unknown', 'after the last id');
    assert.equal(index.claimId(' '), 'unknown', 'before the first id');
    for (let i = 0; i < n; i += 3) index.claimId(ids[i]!);
    const unseen = new Set(index.unseenGone());
    const expected = new Set<string>();
    for (let i = 0; i < n; i++) if (i % 3 !== 0 && !probes.includes(i)) expected.add(ids[i]!);
    assert.deepEqual(unseen, expected);
  });

  test('entry numbers keep every bit: three bytes up to 2^24 records, four past that', () => {
    const small = new EntryNumbers(4, 2 ** 24);
    const smallValues = [0, 0xffff, 0x10000, 2 ** 24 - 1];
    for (const [i, value] of smallValues.entries()) small.set(i, value);
    assert.deepEqual(
      smallValues.map((_, i) => small.get(i)),
      smallValues,
    );
    const large = new EntryNumbers(3, 2 ** 32);
    const largeValues = [2 ** 24, 2 ** 31 + 5, 2 ** 32 - 1];
    for (const [i, value] of largeValues.entries()) large.set(i, value);
    assert.deepEqual(
      largeValues.map((_, i) => large.get(i)),
      largeValues,
    );
  });

  test('a stored hash that is not base64 never matches', () => {
    const index = new StoredIndex();
    index.add('a', '!!!!!!!!!!!!!!!!!!!!!!!!!!!=', 3);
    assert.equal(index.matchText('!!!!!!!!!!!!!!!!!!!!!!!!!!!='), null);
    assert.equal(index.claimId('a'), 'stored');
  });

  test('stored lines split across pieces of the COPY output are added whole, escapes undone', () => {
    const index = new StoredIndex();
    const ids = ['a', 'a\tb', 'a\nb', 'a\\z', 'b', 'ü'];
    const copyEscaped = (id: string) => id.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
    const text = ids
      .map((id) => `3\t${textHash(`{"id":${JSON.stringify(id)}}`).slice(0, 15)}\t${copyEscaped(id)}\n`)
      .join('');
    const bytes = Buffer.from(`${text}1\t\\N\tÿ-hand\n`);
    const cut = bytes.indexOf('a\\\\z') + 2; // inside an escape
    const used = addStoredLines(index, bytes.subarray(0, cut));
    assert.equal(index.size, 3, 'only the whole lines');
    assert.equal(
      addStoredLines(index, Buffer.concat([bytes.subarray(used, cut), bytes.subarray(cut)])),
      bytes.length - used,
    );
    assert.deepEqual([...index.unseenGone()], ids);
    assert.equal(index.matchText(textHash('{"id":"a\\tb"}')), 'matched');
    assert.equal(index.claimId('a\\z'), 'stored');
    assert.equal(index.claimId('ÿ-hand'), 'stored');
    assert.equal(index.liveCount, 7);
  });

  test('the COPY that reads the index inlines only ids of the right form', () => {
    const tenant = '0b7e8c52-3f0e-4d7a-9a55-6f2d2c1e9b10';
    assert.match(
      copyStoredIndex(tenant, '42'),
      /tenant_id = '0b7e8c52-3f0e-4d7a-9a55-6f2d2c1e9b10' AND collection_id = 42/,
    );
    assert.throws(() => copyStoredIndex(`${tenant}' OR '1'='1`, '42'), /malformed/);
    assert.throws(() => copyStoredIndex(tenant, '42; DROP TABLE records'), /malformed/);
  });
});
