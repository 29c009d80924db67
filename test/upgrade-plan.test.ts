/**
 * `coracle upgrade plan` end to end: `coracle up --nodes 3 --runtime simulated`, a Deployment of 6
 * and a PodDisruptionBudget made with real kubectl, release B packed from this build and added to
 * the cluster's catalog; the plan names the budget that blocks every drain (minAvailable 6 of 6)
 * and refuses, then with minAvailable 5 plans three one-node batches and may start. Nothing moves.
 * Then a forced run is paused and cancelled inside a drain that the budget holds: while paused it
 * evicts nothing even once the budget allows it, and the cancel leaves the node uncordoned, with
 * its pods, at its release. Last, the auto-upgrade channel: a bad spec is refused (422); with a
 * closed maintenance window nothing starts; once the window is open the cluster starts a run to
 * the newest patch in the catalog by itself (labelled, with an Event), which is then cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl } from './support/kubectl.js';
import { packedRelease } from './support/releases.js';
import { RELEASE_VERSION } from '../shared/release/version.js';

const runFile = promisify(execFile);
const B = 'v1.35.1-coracle';
const C = 'v1.35.2-coracle';
let cluster: Cluster;
let packageC: Promise<string>;

const k = async (...args: string[]) => {
  // Upgrades below move the control plane: the API is down for a few seconds while it hands over.
  const r = await kubectl(args, { kubeconfig: cluster.kubeconfigPath, timeoutMs: 120_000, retryRefusedMs: 30_000 });
  expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return r.stdout;
};

async function plan(): Promise<{ code: number; stdout: string }> {
  try {
    return { code: 0, stdout: (await runFile(process.execPath, [CLI, 'upgrade', 'plan', '--data-dir', cluster.dataDir])).stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    expect(e.stderr).toBe('');
    return { code: e.code, stdout: e.stdout };
  }
}

beforeAll(async () => {
  // Packing (once per build for the whole run) goes on while the cluster starts; C is only added later.
  const packageB = packedRelease(B);
  packageB.catch(() => undefined);
  packageC = packedRelease(C);
  packageC.catch(() => undefined);
  cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'simulated'], timeoutMs: 90_000 });
  await runFile(process.execPath, [CLI, 'release', 'add', await packageB, '--data-dir', cluster.dataDir]);
  await k('create', 'deployment', 'web', '--image=coracle/web:v1', '--replicas=6');
  await k('create', 'pdb', 'web', '--selector=app=web', '--min-available=6');
  await k('wait', '--for=condition=Available', 'deployment/web', '--timeout=90s');
  await k('wait', '--for=jsonpath={.status.currentHealthy}=6', 'pdb/web', '--timeout=60s');
}, 240_000);
afterAll(async () => cluster?.destroy(), 60_000);

describe('coracle upgrade plan', () => {
  it('names the budget that blocks every drain, and refuses', async () => {
    const { code, stdout } = await plan();
    expect(code).toBe(3);
    expect(stdout).toContain(`control plane: ${RELEASE_VERSION} -> ${B}`);
    expect(stdout).toContain(`pool node: 3 batch(es) to ${B}; maxSurge 1, maxUnavailable 0, drainTimeout 30m, soak 0s, undrainable nodes: Cordon`);
    expect(stdout).toContain('PodDisruptionBudget default/web BLOCKS drains: minAvailable 6 requires all 6 pod(s) it covers to stay available');
    expect(stdout).toMatch(/preflight: refused:\n {2}- PodDisruptionBudget default\/web blocks the drain/);
  }, 60_000);

  it('plans one node per batch with the pods each drain evicts once the budget allows a disruption', async () => {
    await k('patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":5}}');
    const { code, stdout } = await plan();
    expect(code).toBe(0);
    const batches = stdout.split('\n').filter((l) => /^ {2}batch \d/.test(l));
    expect(batches).toEqual([1, 2, 3].map((i) => `  batch ${i}: add 1 node(s) at ${B}, drain node-${i}`));
    const evicted = [...stdout.matchAll(/default\/web-[a-z0-9-]+ \[default\/web\]/g)];
    expect(evicted).toHaveLength(6);
    expect(stdout).not.toContain('BLOCKS');
    expect(stdout).toContain('preflight: ok, the upgrade can start');
  }, 60_000);
});

describe('pause and cancel inside a drain', () => {
  const runStatus = (path: string) => k('get', 'upgraderun', 'held', '-o', `jsonpath=${path}`);
  const podsOn = async (node: string) => (await k('get', 'pods', '--field-selector', `spec.nodeName=${node}`, '-o', 'jsonpath={range .items[*]}{.metadata.name}{" "}{.metadata.deletionTimestamp}{"\\n"}{end}')).trim().split('\n').filter(Boolean).sort();

  it('holds a paused drain (no eviction even once the budget allows one), and a cancel uncordons the node at its release', async () => {
    await k('patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":6}}');
    // node-1 may hold none of web's pods: a pod of its own, under a budget that blocks its eviction, holds its drain for sure.
    await k('run', 'pinned', '--image=coracle/web:v1', '--labels=app=pinned', '--overrides={"apiVersion":"v1","spec":{"nodeName":"node-1"}}');
    await k('wait', '--for=condition=Ready', 'pod/pinned', '--timeout=60s');
    await k('create', 'pdb', 'pinned', '--selector=app=pinned', '--min-available=1');
    await k('wait', '--for=jsonpath={.status.currentHealthy}=1', 'pdb/pinned', '--timeout=60s');
    await k('patch', 'nodepool', 'node', '--type=merge', '-p', '{"spec":{"upgradeSettings":{"drainTimeout":"10m"}}}');
    await runFile(process.execPath, [CLI, 'upgrade', 'start', '--to', B, '--force', '--name', 'held', '--data-dir', cluster.dataDir]);
    // The control plane moves first (the API is down while it hands over), then node-1 is cordoned and its drain is held by the budget.
    let seen = '';
    for (const deadline = Date.now() + 120_000; Date.now() < deadline && seen !== 'Pools node-1 Draining'; await new Promise((r) => setTimeout(r, 500))) {
      seen = await runStatus('{.status.phase} {.status.nodes[0].name} {.status.nodes[0].step}');
    }
    expect(seen).toBe('Pools node-1 Draining');
    const before = await podsOn('node-1');
    expect(before.length).toBeGreaterThan(0);
    expect((await runFile(process.execPath, [CLI, 'upgrade', 'pause', 'held', '--data-dir', cluster.dataDir])).stdout).toBe('upgraderun.coracle.io/held paused\n');
    await k('wait', '--for=jsonpath={.status.phase}=Paused', 'upgraderun/held', '--timeout=60s');
    // The budget now allows one disruption: a running drain would evict at once; a paused one does not.
    await k('patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":5}}');
    await k('patch', 'pdb', 'pinned', '--type=merge', '-p', '{"spec":{"minAvailable":0}}');
    await k('wait', '--for=jsonpath={.status.disruptionsAllowed}=1', 'pdb/web', 'pdb/pinned', '--timeout=30s');
    await new Promise((r) => setTimeout(r, 8000));
    expect(await podsOn('node-1')).toEqual(before);
    expect(await runStatus('{.status.phase} {.status.nodes[0].step}')).toBe('Paused Draining');

    expect((await runFile(process.execPath, [CLI, 'upgrade', 'cancel', 'held', '--data-dir', cluster.dataDir])).stdout).toBe('upgraderun.coracle.io/held cancel requested\n');
    await k('wait', '--for=jsonpath={.status.phase}=Cancelled', 'upgraderun/held', '--timeout=60s');
    expect(await runStatus('{.status.message}')).toBe('cancelled while draining node-1: uncordoned, left at their release');
    expect(await runStatus('{.status.nodes[0].step}')).toBe('Waiting');
    expect(await k('get', 'node', 'node-1', '-o', 'jsonpath={.spec.unschedulable}|{.status.nodeInfo.kubeletVersion}')).toBe(`|${RELEASE_VERSION}`);
    expect(await podsOn('node-1')).toEqual(before);
  }, 240_000);
});

describe('auto-upgrade channel', () => {
  const hhmm = (offsetMinutes: number) => new Date(Date.now() + offsetMinutes * 60_000).toISOString().slice(11, 16);
  const patchCluster = (autoUpgrade: unknown) => kubectl(['patch', 'cluster', 'local', '--type=merge', '-p', JSON.stringify({ spec: { autoUpgrade } })], { kubeconfig: cluster.kubeconfigPath, timeoutMs: 60_000, retryRefusedMs: 30_000 });
  const autoRuns = async () => (await k('get', 'upgraderuns', '-l', 'coracle.io/auto-upgrade', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.targetVersion}{"\\n"}{end}')).trim();

  it('refuses a bad spec, starts nothing while the window is closed, and starts a run to the newest patch once it is open', async () => {
    await runFile(process.execPath, [CLI, 'release', 'add', await packageC, '--data-dir', cluster.dataDir]);
    const bad = await patchCluster({ channel: 'rapid', maintenanceWindow: { startTime: '25:00', durationHours: 4 } });
    expect(bad.stderr).toContain('spec.autoUpgrade.channel: Unsupported value: "rapid": supported values: "none", "patch", "stable"');
    expect(bad.stderr).toContain('spec.autoUpgrade.maintenanceWindow.startTime: Invalid value: "25:00"');
    expect(await k('explain', 'clusters.spec.autoUpgrade')).toContain('maintenanceWindow');

    expect((await patchCluster({ channel: 'patch', maintenanceWindow: { startTime: hhmm(120), durationHours: 1 } })).code).toBe(0);
    await new Promise((r) => setTimeout(r, 6000));
    expect(await autoRuns()).toBe('');

    expect((await patchCluster({ channel: 'patch', maintenanceWindow: { startTime: hhmm(-60), durationHours: 4 } })).code).toBe(0);
    let runs = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !runs; await new Promise((r) => setTimeout(r, 500))) runs = await autoRuns();
    expect(runs).toMatch(new RegExp(`^auto-[a-z0-9]+ ${C.replaceAll('.', '\\.')}$`));
    const name = runs.split(' ')[0]!;
    expect(await k('get', 'events', '--field-selector', 'involvedObject.kind=Cluster,reason=AutoUpgradeStarted', '-o', 'jsonpath={.items[*].message}'))
      .toContain(`channel patch: upgrade run ${name} to ${C} started in the maintenance window`);
    expect((await runFile(process.execPath, [CLI, 'upgrade', 'cancel', name, '--data-dir', cluster.dataDir])).stdout).toBe(`upgraderun.coracle.io/${name} cancel requested\n`);
    await k('wait', '--for=jsonpath={.status.phase}=Cancelled', `upgraderun/${name}`, '--timeout=120s');
    // Tried in this window: not started again.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await autoRuns()).toBe(`${name} ${C}`);
  }, 240_000);
});

