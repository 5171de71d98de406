import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { ApiKeyService } from '../../src/features/api-keys/api-keys.service.ts';
import { FolderImporter } from '../../src/features/auto-import/auto-import.service.ts';
import { type FeedSync, feedSyncThroughSyncService } from '../../src/features/auto-import/feed-sync.ts';
import { listDroppedFiles } from '../../src/features/auto-import/import-folder.ts';
import { CollectionService } from '../../src/features/collections/collections.service.ts';
import { SyncService } from '../../src/features/syncs/syncs.service.ts';
import { TenantService } from '../../src/features/tenants/tenants.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The importer is driven scan by scan here (no timer): stableMs 0, so a file is imported at the second
// scan that sees it unchanged. `during` runs inside the sync, to change the file while it is imported.
let database: TestDatabase;
let root: string;
let importDir: string;
let sync: FeedSync;
let during: (() => Promise<void>) | undefined;
const tenantIds = new Map<string, string>();

before(async () => {
  database = await createTestDatabase();
  root = mkdtempSync(join(tmpdir(), 'sm-identity-'));
  importDir = join(root, 'import');
  const tenants = new TenantService(database.db, new ApiKeyService(database.db));
  for (const slug of ['acme', 'other']) {
    const { tenant } = await tenants.create({ slug });
    tenantIds.set(slug, tenant.id);
    mkdirSync(join(importDir, slug), { recursive: true });
  }
  const real = feedSyncThroughSyncService(
    new SyncService(database.db, new CollectionService(database.db), { snapshotRetentionDays: 30 }),
  );
  sync = async (input) => {
    try {
      return await real(input);
    } finally {
      const step = during;
      during = undefined;
      await step?.();
    }
  };
});
after(async () => {
  await database.close();
  rmSync(root, { recursive: true, force: true });
});

function importer() {
  return new FolderImporter(
    database.db,
    sync,
    { importDir, pollMs: 1, stableMs: 0, leaseMs: 60_000 },
    pino({ level: 'silent' }),
  );
}

const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const acme = (...parts: string[]) => join(importDir, 'acme', ...parts);

async function ids(collection: string, tenant = 'acme') {
  const rows = await database.db.query<{ record_id: string }>(
    `SELECT r.record_id FROM records r JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
      WHERE r.tenant_id = $1 AND c.name = $2 AND r.data IS NOT NULL ORDER BY r.record_id`,
    [tenantIds.get(tenant), collection],
  );
  return rows.map((row) => row.record_id);
}

/** Scans until nothing is left to import (a retry pause is skipped by a fresh importer). */
async function scanTwice(folder = importer()) {
  await folder.scan();
  await folder.scan();
  return folder;
}

test('a file renamed over the one being imported is not moved: the next scan imports it', async () => {
  writeFileSync(acme('swap.ndjson'), `${['a', 'b', 'c'].map((id) => JSON.stringify({ id })).join('\n')}\n`);
  during = async () => {
    writeFileSync(acme('.swap.tmp'), '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n{"id":"new"}\n');
    renameSync(acme('.swap.tmp'), acme('swap.ndjson'));
  };
  const folder = await scanTwice();
  assert.deepEqual(await ids('swap'), ['a', 'b', 'c'], 'the first file was imported');
  assert.ok(existsSync(acme('swap.ndjson')), 'the replacement stays in place');
  assert.deepEqual(list(acme('.processed')), []);
  await scanTwice(folder);
  assert.deepEqual(await ids('swap'), ['a', 'b', 'c', 'new'], 'the replacement was imported next');
  assert.equal(list(acme('.processed')).filter((name) => name.endsWith('-swap.ndjson')).length, 1);
  assert.ok(!existsSync(acme('swap.ndjson')));
});

test('a file that ends mid-document while it is still growing waits for the next scan', async () => {
  const whole = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ id: `g${i}`, text: 'x'.repeat(40) })));
  const half = Math.floor(whole.length / 2);
  writeFileSync(acme('growing.json'), whole.slice(0, half));
  during = () => appendFile(acme('growing.json'), whole.slice(half));
  const folder = await scanTwice();
  assert.ok(existsSync(acme('growing.json')), 'the half-written file stays');
  const failedGrowing = () => list(acme('.failed')).filter((name) => name.includes('growing'));
  assert.deepEqual(failedGrowing(), []);
  await scanTwice(folder);
  assert.equal((await ids('growing')).length, 50);
  assert.equal(list(acme('.processed')).filter((name) => name.endsWith('-growing.json')).length, 1);
  assert.deepEqual(failedGrowing(), []);
});

test('a file cut off mid-document that stays so is given one more attempt, then goes to .failed', async () => {
  writeFileSync(acme('cut.json'), '[{"id":"c1"},{"id":"c2","name":"hal');
  const folder = await scanTwice();
  assert.ok(existsSync(acme('cut.json')), 'after the first failed attempt the file stays');
  // The next attempt, after the retry pause (called directly here rather than waited for).
  const file = (await listDroppedFiles(importDir)).find((entry) => entry.name === 'cut.json');
  assert.equal(await folder.importFile(file!), 'failed');
  assert.ok(!existsSync(acme('cut.json')));
  const failed = list(acme('.failed')).find((name) => name.endsWith('-cut.json.error.json'));
  assert.ok(failed, 'the report is in .failed');
  assert.equal(JSON.parse(readFileSync(acme('.failed', failed), 'utf8')).code, 'feed_invalid');
});

test('links, FIFOs and a linked tenant folder are refused without being read or quoted', async () => {
  const secret = join(root, 'secret.json');
  writeFileSync(secret, '[{"id":"stolen","password":"hunter2"}]');
  writeFileSync(join(importDir, 'other', 'private.json'), '[{"id":"their-record","token":"other-secret"}]');
  symlinkSync(secret, acme('outside.json'));
  symlinkSync(join(importDir, 'other', 'private.json'), acme('theirs.json'));
  symlinkSync('/etc/passwd', acme('passwd.json'));
  execFileSync('mkfifo', [acme('pipe.json')]);
  // A tenant folder that is a link to another tenant's folder is not scanned at all.
  const { tenant } = await new TenantService(database.db, new ApiKeyService(database.db)).create({
    slug: 'mirror',
  });
  tenantIds.set('mirror', tenant.id);
  symlinkSync(join(importDir, 'other'), join(importDir, 'mirror'));
  const folder = importer();
  await folder.scan();
  await folder.scan();
  for (const collection of ['outside', 'theirs', 'passwd', 'pipe']) {
    assert.deepEqual(await ids(collection), [], `${collection} imported nothing`);
    assert.ok(!existsSync(acme(`${collection}.json`)));
    const report = list(acme('.failed')).find((name) => name.endsWith(`-${collection}.json.error.json`));
    assert.ok(report, `${collection}: a report in .failed`);
    const text = readFileSync(acme('.failed', report), 'utf8');
    assert.equal(JSON.parse(text).code, 'validation_failed');
    assert.match(JSON.parse(text).detail, /a symbolic link|a FIFO/);
    for (const secretText of ['stolen', 'hunter2', 'other-secret', 'root:', 'their-record'])
      assert.ok(!text.includes(secretText), `${collection}: the report quotes nothing of the target`);
  }
  assert.deepEqual(await ids('private', 'mirror'), []);
  // The other tenant's own file is still theirs, imported into their tenant only.
  assert.deepEqual(await ids('private', 'other'), ['their-record']);
  assert.ok(existsSync(secret));
});
