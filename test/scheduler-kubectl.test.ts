/**
 * The scheduler end to end with real kubectl on `coracle up --nodes 3 --runtime simulated`:
 * pods without a node are bound and spread over the 3 nodes (`kubectl get pods -o wide`); a pod
 * whose requests fit nowhere stays Pending and explains itself in `kubectl describe`
 * (FailedScheduling, kube-scheduler's message), then is scheduled once a node with room joins
 * (a simulated `coracle agent` with the admin token); a cordoned node gets nothing. Needs dist/.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(180_000);

let cluster: Cluster;
let extraAgent: ChildProcess | undefined;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
const json = async (...args: string[]) => {
  const r = await run(...args, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const apply = async (manifest: unknown) => {
  const r = await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: JSON.stringify(manifest) });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await probe().catch((err: unknown) => { last = err; return undefined; });
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const pod = (name: string, labels: Record<string, string>, cpu = '100m') => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
  spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu, memory: '16Mi' } } }] },
});

interface PodJson { metadata: { name: string }; spec: { nodeName?: string }; status: { phase?: string } }

/** nodesOf waits until every pod labelled `app` is Running and returns its node per pod. */
async function runningNodes(app: string, count: number): Promise<string[]> {
  return until(`${count} pods of ${app} running`, async () => {
    const items = (await json('get', 'pods', '-l', `app=${app}`)).items as PodJson[];
    return items.length === count && items.every((p) => p.status.phase === 'Running') && items.map((p) => p.spec.nodeName!);
  });
}

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'simulated'], timeoutMs: 60_000 });
});

afterAll(async () => {
  if (extraAgent && extraAgent.exitCode === null) {
    extraAgent.kill('SIGTERM');
    await new Promise((r) => extraAgent!.once('exit', r));
  }
  await cluster?.destroy();
});

describe('scheduler on coracle up', () => {
  it('binds pods without a node and spreads them over the 3 nodes', async () => {
    for (let i = 0; i < 6; i++) await apply(pod(`spread-${i}`, { app: 'spread' }));
    const nodes = await runningNodes('spread', 6);
    const perNode = new Map<string, number>();
    for (const n of nodes) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    expect([...perNode.keys()].sort()).toEqual(['node-1', 'node-2', 'node-3']);

    const wide = await run('get', 'pods', '-l', 'app=spread', '-o', 'wide');
    expect(wide.code).toBe(0);
    const lines = wide.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+/);
    for (const line of lines.slice(1)) expect(line).toMatch(/spread-\d\s+1\/1\s+Running\s+0\s+\S+\s+\S+\s+node-[123]\s/);

    const describe = await run('describe', 'pod', 'spread-0');
    expect(describe.stdout).toMatch(/Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/spread-0 to node-[123]/);
  });

  it('leaves a pod that fits nowhere Pending with FailedScheduling, and binds it when a node with room joins', async () => {
    await apply(pod('huge', { app: 'huge' }, '32'));
    const message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const described = await until('FailedScheduling in describe', async () => {
      const r = await run('describe', 'pod', 'huge');
      return r.stdout.includes('FailedScheduling') && r.stdout;
    });
    expect(described).toMatch(/Status:\s+Pending/);
    expect(described).toMatch(/PodScheduled\s+False/);
    expect(described).toMatch(/Warning\s+FailedScheduling\s+.*?\s+default-scheduler\s+0\/3 nodes are available: 3 Insufficient cpu\. preemption:/);
    const p = await json('get', 'pod', 'huge');
    expect(p.spec.nodeName).toBeUndefined();
    expect(p.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message })]);
    const events = await run('get', 'events', '--field-selector', 'involvedObject.name=huge');
    expect(events.stdout).toMatch(/Warning\s+FailedScheduling\s+pod\/huge/);

    // A fourth node with 64 cpus joins (a simulated agent with the admin token).
    extraAgent = spawn(process.execPath, [CLI, 'agent', '--node-name', 'node-4', '--server', cluster.url, '--ca-file', path.join(cluster.dataDir, 'ca.crt'),
      '--runtime', 'simulated', '--cpu', '64', '--memory', String(64 * 1024 ** 3)], { env: { ...process.env, CORACLE_AGENT_TOKEN: cluster.token }, stdio: 'ignore' });
    const nodes = await runningNodes('huge', 1);
    expect(nodes).toEqual(['node-4']);
  });

  it('puts nothing on a cordoned node', async () => {
    expect((await run('cordon', 'node-2')).code).toBe(0);
    await until('node-2 unschedulable', async () => (await json('get', 'node', 'node-2')).spec.unschedulable === true);
    for (let i = 0; i < 9; i++) await apply(pod(`cordon-${i}`, { app: 'cordon' }));
    const nodes = await runningNodes('cordon', 9);
    expect(nodes).not.toContain('node-2');
    expect(new Set(nodes).size).toBeGreaterThanOrEqual(2);
    expect((await run('uncordon', 'node-2')).code).toBe(0);
  });
});
