// An edit reads the record and writes at the version read (src/features/records/edits/), two statements
// on the pool; another process that wrote in between is met by the version check and the row lock. Two
// RecordService instances on one database stand for two server processes.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/db/database.ts';
import { AppError } from '../../src/errors.ts';
import { CollectionService } from '../../src/features/collections/collections.service.ts';
import { RecordService } from '../../src/features/records/records.service.ts';
import { SyncService } from '../../src/features/syncs/syncs.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let t: TestDatabase;
let tenantId: string;
let collections: CollectionService;
let statements = 0;
/** The real database, with its statements counted (reads and writes alike go through query). */
let counted: Database;

before(async () => {
  t = await createTestDatabase();
  const [tenant] = await t.db.query<{ id: string }>(
    `INSERT INTO tenants (slug, name) VALUES ('recent', 'recent') RETURNING id`,
  );
  tenantId = tenant!.id;
  collections = new CollectionService(t.db);
  counted = new Proxy(t.db, {
    get(db, property, receiver) {
      if (property !== 'query') return Reflect.get(db, property, receiver);
      return (...args: Parameters<Database['query']>) => {
        statements++;
        return db.query(...args);
      };
    },
  });
});
after(() => t.close());

const patch = (service: RecordService, collection: string, id: string, body: object, ifMatch?: string) =>
  service.edit(tenantId, collection, id, { kind: 'merge-patch', patch: body }, null, { ifMatch });

test('an edit of an existing record is a read and a write, and sees what was written before', async () => {
  await collections.put(tenantId, 'solo', {});
  const service = new RecordService(counted);
  await service.edit(tenantId, 'solo', 'r1', { kind: 'put', body: { id: 'r1', a: 1 } }, null);
  statements = 0;
  const second = await patch(service, 'solo', 'r1', { b: 2 });
  assert.equal(statements, 2, 'a read and a write');
  assert.deepEqual(second.meta.data, { id: 'r1', a: 1, b: 2 });
  const third = await patch(service, 'solo', 'r1', { a: null });
  assert.equal(statements, 4);
  assert.deepEqual(third.meta.data, { id: 'r1', b: 2 });
  assert.equal(third.version, 3);
});

test('an edit after another server’s is planned from the record that server left', async () => {
  await collections.put(tenantId, 'pair', {});
  const first = new RecordService(counted);
  const second = new RecordService(t.db);
  await first.edit(tenantId, 'pair', 'r1', { kind: 'put', body: { id: 'r1', a: 1 } }, null);
  await patch(second, 'pair', 'r1', { b: 2 });
  statements = 0;
  const result = await patch(first, 'pair', 'r1', { c: 3 });
  assert.deepEqual(result.meta.data, { id: 'r1', a: 1, b: 2, c: 3 }, 'the other server’s field kept');
  assert.equal(result.version, 3);
  assert.equal(statements, 2, 'the read and the write');
});

test('If-Match with the version another server wrote succeeds; a stale one fails on the fresh record', async () => {
  await collections.put(tenantId, 'tags', {});
  const first = new RecordService(t.db);
  const second = new RecordService(t.db);
  await first.edit(tenantId, 'tags', 'r1', { kind: 'put', body: { id: 'r1', n: 0 } }, null);
  await patch(second, 'tags', 'r1', { n: 1 });
  const ok = await patch(first, 'tags', 'r1', { n: 2 }, '"2"');
  assert.equal(ok.version, 3);
  await patch(second, 'tags', 'r1', { n: 3 });
  await assert.rejects(
    patch(first, 'tags', 'r1', { n: 4 }, '"3"'),
    (error: unknown) => error instanceof AppError && error.code === 'precondition_failed',
  );
});

test('a revert follows the delete policy the collection has now', async () => {
  await collections.put(tenantId, 'policy', { deletePolicy: 'keep', maxDeleteRatio: 1 });
  const syncs = new SyncService(t.db, collections, { snapshotRetentionDays: 30 });
  const feed = async (rows: object[]) => {
    const outcome = await syncs.run({
      tenantId,
      collection: 'policy',
      mode: 'full',
      dryRun: false,
      force: true,
      format: 'ndjson',
      feed: Readable.from([Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join(''))]),
      origin: { kind: 'cli' },
    });
    assert.equal(outcome.run.status, 'succeeded', JSON.stringify(outcome.run));
  };
  await feed([{ id: 'r1', n: 1 }, { id: 'r2' }]);
  await feed([{ id: 'r2' }]); // r1 gone upstream, kept live by policy keep
  const service = new RecordService(t.db);
  const edited = await patch(service, 'policy', 'r1', { n: 2 });
  assert.deepEqual(edited.meta.data, { id: 'r1', n: 2 });
  assert.equal(edited.meta.upstreamGone, true);
  await collections.put(tenantId, 'policy', { deletePolicy: 'delete', maxDeleteRatio: 1 });
  // Reverting the override brings back the source value only under policy keep: now it deletes.
  const reverted = await service.edit(tenantId, 'policy', 'r1', { kind: 'revert', path: undefined }, null);
  assert.equal(reverted.meta.data, null);
});
