// Shared by the browser tests: Debian's chromium driven by playwright-core, the console built, axe-core,
// and screenshots at 360 and 1440 px under test/console/screenshots/ (git-ignored).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Headless as root, and no attempt to reach the internet (this machine has none). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(root, 'test', 'console', 'screenshots');
const require = createRequire(import.meta.url);

/**
 * Why the browser tests cannot run here, or undefined when they can. In CI a missing browser is a
 * failure (.ci/run installs it), not a skip.
 */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const message = `${CHROMIUM} is missing: apt-get install -y chromium`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI must run the browser tests)`);
  return message;
}

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function builtIsFresh(): boolean {
  const stamp = join(root, 'console', 'dist', 'BUILT');
  const sources = ['src', 'index.html', 'vite.config.ts'].map((p) => newest(join(root, 'console', p)));
  return existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...sources);
}

/**
 * Builds the console when this checkout has no build, or one older than the console's sources. The
 * runner starts several test files at once: one builds (it holds a lock directory), the others wait
 * for it, since two builds into one dist/ remove each other's files.
 */
export function ensureConsoleBuilt(): void {
  if (builtIsFresh()) return;
  const lock = join(tmpdir(), `console-build-lock-${root.replace(/[^A-Za-z0-9]+/g, '-')}`);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file builds: wait, then use its build (a lock left by a killed run expires).
      if (Date.now() > deadline) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      if (builtIsFresh()) return;
    }
  }
  try {
    if (builtIsFresh()) return;
    const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { cwd: root, stdio: 'inherit' });
    assert.equal(built.status, 0, 'the console build failed');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh profile each time: no cookie or storage carried between tests. */
export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core on the page as it is: no serious or critical violation. Evaluated through the DevTools
 * protocol, which the page's CSP (script-src 'self') does not govern; a script tag would be refused.
 */
export async function assertAccessible(page: Page, name: string): Promise<void> {
  // Page code is passed as text: this file is type-checked for Node, without the DOM's globals.
  const hasAxe = await page.evaluate("'axe' in window");
  if (!hasAxe) await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations)",
  )) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${name}`,
  );
}

/** Screenshots at 360 and 1440 px wide (full page), and axe at both widths. */
export async function checkPage(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const width of [360, 1440]) {
    await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
    await assertAccessible(page, `${name} at ${width} px`);
    // Nothing may scroll sideways but the tables' own scrolling boxes.
    const wide = await page.evaluate(`(() => {
      const overflow = document.documentElement.scrollWidth - window.innerWidth;
      if (overflow <= 1) return undefined;
      const culprit = [...document.querySelectorAll('body *')].find(
        (element) => element.getBoundingClientRect().right > window.innerWidth + 1 && !element.closest('.table-wrap'),
      );
      return overflow + ' px (' + (culprit ? culprit.outerHTML.slice(0, 120) : 'unknown element') + ')';
    })()`);
    assert.equal(wide, undefined, `${name} at ${width} px is wider than the window`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

/** Signs in through the form with a key, and waits for the first page. */
export async function signIn(page: Page, serverUrl: string, key: string): Promise<void> {
  await page.goto(`${serverUrl}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Collections' }).waitFor();
}

export async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}
