/**
 * Node lifecycle end to end with real kubectl on `coracle up --nodes 3 --runtime simulated
 * --node-monitor-grace-period 10s --default-toleration-seconds 15`: `kill -9` of one agent turns
 * its node NotReady (conditions Unknown, NodeStatusUnknown) with the unreachable taints; after
 * the pods' 15 s toleration its ReplicaSet's pods are marked for deletion (Terminating, the agent
 * cannot confirm) and replaced on the other nodes; restarting the agent makes the node Ready, its
 * taints go, and the agent finishes the Terminating pods. Needs dist/.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(240_000);

let cluster: Cluster;
let restarted: ChildProcess | undefined;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
const json = async (...args: string[]) => {
  const r = await run(...args, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await probe().catch((err: unknown) => { last = err; return undefined; });
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** agentProcess finds the agent of `node` of this cluster: its pid and command line. */
function agentProcess(node: string): { pid: number; args: string[]; env: Record<string, string> } {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (args.includes('agent') && args.includes(node) && args.includes(path.join(cluster.dataDir, 'ca.crt'))) {
        const env = Object.fromEntries(readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
        return { pid: Number(entry), args, env };
      }
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no agent process for ${node}`);
}

interface PodJson { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { phase?: string } }
const webPods = async (): Promise<PodJson[]> => (await json('get', 'pods', '-l', 'app=web')).items;
const live = (pods: PodJson[]) => pods.filter((p) => !p.metadata.deletionTimestamp);

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'simulated', '--node-monitor-grace-period', '10s', '--default-toleration-seconds', '15'], timeoutMs: 90_000 });
  const rs = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' },
    spec: { replicas: 6, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } },
  };
  const r = await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: JSON.stringify(rs) });
  expect(r.code).toBe(0);
});

afterAll(async () => {
  if (restarted && restarted.exitCode === null) {
    restarted.kill('SIGTERM');
    await new Promise((r) => restarted!.once('exit', r));
  }
  await cluster?.destroy();
});

describe('node lifecycle', () => {
  it('taints a dead node, replaces its pods after the toleration, and takes it back when its agent returns', async () => {
    const before = await until('6 running pods on 3 nodes', async () => {
      const pods = await webPods();
      return pods.length === 6 && pods.every((p) => p.status.phase === 'Running') && new Set(pods.map((p) => p.spec.nodeName)).size === 3 && pods;
    });
    const victims = before.filter((p) => p.spec.nodeName === 'node-3').map((p) => p.metadata.name);
    expect(victims.length).toBeGreaterThan(0);
    const expectedToleration = (await json('get', 'pod', victims[0]!)).spec.tolerations;
    expect(expectedToleration).toContainEqual({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 15 });

    const agent = agentProcess('node-3');
    process.kill(agent.pid, 'SIGKILL');

    // NotReady: every condition Unknown, the unreachable taints (NoExecute with timeAdded).
    const unknown = await until('node-3 Unknown and tainted', async () => {
      const node = await json('get', 'node', 'node-3');
      const taints = node.spec.taints ?? [];
      return node.status.conditions.every((c: { status: string }) => c.status === 'Unknown') && taints.length === 2 && node;
    });
    const ready = unknown.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    const noExecute = unknown.spec.taints.find((t: { effect: string }) => t.effect === 'NoExecute');
    expect(noExecute).toEqual({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: expect.any(String) });
    expect(unknown.spec.taints).toContainEqual({ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' });
    const lease = await json('get', 'lease', '-n', 'kube-node-lease', 'node-3');
    // Not before the 10 s grace period since the last renewal.
    expect(Date.parse(ready.lastTransitionTime) - Date.parse(lease.spec.renewTime)).toBeGreaterThanOrEqual(9_000);
    const table = await run('get', 'node', 'node-3', '--no-headers');
    expect(table.stdout).toMatch(/^node-3\s+NotReady\s/);

    // The pods stay until their toleration runs out, then go Terminating and are replaced elsewhere.
    const evicted = await until('node-3 pods terminating and 6 live pods elsewhere', async () => {
      const pods = await webPods();
      const gone = pods.filter((p) => victims.includes(p.metadata.name)).every((p) => p.metadata.deletionTimestamp);
      const replacements = live(pods);
      return gone && replacements.length === 6 && replacements.every((p) => p.status.phase === 'Running' && p.spec.nodeName !== 'node-3') && Date.now();
    });
    expect(evicted - Date.parse(noExecute.timeAdded)).toBeGreaterThanOrEqual(14_000);
    const events = (await json('get', 'events')).items.filter((e: { reason: string }) => e.reason === 'TaintManagerEviction');
    expect(events.map((e: { involvedObject: { name: string } }) => e.involvedObject.name).sort()).toEqual([...victims].sort());
    const terminating = await run('get', 'pods', '-l', 'app=web', '--no-headers');
    for (const name of victims) expect(terminating.stdout).toMatch(new RegExp(`^${name}\\s+\\S+\\s+Terminating\\s`, 'm'));

    // The agent returns: Ready, taints gone, the Terminating pods finished.
    restarted = spawn(process.execPath, agent.args.slice(1), { env: agent.env, stdio: 'ignore' });
    await until('node-3 Ready without taints', async () => {
      const node = await json('get', 'node', 'node-3');
      return node.status.conditions.find((c: { type: string }) => c.type === 'Ready')?.status === 'True' && !node.spec.taints;
    });
    expect((await run('get', 'node', 'node-3', '--no-headers')).stdout).toMatch(/^node-3\s+Ready\s/);
    await until('the terminating pods gone', async () => (await webPods()).every((p) => !victims.includes(p.metadata.name)));
    expect(live(await webPods())).toHaveLength(6);
  });
});
