/**
 * The portal in a real browser: Debian's headless Chromium driven by playwright-core against
 * `coracle up --nodes 3 --runtime simulated` (one cluster for the file; hollow nodes, as
 * test/upgrade-kubectl.test.ts, so an upgrade fits in the file's time). Release B is packed and
 * added to the data folder's catalog before `coracle up`, so the Cluster lists it in
 * status.availableUpgrades. Sign-in, a wrong token refused, the overview against
 * `kubectl get nodes,deploy`, a `kubectl scale` shown live without a reload, the upgrade flow
 * (preview against a direct UpgradePreview, start, pause/resume, Succeeded with the page's versions
 * equal to kubectl's, history), no console errors. The cluster also accepts the tokens of a test
 * OIDC issuer (test/support/oidc-issuer.ts): a second tab signs in there (authorization code with
 * PKCE) as a user of a `view`-bound group, sees the overview and gets the API's 403 on Upgrade.
 * The dialog's other paths, by keyboard: scope ControlPlane and Pool previews, a 422 when a budget
 * appears after the preview, the blocking budget in red and `force`, a 409 while a run started
 * with kubectl holds, and Cancel of that run. Screenshots go to test-artifacts/portal/ (git-ignored).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, loadPage, networkQuiet, signInWithToken, type Browser } from './support/browser.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, startCluster, type Cluster } from './support/cluster.js';
import { RELEASE_VERSION } from '../shared/release/version.js';
import type { UpgradePlan } from '../shared/upgrade/preview.js';
import { formatDuration } from '../portal/src/model.js';
import { kubectl } from './support/kubectl.js';
import { packedRelease } from './support/releases.js';
import { startOidcIssuer, type TestIssuer } from './support/oidc-issuer.js';
import { decodeJwt } from 'jose';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'portal');

let cluster: Cluster;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let consoleErrors: string[];
/** The browser while it starts (beforeAll), so that afterAll closes it even if beforeAll failed first. */
let launching: Promise<Browser> | undefined;

// The upgrade below moves the single-process control plane onto release B: the API is down while it hands over.
const k = (args: string[], input?: string) => kubectl(args, { kubeconfig: cluster.kubeconfigPath, timeoutMs: 60_000, input, retryRefusedMs: 30_000 });
const runFile = promisify(execFile);
const A = RELEASE_VERSION;
const B = 'v1.35.1-coracle';
let dataDir: string;
let issuer: TestIssuer;
/** The portal's client id at the issuer, which is also the audience the API requires (--oidc-client-id). */
const PORTAL_CLIENT = 'coracle-portal';
const VIEWER = 'viewer@example.com';
/** serverVersion is the release the process answering kubectl runs (`kubectl version`). */
const serverVersion = async () => (JSON.parse(await ok('version', '-o', 'json')) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion;
/** ok runs kubectl and returns its stdout, failing on a non-zero exit. */
const ok = async (...args: string[]) => {
  const r = await k(args);
  expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return r.stdout;
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** load navigates the test's tab and waits for the page to render. */
const load = (url: string) => loadPage(page, url);

/** focusTop puts the keyboard's starting point at the top of the page (the first heading, focused for a moment). */
async function focusTop(): Promise<void> {
  // Blurring alone keeps Chromium's sequential-navigation starting point where focus was.
  await page.evaluate(() => {
    const top = document.querySelector('h1') as HTMLElement;
    top.setAttribute('tabindex', '-1');
    top.focus();
    top.removeAttribute('tabindex');
  });
}

/** tabTo presses Tab (at most 40 times) until `focused` holds in the page, as a keyboard user would. */
async function tabTo(what: string, focused: () => boolean): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(focused)) return;
  }
  throw new Error(`Tab never reached ${what}; focus is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))}`);
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  // Release B in the catalog before `coracle up`, which lists the catalog's upgrades on the Cluster.
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'coracle-portal-'));
  // Chromium starts while the release is added and the cluster starts: neither needs the other.
  launching = launchBrowser();
  launching.catch(() => undefined);
  [issuer] = await Promise.all([startOidcIssuer(), packedRelease(B).then((packed) => runFile(process.execPath, [CLI, 'release', 'add', packed, '--data-dir', dataDir]))]);
  cluster = await startCluster({ nodes: 3, dataDir, timeoutMs: 120_000, extraArgs: ['--runtime', 'simulated',
    `--oidc-issuer-url=${issuer.url}`, `--oidc-client-id=${PORTAL_CLIENT}`, '--oidc-username-claim=email', '--oidc-groups-claim=groups', '--oidc-groups-prefix=oidc:'] });
  // The issuer signs this user in at once (a development IdP), back to the portal's URL: its redirect URI.
  issuer.allowSignIn(PORTAL_CLIENT, `${cluster.url}/portal/`, { sub: 'viewer-1', email: VIEWER, email_verified: true, groups: ['portal-viewers'] });
  browser = await launching;
  ({ context, page, consoleErrors } = browser);
  await until('3 Ready nodes', async () => {
    const out = (await k(['get', 'nodes', '--no-headers'])).stdout;
    return (out.match(/\bReady\b/g) ?? []).length === 3 ? true : undefined;
  }, 90_000);
  expect((await k(['create', 'deployment', 'web', '--image=coracle/web:v1', '--replicas=2'])).code).toBe(0);
  // The OIDC group may view (the built-in role: namespaced objects) and read the cluster-scoped ones the page shows; nothing more.
  // Made while the rollout goes on, which none of them depends on (each binding after its role, as before).
  const [rollout] = await Promise.all([
    k(['rollout', 'status', 'deployment/web', '--timeout=90s']),
    ok('create', 'clusterrolebinding', 'portal-viewers-view', '--clusterrole=view', '--group=oidc:portal-viewers'),
    ok('create', 'clusterrole', 'cluster-reader', '--verb=get,list,watch', '--resource=nodes,clusters.coracle.io,nodepools.coracle.io,upgraderuns.coracle.io')
      .then(() => ok('create', 'clusterrolebinding', 'portal-viewers-read', '--clusterrole=cluster-reader', '--group=oidc:portal-viewers')),
  ]);
  expect(rollout.code).toBe(0);
}, 300_000);

afterAll(async () => {
  await (browser ?? (await launching?.catch(() => undefined)))?.close();
  await cluster?.destroy();
  await issuer?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('portal', () => {
  it('is served by the API server without credentials, every asset from the control plane', async () => {
    const direct = await page.request.get(`${cluster.url}/portal/`);
    expect(direct.status()).toBe(200);
    expect(direct.headers()['content-security-policy']).toContain("default-src 'self'");
    expect(await load(`${cluster.url}/portal/`)).toBe(200);
    await page.getByLabel('Bearer token').waitFor();
  }, 60_000);

  it('refuses a wrong token with the API\'s 401', async () => {
    await page.getByLabel('Bearer token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const error = page.getByTestId('signin-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('401 Unauthorized');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // The refused request itself is a console error in Chromium ("Failed to load resource: 401"): expected here, and only here.
    const refused = consoleErrors.filter((e) => e.includes('401'));
    expect(refused.length).toBeGreaterThan(0);
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !e.includes('401')));
  }, 60_000);

  it('signs in with the cluster\'s OIDC issuer (code flow, PKCE) as a view-bound user: the overview, and the API\'s 403 on Upgrade', async () => {
    const config = await page.request.get(`${cluster.url}/portal/config.json`);
    expect(await config.json()).toEqual({ oidc: { issuerURL: issuer.url, clientId: PORTAL_CLIENT } });
    expect(config.headers()['content-security-policy']).toContain(`connect-src 'self' ${issuer.url};`);
    // A tab of its own: sessionStorage is per tab, and this one's watches close with it.
    const viewer = await context.newPage();
    const errors: string[] = [];
    viewer.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
    viewer.on('pageerror', (err) => errors.push(String(err)));
    try {
      await networkQuiet();
      await viewer.goto(`${cluster.url}/portal/`, { waitUntil: 'domcontentloaded' });
      const button = viewer.getByTestId('oidc-signin');
      await button.waitFor({ timeout: 15_000 });
      expect(await button.textContent()).toBe(`Sign in with ${new URL(issuer.url).host}`);
      await viewer.screenshot({ path: path.join(ARTIFACTS, 'signin-oidc.png') });
      const issued = issuer.issued();
      await button.click();
      const user = viewer.getByTestId('user');
      await user.waitFor({ timeout: 20_000 });
      expect(await user.textContent()).toBe(`Signed in as ${VIEWER}`);
      expect(issuer.issued()).toBe(issued + 1);
      expect(new URL(viewer.url()).search).toBe(''); // the code and state left the address bar
      const stored = await viewer.evaluate(() => ({ ...sessionStorage }));
      expect(Object.keys(stored)).toEqual(['coracle.portal.token']); // the PKCE verifier is gone once used
      const token = stored['coracle.portal.token']!;
      expect(decodeJwt(token)).toMatchObject({ iss: issuer.url, aud: PORTAL_CLIENT, email: VIEWER, groups: ['portal-viewers'] });
      // The same token in kubectl: the same user, who may not start an upgrade.
      expect(await ok('auth', 'whoami', `--token=${token}`)).toMatch(new RegExp(`Username\\s+${VIEWER}[\\s\\S]*Groups\\s+\\[oidc:portal-viewers system:authenticated\\]`));
      expect((await k(['auth', 'can-i', 'create', 'upgradepreviews.coracle.io', `--token=${token}`])).stdout.trim()).toBe('no');
      // The overview, as this user may see it.
      await viewer.locator('tr[data-deployment="default/web"]').waitFor({ timeout: 15_000 });
      await until('the three nodes', async () => ((await viewer.locator('[data-testid=nodes] tbody tr').count()) === 3 ? true : undefined), 15_000);
      await until('the upgrade panel', async () => ((await viewer.getByTestId('upgrade-status').textContent()) === `Available: ${B}` ? true : undefined), 15_000);
      await viewer.getByRole('button', { name: 'Upgrade…' }).click();
      const dialog = viewer.getByTestId('upgrade-dialog');
      await dialog.getByRole('button', { name: 'Preview', exact: true }).click();
      const alert = dialog.getByRole('alert');
      await alert.waitFor({ timeout: 15_000 }).catch(async (err) => { throw new Error(`${String(err)}; the dialog: ${await dialog.innerHTML()}`); });
      const text = (await alert.textContent()) ?? '';
      expect(text).toContain('Not allowed (403 Forbidden): ');
      expect(text).toContain(`User "${VIEWER}" cannot create resource "upgradepreviews" in API group "coracle.io"`);
      await viewer.screenshot({ path: path.join(ARTIFACTS, 'oidc-viewer-403.png'), fullPage: true });
      // Chromium logs the refused POST itself; nothing else.
      expect(errors.filter((e) => !e.includes('403') && e !== 'Failed to load resource: net::ERR_NETWORK_CHANGED')).toEqual([]);
    } finally {
      await viewer.close();
    }
  }, 90_000);

  it('signs in with the kubeconfig\'s token, kept in sessionStorage', async () => {
    await signInWithToken(page, cluster.token);
    expect(await page.evaluate(() => Object.values({ ...sessionStorage }))).toEqual([cluster.token]);
  }, 60_000);

  it('shows the nodes and Deployments kubectl shows', async () => {
    const nodes = (await k(['get', 'nodes', '--no-headers', '-o', 'custom-columns=NAME:.metadata.name,VERSION:.status.nodeInfo.kubeletVersion,UNSCHED:.spec.unschedulable'])).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    const status = Object.fromEntries((await k(['get', 'nodes', '--no-headers'])).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)).map((f) => [f[0], f[1]]));
    expect(nodes).toHaveLength(3);
    await until('every node row', async () => ((await page.locator('[data-testid=nodes] tbody tr').count()) === 3 ? true : undefined));
    for (const [name, version] of nodes) {
      const row = page.locator(`tr[data-node="${name}"]`);
      expect((await row.locator('[data-field=status] .badge').first().textContent())?.trim()).toBe(status[name!]);
      expect(await row.locator('[data-field=version]').textContent()).toBe(version);
    }
    // Pods per node, as kubectl counts them.
    const pods = (await k(['get', 'pods', '-A', '--no-headers', '-o', 'custom-columns=NODE:.spec.nodeName,PHASE:.status.phase'])).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    for (const [name] of nodes) {
      const count = pods.filter(([node, phase]) => node === name && phase !== 'Succeeded' && phase !== 'Failed').length;
      await until(`pod count of ${name}`, async () => ((await page.locator(`tr[data-node="${name}"] [data-field=pods]`).textContent()) === String(count) ? true : undefined), 5000);
    }
    const deploys = (await k(['get', 'deploy', '-A', '--no-headers'])).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    for (const [ns, name, ready, upToDate, available] of deploys) {
      const row = page.locator(`tr[data-deployment="${ns}/${name}"]`);
      expect(await row.locator('[data-field=ready]').textContent()).toBe(ready);
      expect(await row.locator('[data-field=up-to-date]').textContent()).toBe(upToDate);
      expect(await row.locator('[data-field=available]').textContent()).toBe(available);
    }
    const version = JSON.parse((await k(['version', '-o', 'json'])).stdout).serverVersion.gitVersion;
    expect(await page.locator('[data-field=server-version]').textContent()).toBe(version);
    const clusterVersion = (await k(['get', 'clusters', 'local', '-o', 'jsonpath={.spec.version}'])).stdout;
    expect(await page.locator('[data-field=cluster-version]').textContent()).toBe(clusterVersion);
    const poolNodes = (await k(['get', 'nodepools', 'node', '-o', 'jsonpath={.spec.version}'])).stdout;
    expect(await page.locator('tr[data-pool="node"] [data-field=version]').textContent()).toBe(poolNodes);
    expect(await page.locator('tr[data-pool="node"] [data-field=nodes]').textContent()).toBe('3');
    await page.screenshot({ path: path.join(ARTIFACTS, 'overview-1280x800.png'), fullPage: true });
  }, 60_000);

  it('shows a kubectl scale within 2 s, without a reload', async () => {
    const marker = await page.evaluate(() => ((window as any).__noReload = 'still-here'));
    expect((await k(['scale', 'deployment/web', '--replicas=4'])).code).toBe(0);
    const started = Date.now();
    const desired = page.locator('tr[data-deployment="default/web"] [data-field=ready]');
    await page.waitForFunction(() => /\/4$/.test(document.querySelector('tr[data-deployment="default/web"] [data-field=ready]')?.textContent ?? ''), undefined, { timeout: 2000 });
    expect(Date.now() - started).toBeLessThanOrEqual(2000);
    expect(await desired.textContent()).toMatch(/\/4$/);
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(marker);
    // And the ready count follows as the pods come up, still by watch.
    await page.waitForFunction(() => document.querySelector('tr[data-deployment="default/web"] [data-field=ready]')?.textContent === '4/4', undefined, { timeout: 60_000 });
    expect((await k(['get', 'deploy', 'web', '--no-headers'])).stdout).toMatch(/^web\s+4\/4\s/);
  }, 90_000);

  it('offers the Cluster\'s availableUpgrades and previews the plan a direct UpgradePreview computes', async () => {
    const listed = (await ok('get', 'clusters', 'local', '-o', 'jsonpath={.status.availableUpgrades[*]}')).trim();
    expect(listed).toBe(B);
    await until('the upgrade panel state', async () => ((await page.getByTestId('upgrade-status').textContent()) === `Available: ${listed}` ? true : undefined), 10_000);
    const button = page.getByRole('button', { name: 'Upgrade…' });
    expect(await button.isDisabled()).toBe(false);
    await button.click();
    const dialog = page.getByTestId('upgrade-dialog');
    await dialog.waitFor();
    expect(await page.locator('#upgrade-target option').allTextContents()).toEqual(listed.split(' '));
    await dialog.getByRole('button', { name: 'Preview', exact: true }).click();
    const planView = page.getByTestId('upgrade-plan');
    await until('the preview or an error', async () => ((await planView.count()) > 0 || (await dialog.getByRole('alert').count()) > 0 ? true : undefined), 15_000)
      .catch(async (err) => { throw new Error(`${String(err)}; the dialog: ${await dialog.innerHTML()}`); });
    expect({ error: (await dialog.getByRole('alert').count()) > 0 ? await dialog.getByRole('alert').first().textContent() : undefined }).toEqual({ error: undefined });
    const direct = await k(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'UpgradePreview', metadata: {}, spec: { targetVersion: B, scope: 'Cluster' } }));
    expect(direct.code).toBe(0);
    const plan = (JSON.parse(direct.stdout) as { status: { plan: UpgradePlan } }).status.plan;
    expect(plan.canStart).toBe(true);
    expect(plan.controlPlane).toEqual({ fromVersion: A, toVersion: B });
    const evictions = plan.pools.flatMap((p) => p.batches.flat().flatMap((n) => n.evictions));
    expect(evictions.length).toBeGreaterThan(0);
    expect(await planView.locator('[data-field=estimate]').textContent()).toBe(formatDuration(plan.estimateSeconds));
    expect(await planView.locator('[data-field=evictions]').textContent()).toBe(String(evictions.length));
    for (const pool of plan.pools) {
      const batches = planView.locator(`[data-pool="${pool.pool}"] li[data-batch]`);
      expect(await batches.count()).toBe(pool.batches.length);
      for (const [i, batch] of pool.batches.entries()) {
        const text = (await batches.nth(i).textContent()) ?? '';
        for (const n of batch) {
          expect(text).toContain(`${n.name} (${n.version}; ${n.evictions.length} pod`);
          for (const e of n.evictions) expect(text).toContain(`${e.namespace}/${e.name}`);
        }
      }
    }
    expect(await planView.locator('[data-field=control-plane]').textContent()).toContain(`${A} → ${B}`);
    expect(await planView.getByRole('alert').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'preview.png'), fullPage: true });
  }, 60_000);

  it('works the dialog by keyboard, with a visible focus: scope ControlPlane and Pool drive the plan', async () => {
    const dialog = page.getByTestId('upgrade-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: 5000 });
    // From the top of the page to the Upgrade button by Tab alone, and Enter opens the dialog.
    await focusTop();
    await tabTo('the Upgrade button', () => document.activeElement?.textContent === 'Upgrade…');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    expect(await page.evaluate(() => document.querySelector('[data-testid=upgrade-dialog]')!.contains(document.activeElement))).toBe(true);
    await tabTo('the scope radios', () => (document.activeElement as HTMLInputElement | null)?.name === 'scope');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('Cluster');
    // Arrow keys move the choice within the radio group, as in any native form.
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('ControlPlane');
    const planView = page.getByTestId('upgrade-plan');
    const previewByKeyboard = async () => {
      await tabTo('the Preview button', () => document.activeElement?.textContent === 'Preview');
      await page.keyboard.press('Enter');
      await planView.waitFor({ timeout: 15_000 });
      return (await planView.textContent()) ?? '';
    };
    // Control plane only: its step, no pool and no pod moves.
    expect(await previewByKeyboard()).toContain(`Control plane: ${A} → ${B}`);
    expect(await planView.locator('[data-pool]').count()).toBe(0);
    expect(await planView.locator('[data-field=evictions]').textContent()).toBe('0');
    expect(await dialog.getByRole('button', { name: 'Start upgrade' }).isDisabled()).toBe(false);
    // One pool: no control plane step, and the pool may not pass the control plane (the skew rule): Start stays disabled.
    await tabTo('the scope radios', () => (document.activeElement as HTMLInputElement | null)?.name === 'scope');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('Pool');
    expect(await page.locator('#upgrade-pool').inputValue()).toBe('node');
    const poolPlan = await previewByKeyboard();
    expect(await planView.locator('[data-field=control-plane]').count()).toBe(0);
    expect(await planView.locator('[data-pool="node"]').count()).toBe(1);
    expect(poolPlan).toContain('VersionSkew: node pool node');
    expect(await dialog.getByRole('button', { name: 'Start upgrade' }).isDisabled()).toBe(true);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    // Back to the whole cluster.
    await tabTo('the scope radios', () => (document.activeElement as HTMLInputElement | null)?.name === 'scope');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('Cluster');
    await previewByKeyboard();
    expect(await dialog.getByRole('button', { name: 'Start upgrade' }).isDisabled()).toBe(false);
  }, 60_000);

  it('shows the 422 when a budget appears after the preview, the blocking budget in red on the next preview with force, and a 409 while a kubectl run holds', async () => {
    const dialog = page.getByTestId('upgrade-dialog');
    const start = dialog.getByRole('button', { name: 'Start upgrade' });
    await ok('create', 'pdb', 'web-hold', '--selector=app=web', '--max-unavailable=0');
    await ok('wait', '--for=jsonpath={.status.currentHealthy}=4', 'pdb/web-hold', '--timeout=60s');
    await start.click();
    const alert = dialog.getByTestId('upgrade-error');
    await alert.waitFor({ timeout: 15_000 });
    let text = (await alert.textContent()) ?? '';
    expect(text).toContain('The upgrade was refused: ');
    expect(text).toContain('(422 Invalid)');
    expect(text).toContain('spec.force: PodDisruptionBudget default/web-hold blocks the drain');
    expect(await ok('get', 'upgraderuns', '-o', 'name')).toBe('');
    // Preview again: the budget in red, Start disabled until force is ticked.
    await dialog.getByRole('button', { name: 'Preview', exact: true }).click();
    const blocks = page.getByTestId('upgrade-plan').locator('.budgets li.blocks');
    await blocks.first().waitFor({ timeout: 15_000 });
    expect(await blocks.first().textContent()).toContain('default/web-hold');
    expect(await blocks.first().evaluate((el) => getComputedStyle(el).color)).toBe('rgb(156, 18, 25)');
    expect(await page.getByTestId('upgrade-plan').getByRole('alert').textContent()).toContain('BlockingBudget: ');
    expect(await start.isDisabled()).toBe(true);
    const force = dialog.getByLabel(/Start anyway/);
    await force.check();
    expect(await start.isDisabled()).toBe(false);
    await page.screenshot({ path: path.join(ARTIFACTS, 'preview-blocked.png'), fullPage: true });
    // Meanwhile someone starts a run with kubectl (held paused before its first step): the page's start is a 409.
    const held = await k(['create', '-f', '-'], JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata: { name: 'held-by-kubectl' }, spec: { targetVersion: B, force: true, paused: true } }));
    expect({ code: held.code, stderr: held.stderr }).toEqual({ code: 0, stderr: '' });
    await ok('wait', '--for=jsonpath={.status.phase}=Paused', 'upgraderun/held-by-kubectl', '--timeout=60s');
    await start.click();
    await until('the 409 in the dialog', async () => ((await alert.textContent())?.includes('409') ? true : undefined), 15_000);
    text = (await alert.textContent()) ?? '';
    expect(text).toContain('Another upgrade is running: ');
    expect(text).toContain('upgrade run "held-by-kubectl" is not finished (phase Paused)');
    expect(text).toContain('(409 Conflict)');
    expect(await ok('get', 'upgraderuns', '-o', 'name')).toBe('upgraderun.coracle.io/held-by-kubectl\n');
    // The refused requests are Chromium's console lines.
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !/status of (409|422)/.test(e)));
  }, 90_000);

  it('cancels the held run from the page, by keyboard: Cancelled on the page and for kubectl', async () => {
    const dialog = page.getByTestId('upgrade-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: 5000 });
    const view = page.locator('[data-testid=upgrade-run][data-run="held-by-kubectl"]');
    await view.waitFor({ timeout: 15_000 });
    expect(await view.locator('[data-field=phase]').textContent()).toBe('Paused');
    await focusTop();
    await tabTo('the Cancel button', () => document.activeElement?.textContent === 'Cancel upgrade');
    await page.keyboard.press('Enter');
    await until('spec.cancel', async () => ((await ok('get', 'upgraderun', 'held-by-kubectl', '-o', 'jsonpath={.spec.cancel}')) === 'true' ? true : undefined), 10_000);
    await ok('wait', '--for=jsonpath={.status.phase}=Cancelled', 'upgraderun/held-by-kubectl', '--timeout=90s');
    const row = page.locator('[data-testid=upgrade-history] tr[data-run="held-by-kubectl"]');
    await until('Cancelled in the history', async () => ((await row.count()) > 0 && (await row.locator('[data-field=outcome]').textContent()) === 'Cancelled' ? true : undefined), 15_000);
    await view.waitFor({ state: 'detached', timeout: 15_000 });
    expect(await ok('get', 'upgraderun', 'held-by-kubectl', '-o', 'jsonpath={.status.phase}')).toBe('Cancelled');
    // Nothing moved: the control plane and every node are still at A.
    expect(await ok('get', 'clusters', 'local', '-o', 'jsonpath={.spec.version}')).toBe(A);
    await ok('delete', 'pdb', 'web-hold');
    await until('the Upgrade button again', async () => ((await page.getByTestId('upgrade-status').textContent()) === `Available: ${B}` ? true : undefined), 15_000);
  }, 120_000);

  it('starts the run from the page, pauses and resumes it (spec.paused as kubectl sees it), and ends Succeeded with kubectl\'s versions', async () => {
    expect(await ok('get', 'upgraderuns', '-o', 'name')).toBe('upgraderun.coracle.io/held-by-kubectl\n');
    await page.getByRole('button', { name: 'Upgrade…' }).click();
    const dialog = page.getByTestId('upgrade-dialog');
    await dialog.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.getByTestId('upgrade-plan').waitFor({ timeout: 15_000 });
    const errorsBefore = consoleErrors.length;
    await dialog.getByRole('button', { name: 'Start upgrade' }).click();
    const name = await until('the run kubectl lists', async () => (await ok('get', 'upgraderuns', '-o', 'name')).trim().split('\n').map((n) => n.replace(/^upgraderun\.coracle\.io\//, '')).find((n) => n !== 'held-by-kubectl'), 15_000);
    expect(name).toMatch(/^upgrade-/);
    expect(await ok('get', 'upgraderun', name, '-o', 'jsonpath={.spec.targetVersion} {.spec.scope}')).toBe(`${B} Cluster`);
    const view = page.locator(`[data-testid=upgrade-run][data-run="${name}"]`);
    await view.waitFor({ timeout: 15_000 });

    await view.getByRole('button', { name: 'Pause' }).click();
    await until('spec.paused true', async () => ((await ok('get', 'upgraderun', name, '-o', 'jsonpath={.spec.paused}')) === 'true' ? true : undefined), 10_000);
    await ok('wait', '--for=jsonpath={.status.phase}=Paused', `upgraderun/${name}`, '--timeout=90s');
    await until('phase Paused on the page', async () => ((await view.locator('[data-field=phase]').textContent()) === 'Paused' ? true : undefined), 10_000);
    const pausedProgress = await ok('get', 'upgraderun', name, '-o', 'jsonpath={.status.progress.done}/{.status.progress.total}');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await ok('get', 'upgraderun', name, '-o', 'jsonpath={.status.progress.done}/{.status.progress.total}')).toBe(pausedProgress);
    expect(await ok('get', 'upgraderun', name, '-o', 'jsonpath={.status.phase}')).toBe('Paused');

    await view.getByRole('button', { name: 'Resume' }).click();
    await until('spec.paused false', async () => ((await ok('get', 'upgraderun', name, '-o', 'jsonpath={.spec.paused}')) === 'false' ? true : undefined), 10_000);
    // The live view follows the run: node steps and progress as the API reports them. The control
    // plane moves onto release B first (it may have done so before the pause took effect): the single
    // process hands over to B's and the API is down for a few seconds, which kubectl sees as refused
    // connections and the page as a lost connection.
    const seenSteps = new Set<string>();
    const banners = new Set<string>();
    let shot = false;
    await until('the run to finish', async () => {
      banners.add(((await page.getByTestId('connection').textContent()) ?? '').split(' ')[0]!);
      const phase = await ok('get', 'upgraderun', name, '-o', 'jsonpath={.status.phase}');
      if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Cancelled') return phase;
      if (await view.isVisible()) {
        for (const step of await view.locator('[data-testid=run-nodes] [data-field=step]').allTextContents()) seenSteps.add(step.trim());
        // The view goes away when the page sees the run end, which can happen between these calls:
        // a view that vanished is not read (the loop's next kubectl read sees the end too).
        const progress = await view.locator('[data-field=progress]').textContent({ timeout: 2_000 }).catch(() => undefined);
        if (progress !== undefined) expect(progress).toMatch(/^\d+ of 3 nodes done$/);
        if (!shot && [...seenSteps].some((s) => s !== 'Waiting')) {
          await page.screenshot({ path: path.join(ARTIFACTS, 'upgrade-running.png'), fullPage: true });
          shot = true;
        }
      }
      return undefined;
    }, 200_000).then((phase) => expect(phase).toBe('Succeeded'));
    expect(shot).toBe(true);
    expect(await serverVersion()).toBe(B);
    await until('the API server\'s version on the page', async () => ((await page.locator('[data-field=server-version]').textContent()) === B ? true : undefined), 15_000);
    // The page's requests refused during the handover are Chromium's console lines; nothing else is expected then.
    const during = consoleErrors.splice(errorsBefore);
    console.log(`control plane handover seen by the page: connection banners ${[...banners].join(', ')}; ${during.length} refused request(s) logged by Chromium`);
    expect(during.filter((e) => e !== 'Failed to load resource: net::ERR_CONNECTION_REFUSED' && e !== 'Failed to load resource: net::ERR_NETWORK_CHANGED')).toEqual([]);
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent?.startsWith('Live'), undefined, { timeout: 30_000 });
    // A connection the page saw lost (the handover) is said to have come back.
    if (banners.has('Connection')) expect(await page.getByTestId('connection').textContent()).toMatch(/; reconnected at .+ after the connection was lost$/);
    expect([...seenSteps].every((s) => ['Waiting', 'Surging', 'Draining', 'Drained', 'Replaced', 'Ready', 'Undrainable'].includes(s))).toBe(true);
    expect([...seenSteps].some((s) => s !== 'Waiting')).toBe(true);

    // At Succeeded: the page's versions are kubectl's, and the run is in the history.
    const history = page.locator(`[data-testid=upgrade-history] tr[data-run="${name}"]`);
    await history.waitFor({ timeout: 15_000 });
    await until('outcome Succeeded in the history', async () => ((await history.locator('[data-field=outcome]').textContent()) === 'Succeeded' ? true : undefined), 10_000);
    expect(await ok('get', 'cluster', 'local', '-o', 'jsonpath={.status.upgradeHistory[-1:].name} {.status.upgradeHistory[-1:].outcome}')).toBe(`${name} Succeeded`);
    const clusterVersion = await ok('get', 'clusters', 'local', '-o', 'jsonpath={.status.version}');
    expect(clusterVersion).toBe(B);
    await until('the cluster version on the page', async () => ((await page.locator('[data-field=cluster-version]').textContent()) === clusterVersion ? true : undefined), 10_000);
    const poolVersion = await ok('get', 'nodepools', 'node', '-o', 'jsonpath={.status.version}');
    expect(poolVersion).toBe(B);
    await until('the pool version on the page', async () => ((await page.locator('tr[data-pool="node"] [data-field=version]').textContent()) === poolVersion ? true : undefined), 10_000);
    const nodes = (await ok('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion}{"\\n"}{end}')).trim().split('\n').sort();
    expect(nodes).toHaveLength(3);
    expect(nodes.every((n) => n.endsWith(`=${B}`))).toBe(true);
    await until('the page\'s node rows to be kubectl\'s', async () => {
      const rows = await page.locator('[data-testid=nodes] tbody tr').evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-node')}=${tr.querySelector('[data-field=version]')?.textContent ?? ''}`));
      return JSON.stringify(rows.sort()) === JSON.stringify(nodes) ? true : undefined;
    }, 15_000);
    expect(await page.locator('tr[data-pool="node"] [data-field=node-versions]').textContent()).toBe(`${B}=3`);
    expect(await page.getByTestId('upgrade-status').textContent()).toBe('No upgrade is available: the cluster lists no newer release.');
  }, 300_000);

  it('works by keyboard and at phone width', async () => {
    // From the top of the page (the upgrade flow above left focus inside the Upgrade section).
    await focusTop();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.tagName);
    // Every control is native: a button, input, select, link or a <details> summary.
    expect(['BUTTON', 'INPUT', 'SELECT', 'A', 'SUMMARY']).toContain(focused);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'overview-390-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 30_000);

  it('says when the connection is lost and when it came back, and follows changes again', async () => {
    const before = consoleErrors.length;
    const banner = page.getByTestId('connection');
    await context.setOffline(true);
    try {
      await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent?.startsWith('Connection lost at '), undefined, { timeout: 15_000 });
      expect(await banner.getAttribute('role')).toBe('alert');
      expect(await banner.textContent()).toMatch(/reconnecting from the last seen version, attempt \d+…$/);
    } finally {
      await context.setOffline(false);
    }
    await page.waitForFunction(() => /^Live: following changes as they happen; reconnected at .+ after the connection was lost$/.test(document.querySelector('[data-testid=connection]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await ok('scale', 'deployment/web', '--replicas=3');
    await page.waitForFunction(() => /\/3$/.test(document.querySelector('tr[data-deployment="default/web"] [data-field=ready]')?.textContent ?? ''), undefined, { timeout: 10_000 });
    // Chromium logs each request it refused while offline; those are the browser's.
    consoleErrors.splice(before, consoleErrors.length - before, ...consoleErrors.slice(before).filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED')));
  }, 60_000);

  it('logged no console errors', async () => {
    // Chromium aborts every open request with ERR_NETWORK_CHANGED when the host's interfaces change —
    // here, each pod the private dockerd starts adds a veth — and logs each abort. Those are the
    // browser's, not the page's: the page shows the connection as lost and watches again from its
    // resourceVersion (the scale above arrived through exactly that). Anything else fails the test.
    const pageErrors = consoleErrors.filter((e) => e !== 'Failed to load resource: net::ERR_NETWORK_CHANGED');
    expect(pageErrors).toEqual([]);
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent?.startsWith('Live'), undefined, { timeout: 15_000 });
  }, 30_000);
});
