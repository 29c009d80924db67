/**
 * Node agents end to end with real kubectl on `coracle up --nodes 2 --runtime simulated` (no
 * Docker needed): nodes Ready with their labels and capacity, a bound pod Running with its IPs,
 * deletes confirmed by the agent, node identities confined to their own objects, a killed
 * agent's Lease no longer renewed, and hollow nodes; `kubectl top` shows simulated pods' small
 * steady usage, and nothing for hollow nodes (they do not report). Needs dist/ (npm test builds it first).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';
import { simulatedUsage } from '../agent/runtime/simulated/index.js';

jest.setTimeout(120_000);

let cluster: Cluster;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
const json = async (...args: string[]) => {
  const r = await run(...args, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** nodeToken reads node `name`'s token from the cluster's token file. */
async function nodeToken(name: string): Promise<string> {
  const text = await readFile(path.join(cluster.dataDir, 'tokens.csv'), 'utf8');
  const line = text.split('\n').find((l) => l.split(',')[1] === `system:node:${name}`);
  if (!line) throw new Error(`no token for ${name}`);
  return line.split(',')[0];
}

/** agentPid finds the agent process of `node` for this cluster (its command line names the server). */
async function agentPid(node: string): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const args = cmd.split('\0');
    if (args.includes('agent') && args.includes(node) && args.includes(cluster.url)) return Number(entry);
  }
  throw new Error(`no agent process for ${node}`);
}

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, extraArgs: ['--runtime', 'simulated'], timeoutMs: 60_000 });
});
afterAll(async () => {
  await cluster?.destroy();
});

describe('coracle up --nodes 2 --runtime simulated', () => {
  it('registers node-1 and node-2 Ready with labels, capacity and versions', async () => {
    const list = await json('get', 'nodes');
    expect(list.items.map((n: { metadata: { name: string } }) => n.metadata.name).sort()).toEqual(['node-1', 'node-2']);
    for (const n of list.items) {
      const name = n.metadata.name;
      expect(n.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' });
      expect(n.metadata.labels['kubernetes.io/arch']).toMatch(/^(amd64|arm64)$/);
      expect(n.status.capacity.pods).toBe('110');
      expect(Number(n.status.capacity.cpu)).toBeGreaterThan(0);
      expect(n.status.capacity.memory).toMatch(/^\d+Ki$/);
      expect(n.status.nodeInfo).toMatchObject({ kubeletVersion: 'v1.35.0-coracle', containerRuntimeVersion: 'simulated://0.1.0' });
      expect(n.status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    }
    const table = await run('get', 'nodes');
    expect(table.stdout).toMatch(/node-1\s+Ready\s+<none>\s+\S+\s+v1\.35\.0-coracle/);
  });

  it('runs a pod bound to node-1: Running with podIP and hostIP in kubectl get pods -o wide', async () => {
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] } });
    expect((await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: manifest })).code).toBe(0);
    const pod = await until('web Running', async () => {
      const p = await json('get', 'pod', 'web');
      return p.status?.phase === 'Running' && p;
    });
    expect(pod.status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(pod.status.hostIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(pod.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
    const wide = await run('get', 'pods', '-o', 'wide');
    expect(wide.stdout).toMatch(new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${pod.status.podIP.replace(/\./g, '\\.')}\\s+node-1`));
  });

  it("kubectl top shows the simulated pod's small steady usage and both nodes", async () => {
    const uid: string = (await json('get', 'pod', 'web')).metadata.uid;
    const steady = simulatedUsage(uid, 'c');
    const row = await until('web in kubectl top pods', async () => {
      const r = await run('top', 'pod', 'web', '--no-headers');
      return r.code === 0 && r.stdout.trim().split(/\s+/);
    }, 30_000);
    // kubectl rounds CPU up to a millicore (the rate may differ from the steady one by a nanocore's rounding) and prints memory in whole MiB.
    expect(row[0]).toBe('web');
    expect(row[1]).toMatch(/^\d+m$/);
    expect(Math.abs(Number(row[1]!.slice(0, -1)) - steady.cpuNanoCores / 1e6)).toBeLessThanOrEqual(1);
    expect(row[2]).toBe(`${steady.memoryBytes / 2 ** 20}Mi`);
    const nodes = await until('both nodes in kubectl top nodes', async () => {
      const r = await run('top', 'nodes', '--no-headers');
      const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
      return r.code === 0 && rows.length === 2 && rows.every((cells) => /^\d+m$/.test(cells[1] ?? '')) && rows;
    }, 30_000);
    expect(nodes.map((cells) => cells[0])).toEqual(['node-1', 'node-2']);
  });

  it('node-2 may not change node-1, its pods, nor create pods (403)', async () => {
    const token = await nodeToken('node-2');
    const as2 = (...args: string[]) => run(`--token=${token}`, ...args);
    const label = await as2('label', 'node', 'node-1', 'hacked=yes');
    expect(label.code).not.toBe(0);
    expect(label.stderr).toContain('nodes "node-1" is forbidden: User "system:node:node-2" cannot patch resource "nodes" in API group "" at the cluster scope');
    const del = await as2('delete', 'pod', 'web', '--grace-period=0', '--force');
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain('pods "web" is forbidden: User "system:node:node-2" cannot delete resource "pods"');
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sneaky' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const create = await kubectl([`--token=${token}`, 'create', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: manifest });
    expect(create.code).not.toBe(0);
    expect(create.stderr).toContain('cannot create resource "pods"');
    // Its own Node is writable.
    expect((await as2('label', 'node', 'node-2', 'mine=yes')).code).toBe(0);
    expect((await json('get', 'pod', 'web')).status.phase).toBe('Running');
  });

  it('kubectl delete pod completes once the agent confirms', async () => {
    const started = Date.now();
    const del = await run('delete', 'pod', 'web', '--timeout=30s');
    expect(del.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await run('get', 'pod', 'web')).code).not.toBe(0);
  });

  it('after kill -9 of an agent its Lease renewTime stops advancing, while the other node keeps renewing', async () => {
    const renewTime = async (node: string) => (await json('get', 'lease', '-n', 'kube-node-lease', node)).spec.renewTime as string;
    const before = await renewTime('node-2');
    await until('node-2 renews', async () => (await renewTime('node-2')) !== before, 15_000);
    process.kill(await agentPid('node-2'), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const frozen = await renewTime('node-2');
    const other = await renewTime('node-1');
    await new Promise((r) => setTimeout(r, 12_000));
    expect(await renewTime('node-2')).toBe(frozen);
    expect(await renewTime('node-1')).not.toBe(other);
  });

  it('runs hollow nodes with coracle agent --hollow', async () => {
    const child = spawn(process.execPath, [CLI, 'agent', '--hollow', '20', '--node-name', 'hollow', '--server', cluster.url, '--ca-file', path.join(cluster.dataDir, 'ca.crt'), '--start-delay-ms', '100'], {
      env: { ...process.env, CORACLE_AGENT_TOKEN: cluster.token }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()) && out.includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`hollow agent exited ${code}`)));
      });
      const nodes = await json('get', 'nodes', '-l', 'type=hollow');
      expect(nodes.items).toHaveLength(20);
      const leases = await json('get', 'leases', '-n', 'kube-node-lease');
      expect(leases.items.filter((l: { metadata: { name: string } }) => l.metadata.name.startsWith('hollow-'))).toHaveLength(20);
      const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'on-hollow' }, spec: { nodeName: 'hollow-7', containers: [{ name: 'c', image: 'busybox' }] } });
      expect((await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: manifest })).code).toBe(0);
      const pod = await until('on-hollow Running', async () => {
        const p = await json('get', 'pod', 'on-hollow');
        return p.status?.phase === 'Running' && p;
      });
      expect(pod.status.hostIP).toBe('172.16.0.7');
      // Hollow nodes do not report usage (README: "Metrics"): no figures for them or their pods.
      const top = await run('top', 'node', 'hollow-7');
      expect(top.code).not.toBe(0);
      expect(top.stderr).toContain('nodemetrics.metrics.k8s.io "hollow-7" not found');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
