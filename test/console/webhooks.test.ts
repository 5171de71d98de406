// The webhooks pages in a real browser against the real server, its delivery worker and a real
// receiver: create an endpoint and see its secret once (copied by the button), ping it and see the
// delivery and its attempts, retry, edit, disable, rotate the secret, delete; a key without the admin
// scope cannot.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWebhookDelivery } from '../../src/features/webhooks/background.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startReceiver } from '../webhooks/receiver.ts';
import { browserMissing, checkPage, ensureConsoleBuilt, heading, openBrowser, signIn } from './browser.ts';

const missing = browserMissing();
if (missing) console.log(`# skipping the console's browser tests: ${missing}`);

let server: TestServer;
let delivery: { stop(): Promise<void> };
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let key: string;

describe('the webhooks pages in a browser', { skip: missing }, () => {
  before(async () => {
    ensureConsoleBuilt();
    // The receiver listens on 127.0.0.1: private addresses are allowed here, as in the delivery tests.
    server = await startTestServer({ allowPrivateFeedUrls: true });
    delivery = startWebhookDelivery(server.config, server.db, {
      error: (details, message) => console.error(message, details),
      warn: (details, message) => console.warn(message, details),
    });
    receiver = await startReceiver();
    key = (await server.createTenant('console-webhooks')).key;
  });
  after(async () => {
    await delivery?.stop();
    await receiver?.close();
    await server?.close();
  });

  test('create (the secret once), ping and see the delivery, retry, edit, disable, rotate, delete', async () => {
    const browser = await openBrowser();
    const { page, context } = browser;
    try {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await signIn(page, server.url, key);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
      await heading(page, 'Webhooks');
      await page.getByText('No webhook endpoint yet').waitFor();
      await checkPage(page, 'webhooks-empty');

      // A URL the server refuses: its reason is shown, nothing is made.
      await page.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
      await page.getByRole('button', { name: 'Create endpoint' }).click();
      await page
        .getByRole('alert')
        .getByText(/validation_failed, 400/)
        .waitFor();
      await page.getByText('must be http or https').waitFor();
      await checkPage(page, 'webhooks-refused');

      await page.getByLabel('Endpoint URL').fill(receiver.url);
      await page.getByLabel('sync.succeeded').check();
      await page.getByLabel(/Only these collections/).fill('products');
      await page.getByLabel('Description').fill('site cache');
      await page.getByRole('button', { name: 'Create endpoint' }).click();
      const secret = (await page.locator('.secret-value').textContent()) ?? '';
      assert.match(secret, /^whsec_/);
      receiver.setSecret(secret);
      await page.getByRole('button', { name: 'Copy the secret' }).click();
      await page.getByText('Copied.').waitFor();
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), secret);
      await page.getByRole('row', { name: /site cache/ }).waitFor();
      await checkPage(page, 'webhooks');
      await page.getByRole('button', { name: 'I have copied it' }).click();
      assert.equal(await page.locator('.secret-value').count(), 0);
      await page.reload();
      await heading(page, 'Webhooks');
      await page.getByRole('row', { name: /site cache/ }).waitFor();
      assert.doesNotMatch(
        (await page.content()) ?? '',
        new RegExp(secret),
        'the secret is never shown again',
      );

      // Ping: the worker delivers it, signed with that secret; the page shows the delivery.
      await page.getByRole('link', { name: receiver.url }).click();
      await heading(page, `Webhook ${receiver.url}`);
      await page.getByText('Nothing sent to this endpoint yet').waitFor();
      await page.getByRole('button', { name: 'Send a test ping' }).click();
      await receiver.until(() => receiver.received.some((r) => r.type === 'webhook.test'));
      assert.equal(receiver.received[0]?.verified, true, 'signed with the secret shown');
      const row = page.getByRole('row', { name: /webhook\.test/ });
      await row.getByText('succeeded').waitFor();
      await page.getByRole('button', { name: /^Attempts of webhook\.test/ }).click();
      await page.getByText(/Attempt 1, .*HTTP 200/).waitFor();
      await checkPage(page, 'webhook');

      // Retry sends it again under the same webhook-id: a second attempt.
      await page.getByRole('button', { name: /^Retry webhook\.test/ }).click();
      await receiver.until(() => receiver.received.filter((r) => r.type === 'webhook.test').length === 2);
      assert.equal(receiver.received[1]?.id, receiver.received[0]?.id);
      await row.getByRole('cell', { name: '2', exact: true }).waitFor();

      await page.getByRole('button', { name: 'Edit', exact: true }).click();
      await page.getByLabel('Description').fill('site cache, v2');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      await page.getByText('site cache, v2').waitFor();

      await page.getByRole('button', { name: 'Disable', exact: true }).click();
      await page.getByText('Disabled: nothing is sent to it.').waitFor();
      await page.getByRole('button', { name: 'Enable', exact: true }).click();
      await page.getByText('Enabled: deliveries resume.').waitFor();

      await page.getByRole('button', { name: 'Rotate the secret…' }).click();
      const rotate = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
      await rotate.getByRole('button', { name: 'Rotate' }).click();
      const rotated = (await page.locator('.secret-value').textContent()) ?? '';
      assert.match(rotated, /^whsec_/);
      assert.notEqual(rotated, secret);
      await page.getByText('Old secret signs until').waitFor();
      await checkPage(page, 'webhook-rotated');
      await page.getByRole('button', { name: 'I have copied it' }).click();

      // Escape cancels the confirmation; nothing is deleted.
      await page.getByRole('button', { name: 'Delete…' }).click();
      const remove = page.getByRole('dialog', { name: 'Delete this endpoint?' });
      await remove.waitFor();
      await page.keyboard.press('Escape');
      await remove.waitFor({ state: 'hidden' });
      assert.equal((await server.request('GET', '/v1/webhooks', { key })).body.items.length, 1);
      await page.getByRole('button', { name: 'Delete…' }).click();
      assert.match((await remove.textContent()) ?? '', new RegExp(receiver.url));
      await checkPage(page, 'webhook-delete-confirm');
      await remove.getByRole('button', { name: 'Delete' }).click();
      await heading(page, 'Webhooks');
      await page.getByText('No webhook endpoint yet').waitFor();
      const listed = await server.request('GET', '/v1/webhooks', { key });
      assert.deepEqual(listed.body.items, []);

      // A link to an endpoint that is no more: the problem, once, and no deliveries section.
      await page.goto(`${server.url}/console/webhooks/00000000-0000-4000-8000-000000000000`);
      await page
        .getByRole('alert')
        .getByText(/, 404\)/)
        .waitFor();
      assert.equal(await page.getByRole('alert').count(), 1);
      assert.equal(await page.getByRole('heading', { name: 'Deliveries' }).count(), 0);
      await checkPage(page, 'webhook-not-found');
    } finally {
      await browser.close();
    }
  });

  for (const scopes of [['read'], ['read', 'write']]) {
    test(`a ${scopes.join('+')} key has no webhooks page, and the server refuses it one`, async () => {
      const reader = await server.createKey(key, scopes);
      const before = await server.request('GET', '/v1/webhooks', { key });
      const browser = await openBrowser();
      const { page } = browser;
      try {
        await signIn(page, server.url, reader.key);
        const nav = page.getByRole('navigation', { name: 'Main' });
        assert.equal(await nav.getByRole('link', { name: 'Webhooks' }).count(), 0);
        await page.goto(`${server.url}/console/webhooks`);
        await heading(page, 'Admins only');
        assert.equal(await page.getByRole('button', { name: 'Create endpoint' }).count(), 0);
        const status = await page.evaluate(async (url) => {
          const response = await fetch('/v1/webhooks', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-sync-manager-csrf': '1' },
            body: JSON.stringify({ url, events: ['records.changed'] }),
          });
          return response.status;
        }, receiver.url);
        assert.equal(status, 403);
        const listed = await server.request('GET', '/v1/webhooks', { key });
        assert.deepEqual(listed.body.items, before.body.items, 'nothing made');
      } finally {
        await browser.close();
      }
    });
  }
});
