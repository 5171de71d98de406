// The records page's filters in a real browser against the real server: a field condition, a sort, the
// id prefix and a record-state filter, kept in the URL (reload and a shared link show the same
// records); a refused filter (400) and a filter no index serves on a large collection (422) shown
// to the person.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { browserMissing, checkPage, ensureConsoleBuilt, heading, openBrowser, signIn } from './browser.ts';

const missing = browserMissing();
if (missing) console.log(`# skipping the console's browser tests: ${missing}`);

/** Past this many records a filter no index serves is refused: `big` is past it, `shoes` is not. */
const UNINDEXED_LIMIT = 4;
const SHOES = [
  { id: 's1', name: 'Boot', price: 12 },
  { id: 's2', name: 'Sandal', price: 4 },
  { id: 's3', name: 'Sneaker', price: 9 },
  { id: 't1', name: 'Slipper', price: 7 },
];
const BIG = Array.from({ length: 6 }, (_, i) => ({ id: `b${i}`, name: `Item ${i}`, price: i }));

let server: TestServer;
let key: string;

async function load(collection: string, feed: unknown[]): Promise<void> {
  const made = await server.request('PUT', `/v1/collections/${collection}`, { key, body: {} });
  assert.ok(made.status < 300, made.text);
  const synced = await server.request('POST', `/v1/collections/${collection}/syncs`, { key, body: feed });
  assert.equal(synced.status, 200, synced.text);
}

/** The ids in the records table, top to bottom. */
async function shownIds(page: Page): Promise<string[]> {
  return page.locator('table.records tbody th').allTextContents();
}

/**
 * Waits until the table shows exactly these of `all` ids, then checks their order. (The page's CSP
 * forbids eval, so waitForFunction cannot run; each row is waited for or its absence.)
 */
async function waitForIds(page: Page, expected: string[], all: string[]): Promise<void> {
  for (const id of all) {
    const row = page.locator('table.records tbody th').getByText(id, { exact: true });
    await row.waitFor({ state: expected.includes(id) ? 'visible' : 'detached' });
  }
  assert.deepEqual(await shownIds(page), expected);
}

async function applyFilters(page: Page, expected: string[], all: string[]): Promise<void> {
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await waitForIds(page, expected, all);
}

const SHOE_IDS = SHOES.map((r) => r.id);
const BIG_IDS = BIG.map((r) => r.id);

describe('the records filters in a browser', { skip: missing }, () => {
  before(async () => {
    ensureConsoleBuilt();
    server = await startTestServer({ unindexedQueryLimit: UNINDEXED_LIMIT });
    key = (await server.createTenant('console-filters')).key;
    await load('shoes', SHOES);
    await load('big', BIG);
    const edited = await server.request('PATCH', '/v1/collections/big/records/b4', {
      key,
      body: { name: 'Fixed by hand' },
    });
    assert.equal(edited.status, 200, edited.text);
  });
  after(() => server?.close());

  test('a field condition, a sort and an id prefix, kept in the URL across a reload and a shared link', async () => {
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, server.url, key);
      await page.goto(`${server.url}/console/c/shoes`);
      await heading(page, 'Records of shoes');
      await page.getByRole('cell', { name: 'Sneaker' }).waitFor();
      await page.getByText('Filter and sort', { exact: true }).click();
      await page.getByRole('button', { name: 'Add a condition' }).click();
      await page.getByLabel('Field of condition 1').fill('price');
      await page.getByLabel('Operator of condition 1').selectOption('_gte');
      await page.getByLabel('Value of condition 1').fill('7');
      await page.getByLabel('Sort by').fill('price');
      await page.getByLabel('Sort direction').selectOption('desc');
      await applyFilters(page, ['s1', 's3', 't1'], SHOE_IDS);
      const url = new URL(page.url());
      assert.deepEqual(url.searchParams.getAll('where'), ['price:_gte:7']);
      assert.equal(url.searchParams.get('sort'), '-price');
      await checkPage(page, 'records-filtered');

      // The id prefix joins the field condition (both must hold); typed, and Enter applies it.
      await page.getByLabel('id starts with').focus();
      await page.keyboard.type('s');
      await page.keyboard.press('Enter');
      await waitForIds(page, ['s1', 's3'], SHOE_IDS);

      await page.reload();
      await heading(page, 'Records of shoes');
      await page.getByRole('cell', { name: 'Boot' }).waitFor();
      assert.deepEqual(await shownIds(page), ['s1', 's3']);
      assert.equal(await page.getByLabel('Field of condition 1').inputValue(), 'price');
      assert.equal(await page.getByLabel('id starts with').inputValue(), 's');

      // Back goes to the filter before, the form following it.
      await page.goBack();
      await waitForIds(page, ['s1', 's3', 't1'], SHOE_IDS);
      assert.equal(await page.getByLabel('id starts with').inputValue(), '');

      // A link to the filtered list opened by someone else's browser shows the same records.
      const shared = page.url();
      const other = await openBrowser();
      try {
        await signIn(other.page, server.url, key);
        await other.page.goto(shared);
        await other.page.getByRole('cell', { name: 'Slipper' }).waitFor();
        assert.deepEqual(await shownIds(other.page), ['s1', 's3', 't1']);
      } finally {
        await other.close();
      }

      // A filter the API refuses: its problem and the part refused are shown.
      await page.getByLabel('Field of condition 1').fill('_secret');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      const refused = page.getByRole('alert');
      await refused.getByText(/invalid_filter, 400/).waitFor();
      await page.getByText(/The part refused: filter/).waitFor();
      await checkPage(page, 'records-filter-refused');

      // Clear: the plain list, and a URL without a query.
      await page.getByRole('button', { name: 'Clear' }).click();
      await waitForIds(page, SHOE_IDS, SHOE_IDS);
      assert.equal(new URL(page.url()).search, '');
    } finally {
      await browser.close();
    }
  });

  test('on a large collection, an unindexed field filter is a 422 the page explains; a state filter narrows it', async () => {
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, server.url, key);
      await page.goto(`${server.url}/console/c/big?where=name:_contains:Fixed`);
      await page
        .getByRole('alert')
        .getByText(/index_required, 422/)
        .waitFor();
      await page.getByText(/this collection declares no index/).waitFor();
      await checkPage(page, 'records-index-required');

      // Records with manual changes are found by a built-in index at any size; the condition then holds.
      await page.getByLabel('with manual changes').check();
      await applyFilters(page, ['b4'], BIG_IDS);
      assert.deepEqual(new URL(page.url()).searchParams.getAll('state'), ['overridden']);
      await page.getByRole('cell', { name: 'Fixed by hand' }).waitFor();
      await checkPage(page, 'records-state-filter');

      // Nothing matches: the empty state says so.
      await page.getByLabel('Value of condition 1').fill('Nobody');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByText('No record matches these filters.').waitFor();
    } finally {
      await browser.close();
    }
  });
});
