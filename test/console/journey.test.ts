// The console in a real browser (Debian's chromium through playwright-core) against the real server:
// an editor's journey from sign-in to restore, a read key, sign-out and revocation, and axe-core plus
// screenshots at 360 and 1440 px on every page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { browserMissing, checkPage, ensureConsoleBuilt, openBrowser } from './browser.ts';

const missing = browserMissing();
if (missing) console.log(`# skipping the console's browser tests: ${missing}`);

const FEED = [
  { id: 'p1', name: 'Table', price: 10, tags: ['wood'] },
  { id: 'p2', name: 'Chair', price: 5, seo: { title: 'A chair' } },
  { id: 'p3', name: 'Lamp', price: 7 },
];

let server: TestServer;
let tenant: { id: string; slug: string; key: string };

async function sync(feed: unknown[]): Promise<void> {
  const response = await server.request('POST', '/v1/collections/products/syncs', {
    key: tenant.key,
    body: feed,
  });
  assert.equal(response.status, 200, response.text);
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${server.url}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Collections' }).waitFor();
}

/** A row of the record page's Fields table (the Blame table below has a row per field too). */
function fieldRow(page: Page, path: RegExp) {
  return page.getByRole('region', { name: 'Fields' }).getByRole('row', { name: path });
}

async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

describe('the console in a browser', { skip: missing }, () => {
  before(async () => {
    ensureConsoleBuilt();
    server = await startTestServer({ allowPrivateFeedUrls: true });
    tenant = await server.createTenant('console-journey');
    const made = await server.request('PUT', '/v1/collections/products', { key: tenant.key, body: {} });
    assert.ok(made.status < 300, made.text);
    await sync(FEED);
    const source = await server.request('PUT', '/v1/collections/products/source', {
      key: tenant.key,
      body: { url: 'http://127.0.0.1:9/feed.json', schedule: '@daily' },
    });
    assert.ok(source.status < 300, source.text);
  });
  after(() => server?.close());

  test("an editor's journey: fix a name, resolve the conflict a sync brings, snapshot, change, restore", async () => {
    const editor = await server.createKey(tenant.key, ['read', 'write']);
    const browser = await openBrowser();
    const { page, context } = browser;
    try {
      await page.goto(`${server.url}/console/`);
      await page.getByLabel('API key').waitFor();
      await checkPage(page, 'sign-in');
      await signIn(page, editor.key);
      const [cookie] = await context.cookies(server.url);
      assert.equal(cookie?.name, 'sm_session');
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.sameSite, 'Strict');
      assert.equal(await page.evaluate('document.cookie'), '', 'the page cannot read the cookie');
      assert.equal(
        await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })'),
        '{}{}',
        'nothing kept in storage',
      );
      await checkPage(page, 'collections');

      // Find the record and fix its name.
      await page.getByRole('link', { name: 'products' }).click();
      await heading(page, 'Records of products');
      await page.getByRole('cell', { name: 'Chair', exact: true }).waitFor();
      await checkPage(page, 'records');
      await page.getByLabel('Record id').fill('p2');
      await page.getByRole('button', { name: 'Open' }).click();
      await heading(page, 'Record p2');
      await page.getByRole('button', { name: 'Edit /name' }).click();
      await page.getByLabel('New value of /name').fill('Better chair');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved /name.').waitFor();
      const nameRow = fieldRow(page, /\/name/);
      await nameRow.getByText('overridden').waitFor();
      assert.match(
        (await nameRow.textContent()) ?? '',
        /"Better chair"[\s\S]*"Chair"/,
        'value, then the source value beside',
      );
      await checkPage(page, 'record');

      // Upstream changes that name: upload the feed, see the plan, apply.
      await page
        .getByRole('navigation', { name: 'Collection products' })
        .getByRole('link', { name: 'Syncs' })
        .click();
      await heading(page, 'Syncs of products');
      const changed = FEED.map((r) => (r.id === 'p2' ? { ...r, name: 'Chair v2' } : r));
      await page.getByLabel(/Feed file/).setInputFiles({
        name: 'products.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify(changed)),
      });
      await page.getByRole('button', { name: 'Plan (dry run)' }).click();
      await page.getByRole('heading', { name: 'Plan for products.json' }).waitFor();
      assert.match((await page.locator('.plan').textContent()) ?? '', /1 updated/);
      await checkPage(page, 'sync-plan');
      await page.getByRole('button', { name: 'Apply this sync' }).click();
      await page.getByText(/^Applied: /).waitFor();
      await page
        .getByRole('row', { name: /succeeded/ })
        .first()
        .waitFor();
      await checkPage(page, 'syncs');

      // The conflict: manual, old source and new source side by side; keep the manual value.
      await page
        .getByRole('navigation', { name: 'Collection products' })
        .getByRole('link', { name: 'Conflicts' })
        .click();
      await heading(page, 'Conflicts of products');
      const conflict = page.getByRole('row', { name: /p2/ });
      await conflict.waitFor();
      assert.match((await conflict.textContent()) ?? '', /"Better chair"[\s\S]*"Chair"[\s\S]*"Chair v2"/);
      await checkPage(page, 'conflicts');
      await page.getByRole('button', { name: 'Keep manual value of p2 /name' }).click();
      await page.getByText('No open conflicts in products.').waitFor();

      // The history of the record shows the edit and the sync.
      await page.goto(`${server.url}/console/c/products/records/p2`);
      await heading(page, 'Record p2');
      const history = page.getByRole('region', { name: 'History' });
      await history.getByText('"Better chair"').first().waitFor();
      await fieldRow(page, /\/name/)
        .getByText('overridden')
        .waitFor();
      assert.match((await fieldRow(page, /\/name/).textContent()) ?? '', /"Chair v2"/, 'new source beside');

      // Snapshot, change something, restore, see it back.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Snapshots' }).click();
      await heading(page, 'Snapshots');
      await page.getByLabel('Label', { exact: true }).fill('before the price change');
      await page.getByRole('button', { name: 'Take a snapshot' }).click();
      await page.getByText('Snapshot "before the price change" taken.').waitFor();
      await page.getByRole('cell', { name: 'before the price change' }).waitFor();
      await checkPage(page, 'snapshots');

      await page.goto(`${server.url}/console/c/products/records/p1`);
      await heading(page, 'Record p1');
      await page.getByRole('button', { name: 'Edit /price' }).click();
      await page.getByLabel('New value of /price').fill('99');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved /price.').waitFor();
      assert.equal(
        await fieldRow(page, /\/price/)
          .locator('td')
          .first()
          .textContent(),
        '99',
      );

      await page.goto(`${server.url}/console/snapshots`);
      await page
        .getByRole('row', { name: /before the price change/ })
        .getByRole('link', { name: 'Compare and restore' })
        .click();
      await heading(page, 'Snapshot "before the price change"');
      await page.getByRole('region', { name: 'Differences in products' }).getByText('/price').waitFor();
      await checkPage(page, 'snapshot-diff');
      await page.getByRole('button', { name: 'Restore this snapshot…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Restore this snapshot?' });
      await dialog.waitFor();
      assert.match((await dialog.textContent()) ?? '', /products: change back 1 record/);
      await checkPage(page, 'snapshot-restore-confirm');
      await dialog.getByRole('button', { name: 'Restore' }).click();
      await page.getByText(/^Restored 1 collection/).waitFor();

      await page.goto(`${server.url}/console/c/products/records/p1`);
      await heading(page, 'Record p1');
      const price = fieldRow(page, /\/price/);
      await price.waitFor();
      assert.equal(await price.locator('td').first().textContent(), '10', 'the value the snapshot had');
    } finally {
      await browser.close();
    }
  });

  test('the 412 of a stale edit shows what changed meanwhile', async () => {
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, tenant.key);
      await page.goto(`${server.url}/console/c/products/records/p3`);
      await heading(page, 'Record p3');
      await page.getByRole('button', { name: 'Edit /name' }).waitFor();
      const other = await server.request('PATCH', '/v1/collections/products/records/p3', {
        key: tenant.key,
        body: { price: 8 },
      });
      assert.equal(other.status, 200, other.text);
      await page.getByRole('button', { name: 'Edit /name' }).click();
      await page.getByLabel('New value of /name').fill('Desk lamp');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'changed since you opened it' });
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /\/price: 7 → 8/);
      await checkPage(page, 'record-stale');
      await alert.getByRole('button', { name: 'Apply my change to the new version' }).click();
      await page.getByText('Your change was applied on top of the newer version.').waitFor();
      const record = await server.request('GET', '/v1/collections/products/records/p3', { key: tenant.key });
      assert.equal(record.body.name, 'Desk lamp');
      assert.equal(record.body.price, 8);
    } finally {
      await browser.close();
    }
  });

  test('a read key sees everything, every control that changes something is disabled, and the server refuses', async () => {
    const reader = await server.createKey(tenant.key, ['read']);
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, reader.key);
      assert.equal(
        await page.getByRole('link', { name: 'API keys' }).count(),
        0,
        'no keys page for a read key',
      );
      await page.goto(`${server.url}/console/c/products/records/p2`);
      await heading(page, 'Record p2');
      await page.getByRole('button', { name: 'Edit /name' }).waitFor();
      for (const button of await page.getByRole('button', { name: /^(Edit|Revert)/ }).all()) {
        assert.equal(
          await button.isDisabled(),
          true,
          `${await button.getAttribute('aria-label')} is disabled`,
        );
      }
      assert.equal(await page.getByRole('button', { name: 'Edit as JSON' }).isDisabled(), true);
      await page.goto(`${server.url}/console/c/products/syncs`);
      await heading(page, 'Syncs of products');
      assert.equal(await page.getByLabel(/Feed file/).isDisabled(), true);
      await page.goto(`${server.url}/console/snapshots`);
      await heading(page, 'Snapshots');
      assert.equal(await page.getByRole('button', { name: 'Take a snapshot' }).isDisabled(), true);
      await page.goto(`${server.url}/console/keys`);
      await heading(page, 'Admins only');
      // Whatever the page shows, the server refuses a change made with this session.
      const status = await page.evaluate(async () => {
        const response = await fetch('/v1/collections/products/records/p2', {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', 'x-sync-manager-csrf': '1' },
          body: JSON.stringify({ name: 'Read keys cannot' }),
        });
        return response.status;
      });
      assert.equal(status, 403);
    } finally {
      await browser.close();
    }
  });

  test('signing out ends the session: the old cookie no longer works', async () => {
    const browser = await openBrowser();
    const { page, context } = browser;
    try {
      // By keyboard alone: the key field has the focus, Enter signs in, Shift+Tab reaches the sign-out button.
      await page.goto(`${server.url}/console/`);
      await page.getByLabel('API key').waitFor();
      await page.keyboard.type(tenant.key);
      await page.keyboard.press('Enter');
      await heading(page, 'Collections');
      const [cookie] = await context.cookies(server.url);
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press('Shift+Tab');
        if ((await page.evaluate('document.activeElement.textContent')) === 'Sign out') break;
      }
      await page.keyboard.press('Enter');
      await page.getByText('You are signed out.').waitFor();
      const replay = await server.request('GET', '/v1/collections', {
        headers: { cookie: `${cookie!.name}=${cookie!.value}` },
      });
      assert.equal(replay.status, 401);
    } finally {
      await browser.close();
    }
  });

  test('revoking the key ends its console session at the next request', async () => {
    const doomed = await server.createKey(tenant.key, ['read', 'write']);
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, doomed.key);
      const revoked = await server.request('DELETE', `/v1/api-keys/${doomed.id}`, { key: tenant.key });
      assert.equal(revoked.status, 204);
      await page.getByRole('link', { name: 'products' }).click();
      await page.getByText('Your session has ended').waitFor();
      await page.getByLabel('API key').waitFor();
    } finally {
      await browser.close();
    }
  });

  test('the admin pages: sources and API keys (create shows the secret once, revoke asks first)', async () => {
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, tenant.key);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sources' }).click();
      await heading(page, 'Sources');
      await page.getByRole('cell', { name: '@daily' }).waitFor();
      await page.getByRole('button', { name: 'Runs' }).click();
      await page.getByText('No fetch yet.').waitFor();
      await checkPage(page, 'sources');

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
      await heading(page, 'API keys');
      await page.getByLabel('Name').fill('intern');
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = (await page.locator('.secret-value').textContent()) ?? '';
      assert.match(secret, /^smk_/);
      await checkPage(page, 'api-keys');
      await page.getByRole('button', { name: 'I have copied it' }).click();
      await page.getByRole('button', { name: 'Revoke the key intern' }).click();
      await page
        .getByRole('dialog', { name: 'Revoke this key?' })
        .getByRole('button', { name: 'Revoke' })
        .click();
      await page.getByText('Revoked "intern"').waitFor();
      const refused = await server.request('GET', '/v1/collections', { key: secret });
      assert.equal(refused.status, 401);

      // Empty and error states: a collection with nothing in it, a record that does not exist.
      const empty = await server.request('PUT', '/v1/collections/empty', { key: tenant.key, body: {} });
      assert.ok(empty.status < 300);
      await page.goto(`${server.url}/console/c/empty`);
      await page.getByText('This collection has no records.').waitFor();
      await checkPage(page, 'records-empty');
      await page.goto(`${server.url}/console/c/products/records/nope`);
      await page
        .getByRole('alert')
        .getByText(/record_not_found/)
        .waitFor();
      await checkPage(page, 'record-not-found');
      await page.goto(`${server.url}/console/c/products/conflicts`);
      await page.getByText('No open conflicts in products.').waitFor();
    } finally {
      await browser.close();
    }
  });
});
