/**
 * The ReplicaSet controller end to end with real kubectl on `coracle up --nodes 3 --runtime
 * simulated`: apply of a ReplicaSet of 6 → 6 pods Running across the 3 nodes; scale to 2 (the
 * not-ready / newest go first) and back to 6; a deleted pod replaced; `kubectl get rs` columns
 * and `kubectl describe rs` events; a `kill -9` of `coracle up` while 20 pods are being created,
 * then a restart, ends with exactly 20 pods. Needs dist/ (npm test builds it first).
 *
 * Pods are placed by the scheduler that `coracle up` runs.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { clusterRequest, startCluster, type Cluster } from './support/cluster.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(180_000);

const NODES = ['node-1', 'node-2', 'node-3'];

let cluster: Cluster;
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

interface PodJson { metadata: { name: string; creationTimestamp: string; deletionTimestamp?: string; ownerReferences?: Array<{ name: string; controller?: boolean }> }; spec: { nodeName?: string }; status?: { phase?: string; conditions?: Array<{ type: string; lastTransitionTime?: string }> } }

/** livePods lists the pods of ReplicaSet `rs` that are not being deleted. */
async function livePods(rs: string): Promise<PodJson[]> {
  const list = await json('get', 'pods', '-l', `app=${rs}`);
  return (list.items as PodJson[]).filter((p) => !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((r) => r.name === rs && r.controller));
}

const replicaSet = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } },
  },
});

/** agentPids lists this cluster's agent processes (kill -9 of `coracle up` leaves its agents running). */
async function agentPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.includes('agent') && args.includes(cluster.url)) pids.push(Number(entry));
  }
  return pids;
}

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'simulated'], timeoutMs: 60_000 });
});
afterAll(async () => {
  await cluster?.destroy();
  // Agents orphaned by the kill -9 test: they were started for this suite; stop them by pid.
  if (cluster) for (const pid of await agentPids()) process.kill(pid, 'SIGTERM');
});

describe('ReplicaSet on coracle up --nodes 3 --runtime simulated', () => {
  it('runs 6 pods of an applied ReplicaSet across the 3 nodes, and kubectl get rs shows DESIRED CURRENT READY', async () => {
    await apply(replicaSet('web', 6));
    const pods = await until('6 running pods', async () => {
      const live = await livePods('web');
      return live.length === 6 && live.every((p) => p.status?.phase === 'Running') && live;
    });
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set(NODES));
    for (const p of pods) expect(p.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    await until('status 6/6 ready', async () => (await json('get', 'rs', 'web')).status.readyReplicas === 6);
    const table = await run('get', 'rs', 'web');
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE$/);
    expect(table.stdout.split('\n')[1]).toMatch(/^web\s+6\s+6\s+6\s+\S+$/);
  });

  it('scales to 2 with kubectl scale, deleting the newest first, and back to 6', async () => {
    const readySince = (p: PodJson) => p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '';
    const before = await livePods('web');
    expect((await run('scale', 'rs', 'web', '--replicas=2')).code).toBe(0);
    const after = await until('2 pods left', async () => {
      const live = await livePods('web');
      return live.length === 2 && live;
    });
    expect(after.every((p) => before.some((b) => b.metadata.name === p.metadata.name))).toBe(true);
    // Every pod is ready, two per node: the most recently ready went first (whole-second ties aside).
    const deleted = before.filter((b) => !after.some((p) => p.metadata.name === b.metadata.name));
    const newestKept = after.map(readySince).sort().pop()!;
    const oldestDeleted = deleted.map(readySince).sort()[0]!;
    expect(newestKept <= oldestDeleted).toBe(true);
    await until('status replicas 2', async () => (await json('get', 'rs', 'web')).status.replicas === 2);

    expect((await run('scale', 'rs', 'web', '--replicas=6')).code).toBe(0);
    await until('6 running pods again', async () => {
      const live = await livePods('web');
      return live.length === 6 && live.every((p) => p.status?.phase === 'Running');
    });
  });

  it('replaces a deleted pod', async () => {
    const [victim] = await livePods('web');
    expect((await run('delete', 'pod', victim!.metadata.name, '--wait=false')).code).toBe(0);
    await until('a replacement', async () => {
      const live = await livePods('web');
      return live.length === 6 && !live.some((p) => p.metadata.name === victim!.metadata.name) && live.every((p) => p.status?.phase === 'Running');
    });
  });

  it('kubectl describe rs shows SuccessfulCreate and SuccessfulDelete events', async () => {
    const out = (await run('describe', 'rs', 'web')).stdout;
    expect(out).toMatch(/Replicas:\s+6 current \/ 6 desired/);
    expect(out).toMatch(/Normal\s+SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: web-[a-z0-9]{5}/);
    expect(out).toMatch(/Normal\s+SuccessfulDelete\s+\S+\s+replicaset-controller\s+Deleted pod: web-[a-z0-9]{5}/);
    const events = (await json('get', 'events', '--field-selector', 'involvedObject.name=web')).items as Array<{ reason: string }>;
    expect(events.filter((e) => e.reason === 'SuccessfulCreate').length).toBeGreaterThanOrEqual(6);
  });

  it('ends with exactly 20 pods after a kill -9 of coracle up while they are being created, and a restart', async () => {
    await apply(replicaSet('burst', 20));
    // Kill as soon as the first pods exist: creates are under way (slow start: 1, 2, 4, 8, 5).
    const count = async () => {
      const res = await clusterRequest(cluster, '/api/v1/namespaces/default/pods?labelSelector=app%3Dburst', { token: cluster.token });
      return res.status === 200 ? (JSON.parse(res.body).items as unknown[]).length : 0;
    };
    const deadline = Date.now() + 10_000;
    let atKill = await count();
    while (atKill === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      atKill = await count();
    }
    expect(atKill).toBeGreaterThan(0);
    expect((await cluster.kill('SIGKILL')).signal).toBe('SIGKILL');
    console.log(`kill -9 with ${atKill} of 20 pods created`);
      await cluster.restart();
      await until('20 running pods of burst', async () => {
      const live = await livePods('burst');
      return live.length === 20 && live.every((p) => p.status?.phase === 'Running');
    }, 60_000);
    // And it stays at 20: nothing created twice shows up later.
    await new Promise((r) => setTimeout(r, 2_000));
    const all = (await json('get', 'pods', '-l', 'app=burst')).items as PodJson[];
    expect(all.filter((p) => !p.metadata.deletionTimestamp)).toHaveLength(20);
    expect((await json('get', 'rs', 'burst')).status).toMatchObject({ replicas: 20 });
  });
});
