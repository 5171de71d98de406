// Held runs and revert in a real browser against the real server: a held run rejected and another
// approved from the syncs page, an approval refused because the collection changed (409 shown with its
// detail), and a run reverted after its dry run, with the field a later edit rewrote shown as kept.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { browserMissing, checkPage, ensureConsoleBuilt, heading, openBrowser, signIn } from './browser.ts';

const missing = browserMissing();
if (missing) console.log(`# skipping the console's browser tests: ${missing}`);

const FEED = [1, 2, 3, 4].map((n) => ({ id: `p${n}`, name: `Item ${n}`, price: n * 10 }));
/** Every price changed: 4 of 4 records updated, more than maxChangeRatio 0.5, so the run is held. */
const priced = (price: (n: number) => number) => FEED.map((r, i) => ({ ...r, price: price(i + 1) }));

let server: TestServer;
let tenant: { id: string; slug: string; key: string };

async function sync(feed: unknown[]): Promise<{ status: number; body: Record<string, unknown> }> {
  return server.request('POST', '/v1/collections/products/syncs', { key: tenant.key, body: feed });
}

/** A run held by the change guard; its id. */
async function holdRun(feed: unknown[]): Promise<string> {
  const held = await sync(feed);
  assert.equal(held.status, 409, JSON.stringify(held.body));
  assert.equal(held.body.syncStatus, 'held');
  return String(held.body.syncId);
}

async function price(id: string): Promise<unknown> {
  const response = await server.request('GET', `/v1/collections/products/records/${id}`, { key: tenant.key });
  return response.body.price;
}

async function openSyncs(page: Page): Promise<void> {
  await page.goto(`${server.url}/console/c/products/syncs`);
  await heading(page, 'Syncs of products');
}

describe('held runs and revert in a browser', { skip: missing }, () => {
  before(async () => {
    ensureConsoleBuilt();
    server = await startTestServer();
    tenant = await server.createTenant('console-run-safety');
    const made = await server.request('PUT', '/v1/collections/products', {
      key: tenant.key,
      body: { maxChangeRatio: 0.5 },
    });
    assert.ok(made.status < 300, made.text);
    assert.equal((await sync(FEED)).status, 200);
  });
  after(() => server?.close());

  test('reject a held run, approve another, see a refused approval, revert a run after its dry run', async () => {
    const editor = await server.createKey(tenant.key, ['read', 'write']);
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, server.url, editor.key);

      // A held run stands out with its reasons and plan; reject it.
      const first = await holdRun(priced(() => 0));
      await openSyncs(page);
      const held = page.getByRole('region', { name: `Held run ${first.slice(0, 8)}` });
      await held.getByText(/more than maxChangeRatio 0\.5/).waitFor();
      assert.match((await held.textContent()) ?? '', /4 updated[\s\S]*Updated \(first 4\)[\s\S]*p1/);
      await page.getByText('1 run(s) are held').waitFor();
      await checkPage(page, 'syncs-held');
      await held.getByRole('button', { name: `Reject held run ${first.slice(0, 8)}…` }).click();
      const reject = page.getByRole('dialog', { name: 'Reject this held run?' });
      await reject.getByRole('button', { name: 'Reject', exact: true }).click();
      await page.getByText(`Run ${first.slice(0, 8)} rejected: nothing of it was applied.`).waitFor();
      await page.getByRole('row', { name: /rejected/ }).waitFor();
      assert.equal(await price('p2'), 20, 'a rejected run applies nothing');

      // Another held run, approved: its plan is applied.
      const second = await holdRun(priced((n) => n * 10 + 1));
      await openSyncs(page);
      await page.getByRole('button', { name: `Approve held run ${second.slice(0, 8)}…` }).click();
      const approve = page.getByRole('dialog', { name: 'Apply this held run?' });
      await approve.getByText(/4 updated/).waitFor();
      await checkPage(page, 'syncs-approve-confirm');
      await approve.getByRole('button', { name: 'Approve and apply' }).click();
      await page.getByText(`Run ${second.slice(0, 8)} approved and applied (4 updated).`).waitFor();
      assert.equal(await price('p2'), 21);

      // An edit after a run was held: approving it is refused, with the server's detail.
      const third = await holdRun(priced(() => 99));
      const edit = await server.request('PATCH', '/v1/collections/products/records/p1', {
        key: tenant.key,
        body: { price: 15 },
      });
      assert.equal(edit.status, 200, edit.text);
      await openSyncs(page);
      await page.getByRole('button', { name: `Approve held run ${third.slice(0, 8)}…` }).click();
      await page
        .getByRole('dialog', { name: 'Apply this held run?' })
        .getByRole('button', { name: 'Approve and apply' })
        .click();
      const refused = page.getByRole('region', { name: `Held run ${third.slice(0, 8)}` }).getByRole('alert');
      await refused.getByText(/collection_changed, 409/).waitFor();
      assert.match((await refused.textContent()) ?? '', /sync again/i, 'the detail says what to do');
      await checkPage(page, 'syncs-collection-changed');
      await page.getByRole('button', { name: `Reject held run ${third.slice(0, 8)}…` }).click();
      await page
        .getByRole('dialog', { name: 'Reject this held run?' })
        .getByRole('button', { name: 'Reject', exact: true })
        .click();
      await page.getByText(`Run ${third.slice(0, 8)} rejected: nothing of it was applied.`).waitFor();

      // Revert the approved run: the dry run shows p1's /price kept (edited by hand since), then apply.
      await page.getByRole('button', { name: `Revert run ${second.slice(0, 8)}…` }).click();
      const revert = page.getByRole('dialog', { name: `Revert run ${second.slice(0, 8)}?` });
      await revert.getByText(/3 of the 4 record\(s\) it wrote change back/).waitFor();
      const kept = revert.getByRole('listitem').filter({ hasText: '/price' });
      assert.match((await kept.textContent()) ?? '', /p1 \/price: edited by hand/);
      assert.equal(await price('p2'), 21, 'the dry run wrote nothing');
      await checkPage(page, 'syncs-revert-confirm');
      await revert.getByRole('button', { name: 'Revert this run' }).click();
      await page.getByText(new RegExp(`Run ${second.slice(0, 8)} reverted: `)).waitFor();
      assert.equal(await price('p2'), 20, 'back to before the run');
      assert.equal(await price('p1'), 15, 'the hand edit stays');
      await page.getByText(`reverts ${second.slice(0, 8)}`).waitFor();
      await checkPage(page, 'syncs-reverted');
    } finally {
      await browser.close();
    }
  });

  test('a read key sees held runs and revert with every control disabled', async () => {
    const held = await holdRun(priced(() => 1));
    const reader = await server.createKey(tenant.key, ['read']);
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, server.url, reader.key);
      await openSyncs(page);
      const approve = page.getByRole('button', { name: `Approve held run ${held.slice(0, 8)}…` });
      await approve.waitFor();
      for (const button of [
        approve,
        page.getByRole('button', { name: `Reject held run ${held.slice(0, 8)}…` }),
        page.getByRole('button', { name: /^Revert run / }).first(),
      ]) {
        assert.equal(await button.isDisabled(), true);
        assert.equal(await button.getAttribute('title'), 'Your API key can read only');
      }
      await checkPage(page, 'syncs-read-only');
    } finally {
      await browser.close();
    }
  });
});
