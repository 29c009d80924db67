/**
 * cordon, uncordon and drain end to end with real kubectl on `coracle up --nodes 3 --runtime
 * simulated`: a ReplicaSet of 3 spread over the nodes with a PodDisruptionBudget minAvailable 2.
 * `kubectl drain` evicts through pods/eviction and completes while a watch proves the
 * ReplicaSet's ready pods never drop below 2; a drain blocked by minAvailable 3 keeps retrying
 * (kubectl's 429 message) until `kubectl scale` gives room, and never goes below 3; `cordon`
 * shows SchedulingDisabled and keeps new pods off the node, `uncordon` lets them on. Needs dist/.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import https from 'node:https';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl, kubectlPath, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(240_000);

let cluster: Cluster;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
const json = async (...args: string[]) => {
  const r = await run(...args, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const apply = async (manifest: unknown) => {
  const r = await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: JSON.stringify(manifest) });
  expect(r.code).toBe(0);
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

interface PodJson { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { phase?: string; conditions?: Array<{ type: string; status: string }> } }
const isReady = (p: PodJson) => !p.metadata.deletionTimestamp && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * ReadyWatch follows the web pods through a watch and remembers the fewest ready ones (Ready,
 * not terminating) seen since the last reset.
 */
class ReadyWatch {
  private readonly pods = new Map<string, PodJson>();
  private request?: ReturnType<typeof https.request>;
  min = Infinity;

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const url = new URL('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&watch=true', cluster.url);
      this.request = https.request(url, { headers: { authorization: `Bearer ${cluster.token}` }, ca: cluster.caPem }, (res) => {
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) this.observe(JSON.parse(line) as { type: string; object: PodJson });
          }
        });
        resolve();
      });
      this.request.on('error', (err) => (this.request ? undefined : reject(err)));
      this.request.end();
    });
  }

  ready(): number {
    return [...this.pods.values()].filter(isReady).length;
  }

  /** reset starts a new measuring window from the current count. */
  reset(): void {
    this.min = this.ready();
  }

  stop(): void {
    const r = this.request;
    this.request = undefined;
    r?.destroy();
  }

  private observe(event: { type: string; object: PodJson }): void {
    if (event.type === 'DELETED') this.pods.delete(event.object.metadata.name);
    else if (event.type === 'ADDED' || event.type === 'MODIFIED') this.pods.set(event.object.metadata.name, event.object);
    else return;
    this.min = Math.min(this.min, this.ready());
  }
}

const watch = new ReadyWatch();
const webPods = async (): Promise<PodJson[]> => (await json('get', 'pods', '-l', 'app=web')).items;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'simulated'], timeoutMs: 90_000 });
  await apply({
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } },
  });
  await apply({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
  await watch.start();
});

afterAll(async () => {
  watch.stop();
  await cluster?.destroy();
});

const drainArgs = (node: string) => ['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=150s'];

describe('drain', () => {
  it('drains a node through evictions without ever breaking the budget', async () => {
    await until('3 ready pods on 3 nodes', async () => {
      const pods = await webPods();
      return pods.filter(isReady).length === 3 && new Set(pods.map((p) => p.spec.nodeName)).size === 3;
    });
    await until('the budget allows 1', async () => (await json('get', 'pdb', 'web')).status?.disruptionsAllowed === 1);
    expect((await run('get', 'pdb', 'web', '--no-headers')).stdout).toMatch(/^web\s+2\s+N\/A\s+1\s/);
    const victim = (await webPods()).find((p) => p.spec.nodeName === 'node-1')!.metadata.name;
    watch.reset();

    const drained = await run(...drainArgs('node-1'));
    expect(drained.stderr).not.toMatch(/error/i);
    expect(drained.code).toBe(0);
    expect(drained.stdout).toContain('node/node-1 cordoned');
    expect(drained.stdout).toContain(`evicting pod default/${victim}`);
    expect(drained.stdout).toContain(`pod/${victim} evicted`);
    expect(drained.stdout).toContain('node/node-1 drained');
    await until('3 ready pods again, none on node-1', async () => {
      const pods = await webPods();
      return pods.length === 3 && pods.filter(isReady).length === 3 && pods.every((p) => p.spec.nodeName !== 'node-1');
    });
    expect(watch.min).toBeGreaterThanOrEqual(2);
    expect((await run('get', 'node', 'node-1', '--no-headers')).stdout).toMatch(/^node-1\s+Ready,SchedulingDisabled\s/);
  });

  it('keeps retrying a drain the budget blocks (429) until a scale-up gives room', async () => {
    await apply({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } } });
    await until('the budget allows 0', async () => {
      const pdb = await json('get', 'pdb', 'web');
      return pdb.status?.observedGeneration === pdb.metadata.generation && pdb.status.disruptionsAllowed === 0;
    });
    watch.reset();
    const child = spawn(kubectlPath(), [`--kubeconfig=${cluster.kubeconfigPath}`, ...drainArgs('node-2')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const refusal = /error when evicting pods\/"web-[a-z0-9]+" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./g;
    await until('two refused evictions', async () => (stderr.match(refusal) ?? []).length >= 2, 30_000);
    expect(child.exitCode).toBeNull();

    expect((await run('scale', 'rs', 'web', '--replicas=4')).code).toBe(0);
    expect(await exited).toBe(0);
    expect(stdout).toContain('node/node-2 drained');
    expect(watch.min).toBeGreaterThanOrEqual(3);
    await until('4 ready pods on node-3', async () => {
      const pods = await webPods();
      return pods.length === 4 && pods.filter(isReady).length === 4 && pods.every((p) => p.spec.nodeName === 'node-3');
    });
  });
});

describe('cordon and uncordon', () => {
  it('shows SchedulingDisabled and keeps new pods off a cordoned node; uncordon lets them on', async () => {
    const uncordoned = await run('uncordon', 'node-1', 'node-2');
    expect(uncordoned.stdout).toContain('node/node-1 uncordoned');
    const cordoned = await run('cordon', 'node-3');
    expect(cordoned.code).toBe(0);
    expect(cordoned.stdout).toBe('node/node-3 cordoned\n');
    expect((await run('get', 'node', 'node-3', '--no-headers')).stdout).toMatch(/^node-3\s+Ready,SchedulingDisabled\s/);
    await until('the unschedulable taint', async () => (await run('describe', 'node', 'node-3')).stdout.match(/Taints:\s+node\.kubernetes\.io\/unschedulable:NoSchedule/));

    await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pinned' }, spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-3' }, containers: [{ name: 'c', image: 'nginx:1.27' }] } });
    expect((await run('scale', 'rs', 'web', '--replicas=6')).code).toBe(0);
    await until('6 ready web pods', async () => (await webPods()).filter(isReady).length === 6);
    const placed = (await webPods()).filter((p) => p.spec.nodeName !== 'node-3');
    expect(placed).toHaveLength(2);
    const pinned = await json('get', 'pod', 'pinned');
    expect(pinned.spec.nodeName).toBeUndefined();
    expect(pinned.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }));

    expect((await run('uncordon', 'node-3')).stdout).toBe('node/node-3 uncordoned\n');
    expect((await run('get', 'node', 'node-3', '--no-headers')).stdout).toMatch(/^node-3\s+Ready\s/);
    await until('the pinned pod running on node-3', async () => {
      const pod = await json('get', 'pod', 'pinned');
      return pod.spec.nodeName === 'node-3' && pod.status.phase === 'Running';
    });
    expect((await run('describe', 'node', 'node-3')).stdout).toMatch(/Taints:\s+<none>/);
  });
});
