/**
 * The portal's tests drive Debian's headless Chromium (`/usr/bin/chromium`, installed by .ci/run)
 * through playwright-core, which never downloads a browser. A fresh profile each launch; the
 * cluster's certificate is signed by its own CA, which that profile does not trust:
 * ignoreHTTPSErrors. Every console error and page error is collected for the test to check.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Browser is one launched Chromium with its first tab. */
export interface Browser {
  context: BrowserContext;
  page: Page;
  /** The console errors and page errors logged so far (tests may splice the expected ones out). */
  consoleErrors: string[];
  close(): Promise<void>;
}

/** launchBrowser starts Chromium with a fresh profile at 1280×800. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'coracle-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: FLAGS, ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = context.pages()[0] ?? await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  return {
    context, page, consoleErrors,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * networkQuiet waits (at most 30 s) until the host's network interfaces stop changing for 3 s:
 * Chromium aborts requests in flight with ERR_NETWORK_CHANGED whenever they change (another
 * test's dockerd adds a veth per pod).
 */
export async function networkQuiet(): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = (await readdir('/sys/class/net')).sort().join(',');
  let since = Date.now();
  while (Date.now() - since < 3000 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const now = (await readdir('/sys/class/net')).sort().join(',');
    if (now !== last) [last, since] = [now, Date.now()];
  }
}

/** loadPage navigates and waits for the page to render, up to three times (see networkQuiet); answers the HTTP status. */
export async function loadPage(page: Page, url: string): Promise<number | undefined> {
  for (let attempt = 1; ; attempt++) {
    await networkQuiet();
    try {
      const response = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 15_000 });
      await page.locator('#app > *').first().waitFor({ timeout: 10_000 });
      return response?.status();
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/** signInWithToken pastes a bearer token into the portal's sign-in form and waits for the overview. */
export async function signInWithToken(page: Page, token: string): Promise<void> {
  await networkQuiet();
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('nodes').waitFor({ timeout: 30_000 });
}
