/**
 * An upgrade run survives `kill -9` of `coracle up` (3 simulated nodes): a run created paused is
 * held by the durable orchestration; the process is killed and started again on the same data
 * folder; `coracle upgrade resume` then wakes the same orchestration instance, which finishes the
 * run. Then a run to release C is killed in the middle of its pool step: the agents die with
 * `coracle up`, the restart brings the same nodes back at the versions they had (the data
 * folder's nodes.json), and the orchestration goes on from its history to Succeeded with every
 * node at C.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl } from './support/kubectl.js';
import { packedRelease } from './support/releases.js';

const runFile = promisify(execFile);
const B = 'v1.35.1-coracle';
const C = 'v1.35.2-coracle';
let cluster: Cluster;
let packageC: Promise<string>;

const k = async (...args: string[]) => {
  const r = await kubectl(args, { kubeconfig: cluster.kubeconfigPath, timeoutMs: 180_000 });
  expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return r.stdout;
};

beforeAll(async () => {
  // Packing (once per build for the whole run) goes on while the cluster starts; C is only added later.
  const packageB = packedRelease(B);
  packageB.catch(() => undefined);
  packageC = packedRelease(C);
  packageC.catch(() => undefined);
  cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'simulated'], timeoutMs: 90_000 });
  await runFile(process.execPath, [CLI, 'release', 'add', await packageB, '--data-dir', cluster.dataDir]);
  await k('create', 'deployment', 'web', '--image=coracle/web:v1', '--replicas=3');
  await k('wait', '--for=condition=Available', 'deployment/web', '--timeout=90s');
}, 240_000);
afterAll(async () => cluster?.destroy(), 60_000);

it('a paused run survives kill -9 of coracle up and finishes once resumed', async () => {
  // Created paused: it holds before the control plane step, with nothing moved yet.
  const created = await kubectl(['create', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, timeoutMs: 60_000,
    input: JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata: { name: 'crash' }, spec: { targetVersion: B, paused: true } }) });
  expect(created.code).toBe(0);
  await k('wait', '--for=jsonpath={.status.phase}=Paused', 'upgraderun/crash', '--timeout=90s');
  expect((await cluster.kill('SIGKILL')).signal).toBe('SIGKILL');
  await cluster.restart();
  await k('wait', '--for=condition=Ready', 'node/node-1', 'node/node-2', 'node/node-3', '--timeout=90s');
  expect(await k('get', 'upgraderun', 'crash', '-o', 'jsonpath={.status.phase}')).toBe('Paused');
  await runFile(process.execPath, [CLI, 'upgrade', 'resume', 'crash', '--data-dir', cluster.dataDir]);
  await k('wait', '--for=jsonpath={.status.phase}=Succeeded', 'upgraderun/crash', '--timeout=150s');
  const versions = (await k('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.nodeInfo.kubeletVersion}{"\\n"}{end}')).trim().split('\n');
  expect(versions).toEqual([B, B, B]);
  // No budget covers web: the last node's drain may take its pods at once, and the run ends as they start elsewhere.
  await k('wait', '--for=jsonpath={.status.availableReplicas}=3', 'deployment/web', '--timeout=60s');
}, 360_000);

it('a run killed in the middle of its pool step resumes after the restart and moves every node', async () => {
  await runFile(process.execPath, [CLI, 'release', 'add', await packageC, '--data-dir', cluster.dataDir]);
  const created = await kubectl(['create', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, timeoutMs: 60_000,
    input: JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata: { name: 'midstep' }, spec: { targetVersion: C } }) });
  expect(created.code).toBe(0);
  // Wait until the pool step is under way: an old node draining or past it, another not yet done.
  const midDrain = (steps: string) => /^Pools /.test(steps) && /(Draining|Drained|Replaced|Ready)/.test(steps) && /(Waiting|Surging|Draining)/.test(steps);
  let seen = '';
  for (const started = Date.now(); Date.now() - started < 120_000; await new Promise((r) => setTimeout(r, 150))) {
    const r = await kubectl(['get', 'upgraderun', 'midstep', '-o', 'jsonpath={.status.phase} {.status.nodes[*].step}'], { kubeconfig: cluster.kubeconfigPath, timeoutMs: 30_000 });
    seen = r.stdout.trim();
    if (midDrain(seen)) break;
  }
  expect(midDrain(seen)).toBe(true);
  console.log(`kill -9 at: ${seen}`);
  expect((await cluster.kill('SIGKILL')).signal).toBe('SIGKILL');
  await cluster.restart();
  await k('wait', '--for=jsonpath={.status.phase}=Succeeded', 'upgraderun/midstep', '--timeout=240s');
  const nodes = (await k('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion}{"\\n"}{end}')).trim().split('\n');
  expect(nodes).toHaveLength(3);
  expect(nodes.every((n) => n.endsWith(`=${C}`))).toBe(true);
  await k('wait', '--for=condition=Ready', 'nodes', '--all', '--timeout=60s');
  expect(await k('get', 'nodepool', 'node', '-o', 'jsonpath={.status.version}')).toBe(C);
  await k('wait', '--for=condition=Available', 'deployment/web', '--timeout=90s');
  expect(await k('get', 'deployment', 'web', '-o', 'jsonpath={.status.availableReplicas}')).toBe('3');
}, 480_000);
