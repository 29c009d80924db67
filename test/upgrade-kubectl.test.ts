/**
 * Cluster upgrades end to end with real kubectl on `coracle up --nodes 3 --runtime simulated`
 * (hollow nodes: pods run no containers, which keeps the file under two minutes). Release A is
 * the installed build; release B is packed from the same build with another version stamp and
 * added to the catalog, so surge nodes run B's own agent (its kubeletVersion says so). A
 * Deployment of 6 with a PodDisruptionBudget: minAvailable 6 refuses the start (422 naming the
 * budget, and the UpgradePreview says why); with minAvailable 5 a run created paused holds (no
 * node and no version moves), refuses a second run (409), then resumes through the CLI and
 * replaces every node with one at B; the run is kept as history. In the Azure-shaped mode
 * (`--instances`, the e2e-azure-shaped project) the portal is opened on this cluster first, in
 * headless Chromium: its overview, and a `kubectl cordon` shown within seconds (the page's watch is
 * served by whichever instance the front door picked; the write by another).
 */
import { COSMOS_MIGRATIONS } from '../adapters/store/cosmos/schema.js';
import { SQLITE_MIGRATIONS } from '../adapters/store/sqlite/schema.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { until } from './support/until.js';
import { CLI, E2E_INSTANCES, startCluster, type Cluster } from './support/cluster.js';
import { launchBrowser, loadPage, signInWithToken } from './support/browser.js';
import { kubectl } from './support/kubectl.js';
import { packedRelease } from './support/releases.js';
import { RELEASE_VERSION } from '../shared/release/version.js';

const runFile = promisify(execFile);
const A = RELEASE_VERSION;
const B = 'v1.35.1-coracle';
const C = 'v1.35.2-coracle';
let cluster: Cluster;

const run = (args: string[], input?: string) => kubectl(args, { kubeconfig: cluster.kubeconfigPath, timeoutMs: 180_000, input });
const k = async (...args: string[]) => {
  const r = await run(args);
  expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return r.stdout;
};
const coracle = (...args: string[]) => runFile(process.execPath, [CLI, ...args, '--data-dir', cluster.dataDir]);
const upgradeRun = (name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata: { name }, spec });
/** serverVersion is the release the process that answers kubectl runs (`/version`), not what the Cluster records. */
const serverVersion = async () => (JSON.parse(await k('version', '-o', 'json')) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion;
const nodeVersions = async () => (await k('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion}{"\\n"}{end}')).trim().split('\n').sort();

/**
 * addStorageMigration makes release `version` of the catalog one whose store layout is a version
 * ahead of this build's: a third migration is appended to its built SQLite and Cosmos DB lists
 * (a new index; a new indexed path), as a release with a storage change would ship it.
 */
async function addStorageMigration(version: string): Promise<void> {
  const dist = path.join(cluster.dataDir, 'releases', version, 'package', 'dist', 'adapters', 'store');
  await appendFile(path.join(dist, 'sqlite', 'schema.js'), `\nSQLITE_MIGRATIONS.push({ version: ${SQLITE_MIGRATIONS.length + 1}, description: '${EXTRA_MIGRATION}', apply: (db) => db.exec('CREATE INDEX IF NOT EXISTS kv_created ON kv (created, id)') });\n`);
  await appendFile(path.join(dist, 'cosmos', 'schema.js'), `\nCOSMOS_MIGRATIONS.push({ version: ${COSMOS_MIGRATIONS.length + 1}, description: '${EXTRA_MIGRATION}', apply: (container) => ensureIncludedPath(container, '/created/?') });\n`);
}
const EXTRA_MIGRATION = 'test: an index on created';

beforeAll(async () => {
  // Packing (once per build for the whole run) goes on while the cluster starts.
  const packages = Promise.all([B, C].map(packedRelease));
  packages.catch(() => undefined);
  cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'simulated'], timeoutMs: 90_000 });
  for (const packed of await packages) await runFile(process.execPath, [CLI, 'release', 'add', packed, '--data-dir', cluster.dataDir]);
  await addStorageMigration(C);
  await k('create', 'deployment', 'web', '--image=coracle/web:v1', '--replicas=6');
  await k('create', 'pdb', 'web', '--selector=app=web', '--min-available=6');
  await k('wait', '--for=condition=Available', 'deployment/web', '--timeout=90s');
  await k('wait', '--for=jsonpath={.status.currentHealthy}=6', 'pdb/web', '--timeout=60s');
}, 240_000);
afterAll(async () => cluster?.destroy(), 60_000);

describe('cluster upgrade (UpgradeRun)', () => {
  // One process is covered by test/portal.test.ts; here only the instances mode, to keep CI time.
  (E2E_INSTANCES ? it : it.skip)('the portal over several instances: the overview kubectl shows, and a cordon on the page within seconds', async () => {
    const browser = await launchBrowser();
    const { page, consoleErrors } = browser;
    const statusOf = (node: string) => page.locator(`tr[data-node="${node}"] [data-field=status]`).textContent();
    try {
      expect(await loadPage(page, `${cluster.url}/portal/`)).toBe(200);
      await signInWithToken(page, cluster.token);
      const kubectlStatus = Object.fromEntries((await k('get', 'nodes', '--no-headers')).trim().split('\n').map((l) => l.trim().split(/\s+/)).map((f) => [f[0], f[1]]));
      expect(Object.keys(kubectlStatus)).toHaveLength(3);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=nodes] tbody tr').length === 3, undefined, { timeout: 15_000 });
      for (const [node, status] of Object.entries(kubectlStatus)) expect(await statusOf(node)).toBe(status);
      expect(await page.locator('tr[data-deployment="default/web"] [data-field=ready]').textContent()).toBe('6/6');
      await k('cordon', 'node-3');
      const cordoned = Date.now();
      await page.waitForFunction(() => document.querySelector('tr[data-node="node-3"] [data-field=status]')?.textContent?.includes('SchedulingDisabled'), undefined, { timeout: 10_000 });
      console.log(`portal, ${E2E_INSTANCES} instances: kubectl cordon shown on the page after ${Date.now() - cordoned} ms`);
      await k('uncordon', 'node-3');
      await page.waitForFunction(() => document.querySelector('tr[data-node="node-3"] [data-field=status]')?.textContent === 'Ready', undefined, { timeout: 10_000 });
      expect(await page.getByTestId('connection').textContent()).toMatch(/^Live/);
      expect(consoleErrors.filter((e) => e !== 'Failed to load resource: net::ERR_NETWORK_CHANGED')).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('previews and refuses a start that a PodDisruptionBudget blocks: 422 naming the budget', async () => {
    const preview = JSON.parse(await run(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'UpgradePreview', metadata: {}, spec: { targetVersion: B } })).then((r) => r.stdout)) as { status: { plan: { canStart: boolean; problems: { type: string; message: string }[] } } };
    expect(preview.status.plan.canStart).toBe(false);
    expect(preview.status.plan.problems.map((p) => p.type)).toEqual(['BlockingBudget']);
    const refused = await run(['create', '-f', '-'], upgradeRun('blocked', { targetVersion: B }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('The UpgradeRun "blocked" is invalid: spec.force: PodDisruptionBudget default/web blocks the drain of node pool node');
    const notInCatalog = await run(['create', '-f', '-'], upgradeRun('nowhere', { targetVersion: 'v1.35.9-coracle' }));
    expect(notInCatalog.stderr).toContain('release v1.35.9-coracle is not in the catalog');
    expect(await k('get', 'upgraderuns', '-o', 'name')).toBe('');
    const explained = await k('explain', 'upgraderuns.spec');
    for (const field of ['targetVersion', 'scope', 'pool', 'force', 'paused', 'cancel']) expect(explained).toContain(field);
  }, 60_000);

  it('holds a paused run, refuses a second one (409), then resumes and moves every node to release B', async () => {
    await k('patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":5}}');
    const created = await run(['create', '-f', '-'], upgradeRun('to-b', { targetVersion: B, paused: true }));
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    await k('wait', '--for=jsonpath={.status.phase}=Paused', 'upgraderun/to-b', '--timeout=60s');
    await new Promise((r) => setTimeout(r, 4000));
    expect(await nodeVersions()).toEqual([`node-1=${A}`, `node-2=${A}`, `node-3=${A}`]);
    expect(await k('get', 'cluster', 'local', '-o', 'jsonpath={.spec.version}')).toBe(A);
    expect(await serverVersion()).toBe(A);
    expect(await k('get', 'upgraderun', 'to-b', '-o', 'jsonpath={.status.phase}')).toBe('Paused');
    const second = await run(['create', '-f', '-'], upgradeRun('second', { targetVersion: B }));
    expect(second.stderr).toContain('Error from server (Conflict)');
    expect(second.stderr).toContain('upgrade run "to-b" is not finished (phase Paused)');

    expect((await coracle('upgrade', 'resume')).stdout).toBe('upgraderun.coracle.io/to-b resumed\n');
    await k('wait', '--for=jsonpath={.status.phase}=Succeeded', 'upgraderun/to-b', '--timeout=150s');
    const versions = await nodeVersions();
    expect(versions).toHaveLength(3);
    expect(versions.every((v) => v.endsWith(`=${B}`))).toBe(true);
    expect(await k('get', 'cluster', 'local', '-o', 'jsonpath={.spec.version} {.status.controlPlaneVersion}')).toBe(`${B} ${B}`);
    // The control plane's own processes moved onto release B (same address, same data).
    expect(await serverVersion()).toBe(B);
    const cpEvents = await k('get', 'events', '--field-selector', 'involvedObject.kind=Cluster', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
    expect(cpEvents).toContain(`ControlPlaneUpgraded: control plane running ${B}; storage schema `);
    // The release brought the store to its layout before serving; the run and the Cluster say which (same source: nothing to apply).
    const [backend, storageVersion] = (await k('get', 'cluster', 'local', '-o', 'jsonpath={.status.storage.backend} {.status.storage.version}')).split(' ');
    expect(storageVersion).toBe(String(backend === 'cosmos' ? COSMOS_MIGRATIONS.length : SQLITE_MIGRATIONS.length));
    expect((JSON.parse(await k('get', 'upgraderun', 'to-b', '-o', 'json')) as { status: { controlPlane: { storage: unknown } } }).status.controlPlane.storage)
      .toEqual({ version: Number(storageVersion), migrationsApplied: [] });
    expect(await k('get', 'nodepool', 'node', '-o', 'jsonpath={.spec.version} {.status.version} {.status.readyNodes}')).toBe(`${B} ${B} 3`);
    const status = (await coracle('upgrade', 'status', 'to-b')).stdout;
    for (const n of ['node-1', 'node-2', 'node-3']) expect(status).toContain(`  ${n} (node) ${A} -> ${B}: Ready (replaced by `);
    const table = await k('get', 'upgraderuns');
    expect(table).toMatch(/^NAME\s+TARGET\s+SCOPE\s+PHASE\s+PROGRESS\s+AGE\n/);
    expect(table).toMatch(new RegExp(`to-b\\s+${B.replaceAll('.', '\\.')}\\s+Cluster\\s+Succeeded\\s+3/3`));
    expect(await k('get', 'cluster', 'local', '-o', 'jsonpath={.status.upgradeHistory[0].name} {.status.upgradeHistory[0].outcome}')).toBe('to-b Succeeded');
    // The last drain may still have its one allowed disruption in flight: the evicted pod comes back on a new node.
    await k('wait', '--for=jsonpath={.status.availableReplicas}=6', 'deployment/web', '--timeout=60s');
    const events = await k('get', 'events', '--field-selector', 'involvedObject.kind=Node', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}');
    expect(events).toContain('UpgradeDraining');
    expect(events).toContain('UpgradeReplaced');
  }, 240_000);

  it('forced past a budget that blocks one node: with Cordon it replaces the others and reports the one left', async () => {
    await k('run', 'solo', '--image=coracle/web:v1', '--labels=app=solo');
    await k('wait', '--for=condition=Ready', 'pod/solo', '--timeout=60s');
    await k('create', 'pdb', 'solo', '--selector=app=solo', '--min-available=1');
    await k('wait', '--for=jsonpath={.status.currentHealthy}=1', 'pdb/solo', '--timeout=60s');
    const held = await k('get', 'pod', 'solo', '-o', 'jsonpath={.spec.nodeName}');
    await k('patch', 'nodepool', 'node', '--type=merge', '-p', '{"spec":{"upgradeSettings":{"drainTimeout":"5s"}}}');
    const refused = await run(['create', '-f', '-'], upgradeRun('to-c', { targetVersion: C }));
    expect(refused.stderr).toContain('PodDisruptionBudget default/solo blocks the drain');
    const started = await coracle('upgrade', 'start', '--to', C, '--force', '--name', 'to-c');
    expect(started.stdout).toBe(`upgraderun.coracle.io/to-c created: ${C} (Cluster)\n`);
    await k('wait', '--for=jsonpath={.status.phase}=Succeeded', 'upgraderun/to-c', '--timeout=150s');
    expect(await k('get', 'upgraderun', 'to-c', '-o', 'jsonpath={.status.message}')).toBe(`finished; left cordoned at their old release (undrainable): ${held}`);
    expect(await k('get', 'upgraderun', 'to-c', '-o', `jsonpath={.status.nodes[?(@.name=="${held}")].step}`)).toBe('Undrainable');
    expect(await k('get', 'node', held, '-o', 'jsonpath={.spec.unschedulable} {.metadata.labels.coracle\\.io/upgrade-undrainable} {.status.nodeInfo.kubeletVersion}')).toBe(`true true ${B}`);
    const versions = await nodeVersions();
    expect(versions).toHaveLength(4);
    expect(versions.filter((v) => v.endsWith(`=${C}`))).toHaveLength(3);
    expect(await k('get', 'pod', 'solo', '-o', 'jsonpath={.spec.nodeName}')).toBe(held);
    // The pool is not recorded at C while one of its nodes is not; the control plane runs C.
    expect(await k('get', 'nodepool', 'node', '-o', 'jsonpath={.spec.version}')).toBe(B);
    expect(await serverVersion()).toBe(C);
    // Release C ships a storage migration of its own: applied as it started, before it served; the run and the Cluster record it.
    type Storage = { backend: string; version: number; migrations: { version: number; description: string; release: string }[] };
    const storage = await until('the Cluster\'s status.storage at release C\'s schema', async () => {
      const got = (JSON.parse(await k('get', 'cluster', 'local', '-o', 'json')) as { status: { storage?: Storage } }).status.storage;
      return got?.migrations.at(-1)?.release === C ? got : undefined;
    }, 30_000);
    const expected = (storage.backend === 'cosmos' ? COSMOS_MIGRATIONS.length : SQLITE_MIGRATIONS.length) + 1;
    expect(storage.version).toBe(expected);
    expect(storage.migrations.at(-1)).toMatchObject({ version: expected, description: EXTRA_MIGRATION, release: C });
    expect((JSON.parse(await k('get', 'upgraderun', 'to-c', '-o', 'json')) as { status: { controlPlane: { storage: unknown } } }).status.controlPlane.storage)
      .toEqual({ version: expected, migrationsApplied: [`${expected}: ${EXTRA_MIGRATION}`] });
  }, 240_000);

  it('cancels a paused run for good: Cancelled, and cancel cannot be set back', async () => {
    const created = await run(['create', '-f', '-'], upgradeRun('cancelled', { targetVersion: C, force: true, paused: true }));
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    await k('wait', '--for=jsonpath={.status.phase}=Paused', 'upgraderun/cancelled', '--timeout=60s');
    expect((await coracle('upgrade', 'cancel', 'cancelled')).stdout).toBe('upgraderun.coracle.io/cancelled cancel requested\n');
    await k('wait', '--for=jsonpath={.status.phase}=Cancelled', 'upgraderun/cancelled', '--timeout=60s');
    const back = await run(['patch', 'upgraderun', 'cancelled', '--type=merge', '-p', '{"spec":{"cancel":false}}']);
    expect(back.stderr).toContain('spec.cancel: Forbidden: a cancelled run cannot be resumed; start a new run');
    expect(await k('get', 'cluster', 'local', '-o', 'jsonpath={.status.upgradeHistory[*].outcome}')).toBe('Succeeded Succeeded Cancelled');
    expect((await nodeVersions()).filter((v) => v.endsWith(`=${B}`))).toHaveLength(1);
  }, 120_000);
});
