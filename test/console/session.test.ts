// The console's sign-in over plain HTTP: the cookie's attributes, CSRF, sign-out, revocation, the read
// scope, and /console when it is built (or not). The browser tests (journey.test.ts) drive the pages.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CSRF = { 'x-sync-manager-csrf': '1' };

let server: TestServer;
let tenant: { id: string; slug: string; key: string };
before(async () => {
  server = await startTestServer();
  tenant = await server.createTenant('console-session');
  const made = await server.request('PUT', '/v1/collections/products', { key: tenant.key, body: {} });
  assert.ok(made.status < 300, made.text);
  const feed = [{ id: 'a', name: 'Chair' }];
  const synced = await server.request('POST', '/v1/collections/products/syncs', {
    key: tenant.key,
    body: feed,
  });
  assert.equal(synced.status, 200, synced.text);
});
after(() => server.close());

async function signIn(key: string): Promise<string> {
  const response = await server.request('POST', '/v1/session', { body: { key }, headers: CSRF });
  assert.equal(response.status, 201, response.text);
  const cookie = response.headers.get('set-cookie') ?? '';
  return cookie.split(';')[0]!;
}

test('signing in sets an HttpOnly, SameSite=Strict cookie of limited lifetime, and no key in the answer', async () => {
  const response = await server.request('POST', '/v1/session', { body: { key: tenant.key }, headers: CSRF });
  assert.equal(response.status, 201, response.text);
  const cookie = response.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^sm_session=[A-Za-z0-9_-]{43}; /);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.match(cookie, /; Path=\//);
  assert.match(cookie, new RegExp(`; Max-Age=${server.config.sessionLifetimeSeconds}`));
  assert.doesNotMatch(cookie, /Secure/, 'plain HTTP: no Secure flag');
  assert.ok(!response.text.includes(tenant.key), 'the key is not sent back');
  assert.deepEqual(response.body.key.scopes.sort(), ['admin', 'read', 'write']);
  assert.equal(response.body.tenant.slug, 'console-session');
});

test('x-forwarded-proto is not trusted without trustProxy: no Secure flag from a forged header', async () => {
  const response = await server.request('POST', '/v1/session', {
    body: { key: tenant.key },
    headers: { ...CSRF, 'x-forwarded-proto': 'https' },
  });
  assert.equal(response.status, 201);
  assert.doesNotMatch(response.headers.get('set-cookie') ?? '', /Secure/);
});

test('the cookie authenticates API calls with the key’s scopes; GET /v1/session describes it', async () => {
  const cookie = await signIn(tenant.key);
  const session = await server.request('GET', '/v1/session', { headers: { cookie } });
  assert.equal(session.status, 200, session.text);
  const list = await server.request('GET', '/v1/collections/products/records', { headers: { cookie } });
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.items[0].name, 'Chair');
});

test('a change made with the cookie alone, without the CSRF header, is refused and changes nothing', async () => {
  const cookie = await signIn(tenant.key);
  const refused = await server.request('PATCH', '/v1/collections/products/records/a', {
    headers: { cookie },
    body: { name: 'Forged' },
  });
  assert.equal(refused.status, 403);
  assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(refused.body.code, 'csrf_header_missing');
  const post = await server.request('POST', '/v1/snapshots', { headers: { cookie }, body: {} });
  assert.equal(post.status, 403);
  assert.equal(post.body.code, 'csrf_header_missing');
  const record = await server.request('GET', '/v1/collections/products/records/a', { key: tenant.key });
  assert.equal(record.body.name, 'Chair');

  const allowed = await server.request('PATCH', '/v1/collections/products/records/a', {
    headers: { cookie, ...CSRF },
    body: { name: 'Better chair' },
  });
  assert.equal(allowed.status, 200, allowed.text);
  const revert = await server.request('DELETE', '/v1/collections/products/records/a/overrides', {
    headers: { cookie, ...CSRF },
  });
  assert.equal(revert.status, 200, revert.text);
});

test('signing in and out need the CSRF header too', async () => {
  const signInWithout = await server.request('POST', '/v1/session', { body: { key: tenant.key } });
  assert.equal(signInWithout.status, 403);
  assert.equal(signInWithout.body.code, 'csrf_header_missing');
  const cookie = await signIn(tenant.key);
  const outWithout = await server.request('DELETE', '/v1/session', { headers: { cookie } });
  assert.equal(outWithout.status, 403);
  assert.equal((await server.request('GET', '/v1/session', { headers: { cookie } })).status, 200);
});

test('signing out ends the session at once', async () => {
  const cookie = await signIn(tenant.key);
  const out = await server.request('DELETE', '/v1/session', { headers: { cookie, ...CSRF } });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.equal((await server.request('GET', '/v1/session', { headers: { cookie } })).status, 401);
  assert.equal((await server.request('GET', '/v1/collections', { headers: { cookie } })).status, 401);
});

test('revoking the key ends its sessions at once', async () => {
  const editor = await server.createKey(tenant.key, ['read', 'write']);
  const cookie = await signIn(editor.key);
  assert.equal((await server.request('GET', '/v1/collections', { headers: { cookie } })).status, 200);
  const revoked = await server.request('DELETE', `/v1/api-keys/${editor.id}`, { key: tenant.key });
  assert.equal(revoked.status, 204);
  assert.equal((await server.request('GET', '/v1/collections', { headers: { cookie } })).status, 401);
  assert.equal((await server.request('GET', '/v1/session', { headers: { cookie } })).status, 401);
});

test('a read key’s session reads and cannot change anything', async () => {
  const reader = await server.createKey(tenant.key, ['read']);
  const cookie = await signIn(reader.key);
  assert.equal((await server.request('GET', '/v1/collections', { headers: { cookie } })).status, 200);
  const patch = await server.request('PATCH', '/v1/collections/products/records/a', {
    headers: { cookie, ...CSRF },
    body: { name: 'No' },
  });
  assert.equal(patch.status, 403);
  assert.equal(patch.body.code, 'forbidden');
  const keys = await server.request('GET', '/v1/api-keys', { headers: { cookie } });
  assert.equal(keys.status, 403);
});

test('bad sign-ins are 4xx problems: a made-up key, a platform key, a malformed body', async () => {
  const bad = await server.request('POST', '/v1/session', { body: { key: 'smk_nope' }, headers: CSRF });
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get('set-cookie'), null);
  const platform = await server.request('POST', '/v1/session', {
    body: { key: server.adminKey },
    headers: CSRF,
  });
  assert.equal(platform.status, 403);
  const malformed = await server.request('POST', '/v1/session', { body: { key: 1 }, headers: CSRF });
  assert.equal(malformed.status, 400);
  const garbageCookie = await server.request('GET', '/v1/collections', {
    headers: { cookie: 'sm_session=x' },
  });
  assert.equal(garbageCookie.status, 401);
});

test('/console without a build answers a problem+json 404 that says how to build it', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'console-unbuilt-'));
  const app = await buildApp({ config: server.config, db: server.db, logRequests: false, consoleDir: empty });
  try {
    const response = await app.inject({ method: 'GET', url: '/console/records' });
    assert.equal(response.statusCode, 404);
    assert.match(response.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(response.json().code, 'console_not_built');
    assert.match(response.json().detail, /npm run build:console/);
  } finally {
    await app.close();
    rmSync(empty, { recursive: true, force: true });
  }
});

test('/console serves the page with a strict CSP, and every page path falls back to index.html', async () => {
  const page = await fetch(`${server.url}/console/c/products/records/a`);
  if (page.status === 404) {
    const body = await page.text();
    assert.match(body, /console_not_built/, 'a 404 here may only mean the console is not built');
    return;
  }
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /default-src 'self'/);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  const html = await page.text();
  assert.match(html, /<div id="app">/);
  // Scripts go compressed to a browser that accepts it, and never as the page.
  const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, 'index.html loads a script');
  const compressed = await fetch(server.url + script, { headers: { 'accept-encoding': 'br' } });
  assert.equal(compressed.status, 200);
  assert.equal(compressed.headers.get('content-encoding'), 'br');
  assert.match(compressed.headers.get('content-type') ?? '', /javascript/);
  const missing = await fetch(`${server.url}/console/assets/nope.js`);
  assert.equal(missing.status, 404);
  const redirect = await fetch(`${server.url}/console`, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), '/console/');
});
