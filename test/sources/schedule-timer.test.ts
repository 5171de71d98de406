import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../auto-import/serve.ts';
import { startSourcesFixture } from './fixture.ts';

interface RunView {
  status: string;
  httpStatus: number | null;
  syncId: string | null;
  startedAt: string;
}

test('serve fetches a source on its cron schedule from its own timer, and a 304 costs no sync', {
  timeout: 60_000,
}, async (t) => {
  // The real serve with a short scheduler interval: nothing here calls tick(), the fetches come from
  // serve's own timer. The upstream is on 127.0.0.1, hence the operator setting.
  const fixture = await startSourcesFixture(
    { allowPrivateFeedUrls: true, scheduleTickMs: 50, feedTimeoutMs: 15_000 },
    ['stock'],
  );
  t.after(() => fixture.close());
  const { serve, upstream, key } = fixture;
  upstream.body = '[{"id": "x", "qty": 1}, {"id": "y", "qty": 2}]';
  upstream.etag = '"timer-1"';
  const put = await serve.call('PUT', '/v1/collections/stock/source', {
    key,
    body: { url: `${upstream.url}/feed.json`, schedule: '* * * * * *' }, // every second
  });
  assert.equal(put.status, 201);
  const firstDue = new Date(put.body.nextRunAt);

  const runs = await waitFor(
    'two scheduled fetches',
    async () => {
      const page = await serve.call<{ items: RunView[] }>('GET', '/v1/collections/stock/source/runs', {
        key,
      });
      return page.body.items.length >= 2 ? page.body.items.slice().reverse() : undefined;
    },
    30_000,
  );
  const [first, second] = runs as [RunView, RunView];
  assert.equal(first.status, 'synced', JSON.stringify(first));
  assert.equal(typeof first.syncId, 'string');
  // Not before its time: the first fetch started at or after the scheduled time the PUT announced.
  assert.ok(new Date(first.startedAt) >= firstDue, `${first.startedAt} < ${firstDue.toISOString()}`);
  // The next fetch is a later slot of the schedule, sent with the validators of the synced body.
  assert.equal(second.status, 'unchanged', JSON.stringify(second));
  assert.equal(second.httpStatus, 304);
  assert.equal(second.syncId, null);
  assert.equal(upstream.requests[1]!.ifNoneMatch, '"timer-1"');

  const syncs = await serve.call<{ items: { id: string }[] }>('GET', '/v1/collections/stock/syncs', {
    key,
  });
  assert.deepEqual(
    syncs.body.items.map((s) => s.id),
    [first.syncId],
    'only the first fetch made a sync run',
  );
  const records = await serve.call<{ items: unknown[] }>('GET', '/v1/collections/stock/records', {
    key,
  });
  assert.equal(records.body.items.length, 2);
});
