// A collection's named sources and a record's blame in a real browser against the real server: define
// two sources and remove a third through the Sources tab, sync each source (one feed uploaded from the
// Syncs page with its source named), edit a field by hand, and see who set each field; two sources
// disagreeing make a conflict labelled with both; a read key sees both pages with every control
// disabled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { browserMissing, checkPage, ensureConsoleBuilt, heading, openBrowser, signIn } from './browser.ts';

const missing = browserMissing();
if (missing) console.log(`# skipping the console's browser tests: ${missing}`);

let server: TestServer;
let tenant: { id: string; slug: string; key: string };

async function sources(): Promise<{ name: string; fields: string[]; priority: number; stored: boolean }[]> {
  const response = await server.request('GET', '/v1/collections/products/sources', { key: tenant.key });
  assert.equal(response.status, 200, response.text);
  return response.body.items;
}

async function defineSource(page: Page, name: string, fields: string[], priority: number): Promise<void> {
  await page.getByRole('button', { name: 'New source' }).click();
  const form = page.getByRole('form', { name: 'New source' });
  await form.getByLabel(/^Name/).fill(name);
  await form.getByLabel(/^Fields owned/).fill(fields.join('\n'));
  await form.getByLabel(/^Priority/).fill(String(priority));
  await form.getByRole('button', { name: 'Define source' }).click();
  await page.getByText(`Source ${name} defined.`).waitFor();
}

describe('named sources and blame in a browser', { skip: missing }, () => {
  before(async () => {
    ensureConsoleBuilt();
    server = await startTestServer();
    tenant = await server.createTenant('console-sources');
    const made = await server.request('PUT', '/v1/collections/products', {
      key: tenant.key,
      body: { overlap: 'conflict' },
    });
    assert.ok(made.status < 300, made.text);
  });
  after(() => server?.close());

  test('define two sources and remove a third, sync both, edit by hand, and see the blame', async () => {
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, server.url, tenant.key);
      await page.goto(`${server.url}/console/c/products`);
      await heading(page, 'Records of products');
      await page
        .getByRole('navigation', { name: 'Collection products' })
        .getByRole('link', { name: 'Sources' })
        .click();
      await heading(page, 'Sources of products');
      const implicit = page.getByRole('row', { name: /default/ });
      await implicit.getByText('implicit').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Remove source default…' }).isDisabled(), true);

      await defineSource(page, 'erp', ['/name', '/price'], 10);
      await defineSource(page, 'stock', ['/stock'], 5);
      // A refused definition shows the server's problem and defines nothing.
      await page.getByRole('button', { name: 'New source' }).click();
      const form = page.getByRole('form', { name: 'New source' });
      await form.getByLabel(/^Name/).fill('bad');
      await form.getByLabel(/^Fields owned/).fill('price');
      await form.getByRole('button', { name: 'Define source' }).click();
      await form.getByRole('alert').waitFor();
      await checkPage(page, 'collection-sources-refused');
      await form.getByRole('button', { name: 'Cancel' }).click();

      const erp = page.getByRole('row', { name: /^erp/ });
      assert.match((await erp.textContent()) ?? '', /\/name\s*\/price\s*10\s*kept\s*pushed syncs only/);
      await checkPage(page, 'collection-sources');

      // Edit one: ignore empty values.
      await page.getByRole('button', { name: 'Edit source stock' }).click();
      await page
        .getByRole('form', { name: 'Edit source stock' })
        .getByLabel(/Ignore empty values/)
        .check();
      await page.getByRole('button', { name: 'Save source' }).click();
      await page.getByText('Source stock saved.').waitFor();
      await page
        .getByRole('row', { name: /^stock/ })
        .getByText('ignored')
        .waitFor();

      // A third, removed after a confirmation.
      await defineSource(page, 'temp', ['/note'], 1);
      await page.getByRole('button', { name: 'Remove source temp…' }).click();
      const confirm = page.getByRole('dialog', { name: 'Remove source temp?' });
      await confirm.getByText(/values it gave records stay/).waitFor();
      await checkPage(page, 'collection-sources-remove-confirm');
      await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
      await page.getByText('Source temp removed.').waitFor();
      assert.deepEqual(
        (await sources()).map((s) => s.name).sort(),
        ['default', 'erp', 'stock'],
        'temp is gone, the others stay',
      );

      // Two sources' syncs: erp's through the API, stock's uploaded from the Syncs page.
      const erpSync = await server.request('POST', '/v1/collections/products/syncs?source=erp', {
        key: tenant.key,
        body: [{ id: 'p1', name: 'Desk', price: 120 }],
      });
      assert.equal(erpSync.status, 200, erpSync.text);
      await page
        .getByRole('navigation', { name: 'Collection products' })
        .getByRole('link', { name: 'Syncs' })
        .click();
      await heading(page, 'Syncs of products');
      await page.getByLabel(/Feed file/).setInputFiles({
        name: 'stock.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify([{ id: 'p1', stock: 4, name: 'not stock’s' }])),
      });
      await page.getByLabel(/^Source/).fill('stock');
      await page.getByRole('button', { name: 'Plan (dry run)' }).click();
      await page.getByRole('heading', { name: 'Plan for stock.json' }).waitFor();
      await page.getByRole('button', { name: 'Apply this sync' }).click();
      await page.getByText(/^Applied: /).waitFor();
      const stockRun = page.getByRole('row', { name: /succeeded\s*full\s*source stock/ });
      assert.match((await stockRun.textContent()) ?? '', /1 fields not owned, left out/);

      // A hand edit of the name.
      const edit = await server.request('PATCH', '/v1/collections/products/records/p1', {
        key: tenant.key,
        body: { name: 'Desk (fixed)' },
      });
      assert.equal(edit.status, 200, edit.text);

      await page.goto(`${server.url}/console/c/products/records/p1`);
      await heading(page, 'Record p1');
      const blame = page.getByRole('region', { name: 'Blame' });
      const row = (path: string) => blame.getByRole('row', { name: new RegExp(`^${path} `) });
      await row('/name').waitFor();
      assert.match((await row('/name').textContent()) ?? '', /"Desk \(fixed\)"\s*edited by hand\s*manual/);
      assert.match((await row('/price').textContent()) ?? '', /120\s*source erp\s*sync run/);
      assert.match((await row('/stock').textContent()) ?? '', /4\s*source stock\s*sync run/);
      await page.getByRole('heading', { name: 'Blame' }).scrollIntoViewIfNeeded();
      await checkPage(page, 'record-blame');

      // The default source (owning every field, priority 0) disagrees with erp on /price: a conflict of
      // kind source, its columns saying which source each value is from.
      const defaultSync = await server.request('POST', '/v1/collections/products/syncs', {
        key: tenant.key,
        body: [{ id: 'p1', price: 99 }],
      });
      assert.equal(defaultSync.status, 200, defaultSync.text);
      await page
        .getByRole('navigation', { name: 'Collection products' })
        .getByRole('link', { name: 'Conflicts' })
        .click();
      await heading(page, 'Conflicts of products');
      const conflict = page.getByRole('row', { name: /p1 \/price/ });
      assert.match(
        (await conflict.textContent()) ?? '',
        /two sources disagree[\s\S]*99[\s\S]*source default, lower priority[\s\S]*120[\s\S]*source erp, shown/,
      );
      await checkPage(page, 'conflicts-sources');
    } finally {
      await browser.close();
    }
  });

  test('a read key sees the sources and the blame, and cannot change a source', async () => {
    const reader = await server.createKey(tenant.key, ['read']);
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, server.url, reader.key);
      await page.goto(`${server.url}/console/c/products/sources`);
      await heading(page, 'Sources of products');
      await page.getByRole('row', { name: /^erp/ }).waitFor();
      for (const button of [
        page.getByRole('button', { name: 'New source' }),
        page.getByRole('button', { name: 'Edit source erp' }),
        page.getByRole('button', { name: 'Remove source erp…' }),
      ]) {
        assert.equal(await button.isDisabled(), true);
        assert.match((await button.getAttribute('title')) ?? '', /Only an admin key/);
      }
      await checkPage(page, 'collection-sources-read-only');
      await page.goto(`${server.url}/console/c/products/records/p1`);
      await heading(page, 'Record p1');
      await page
        .getByRole('region', { name: 'Blame' })
        .getByRole('row', { name: /^\/stock / })
        .waitFor();
      const refused = await page.evaluate(`fetch('/v1/collections/products/sources/x', {
        method: 'PUT', headers: { 'content-type': 'application/json', 'x-sync-manager-csrf': '1' }, body: '{}',
      }).then((r) => r.status)`);
      assert.equal(refused, 403, "the server refuses the read key's session too");
    } finally {
      await browser.close();
    }
  });
});
