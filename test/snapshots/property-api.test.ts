// The property of property.test.ts again, but with the history written by the real sync engine and
// records API through HTTP (app.inject), and the snapshot clock injected into buildApp: random syncs,
// patches, deletes and snapshots with a recorded copy at each snapshot; then prune; then every
// retained snapshot reads and restores to its copy. SEED=<n> replays a run.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { ApiKeyService } from '../../src/features/api-keys/api-keys.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { prng } from './fixture.ts';

const DAY = 24 * 60 * 60 * 1000;
const SEED = Number(process.env.SEED ?? 7);
const OPERATIONS = 150;

let database: TestDatabase;
let app: FastifyInstance;
let time = Date.now();
before(async () => {
  database = await createTestDatabase();
  app = await buildApp({
    config: loadConfig({}),
    db: database.db,
    logRequests: false,
    now: () => new Date(time),
  });
});
after(async () => {
  await app.close();
  await database.close();
});

type Row = {
  source: unknown;
  source_hash: unknown;
  overrides: unknown;
  manual_delete: unknown;
  data: unknown;
};

test(`property over the API: retained snapshots restore to their recorded copies after prune (seed ${SEED})`, async () => {
  const random = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const platform = await new ApiKeyService(database.db).createPlatformKey();
  const made = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: { authorization: `Bearer ${platform}` },
    payload: { slug: 'prop-api' },
  });
  const tenantId = made.json().tenant.id as string;
  const key = made.json().apiKey.key as string;
  const call = async (method: string, url: string, payload?: unknown, contentType = 'application/json') => {
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers: {
        authorization: `Bearer ${key}`,
        ...(payload === undefined ? {} : { 'content-type': contentType }),
      },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    return { status: response.statusCode, body: response.body === '' ? undefined : response.json() };
  };
  const names = ['products', 'events'];
  for (const name of names) assert.ok((await call('PUT', `/v1/collections/${name}`, {})).status < 300);
  const ids = Array.from({ length: 10 }, (_, i) => `r${i}`);
  const upstream: Record<string, Record<string, Record<string, unknown>>> = { products: {}, events: {} };

  // Stored state, upstream_gone included: the sync engine versions that flag too (docs/snapshots.md).
  const states = async (name: string) => {
    const rows = await database.db.query<Row & { record_id: string }>(
      `SELECT r.record_id, r.source, r.source_hash, r.upstream_gone, r.overrides, r.manual_delete,
              effective_value(r.data, r.source) AS data
         FROM records r
         JOIN collections c ON c.tenant_id = r.tenant_id AND c.id = r.collection_id
        WHERE r.tenant_id = $1 AND c.name = $2 ORDER BY r.record_id`,
      [tenantId, name],
    );
    return Object.fromEntries(rows.map(({ record_id, ...rest }) => [record_id, rest]));
  };
  const copies: Array<{
    id: string;
    pinned: boolean;
    at: number;
    states: Record<string, Record<string, Row>>;
  }> = [];

  for (let op = 0; op < OPERATIONS; op++) {
    time += Math.floor(random() * 2 * DAY) + 1000;
    const name = pick(names);
    const roll = random();
    if (roll < 0.35) {
      const feed = upstream[name]!;
      for (const id of ids) {
        const r = random();
        if (r < 0.15) delete feed[id];
        else if (r < 0.5) feed[id] = { id, n: Math.floor(random() * 5), tag: pick(['x', 'y']) };
      }
      const response = await call('POST', `/v1/collections/${name}/syncs?force=true`, Object.values(feed));
      assert.ok(response.status < 300, `sync: ${response.status} ${JSON.stringify(response.body)}`);
    } else if (roll < 0.6) {
      const response = await call(
        'PATCH',
        `/v1/collections/${name}/records/${pick(ids)}`,
        { [pick(['n', 'tag', 'note'])]: Math.floor(random() * 100) },
        'application/merge-patch+json',
      );
      assert.ok(
        [200, 404].includes(response.status),
        `patch: ${response.status} ${JSON.stringify(response.body)}`,
      );
    } else if (roll < 0.7) {
      const response = await call('DELETE', `/v1/collections/${name}/records/${pick(ids)}`);
      assert.ok([200, 204, 404].includes(response.status), `delete: ${response.status}`);
    } else {
      const pinned = random() < 0.15;
      const response = await call('POST', '/v1/snapshots', { label: `op ${op}`, pinned });
      assert.equal(response.status, 201);
      const copy: Record<string, Record<string, Row>> = {};
      for (const n of names) copy[n] = await states(n);
      copies.push({ id: response.body.id, pinned, at: time, states: copy });
    }
  }

  time += DAY;
  const pruned = await call('POST', '/v1/snapshots/prune');
  assert.equal(pruned.status, 200);
  const expired = new Set((pruned.body.expired as Array<{ id: string }>).map((s) => s.id));
  for (const copy of copies) {
    assert.equal(expired.has(copy.id), !copy.pinned && copy.at + 30 * DAY <= time, `expiry of ${copy.id}`);
  }
  assert.ok(expired.size > 0);

  let checked = 0;
  for (const copy of copies.filter((c) => !expired.has(c.id))) {
    for (const name of names) {
      const read = await call('GET', `/v1/collections/${name}/records?limit=1000&asOf=${copy.id}`);
      assert.equal(read.status, 200);
      const expected = Object.values(copy.states[name]!)
        .map((row) => row.data)
        .filter((data) => data !== null);
      assert.deepEqual(read.body.items, expected, `asOf ${copy.id} in ${name}`);
    }
    const restored = await call('POST', `/v1/snapshots/${copy.id}/restore`, {});
    assert.equal(restored.status, 200);
    for (const name of names) {
      const now = await states(name);
      for (const [id, row] of Object.entries(now)) {
        const then = copy.states[name]![id] ?? {
          source: null,
          source_hash: null,
          upstream_gone: false,
          overrides: {},
          manual_delete: null,
          data: null,
        };
        assert.deepEqual(row, then, `restore ${copy.id}: ${name}/${id}`);
      }
    }
    checked++;
  }
  assert.ok(checked >= 3, `checked ${checked} retained snapshots`);
});
