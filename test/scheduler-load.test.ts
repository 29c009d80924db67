/**
 * Issue 13's correctness under load, not timing: bench:scheduler's workload (ReplicaSets of
 * hollow-node pods with CPU requests, created ten at a time) at a reduced size on `coracle up`,
 * packed tight (20 hollow nodes with room for 8 pods each by CPU, 150 pods). Once every pod runs:
 * every ReplicaSet has exactly its replicas (no pod lost or duplicated), every pod was bound
 * exactly once (one `Scheduled` event, counted once, and a node), and no node holds more than its
 * allocatable CPU or pod count. Needs dist/.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { clusterRequest, startCluster, startHollowNodes, type Cluster, type HollowNodes } from './support/cluster.js';
import { until } from './support/until.js';

jest.setTimeout(240_000);

const NODES = 20;
const REPLICASETS = 10;
const REPLICAS = 15;
/** Each pod asks 500m of a hollow node's 4 CPUs: 8 per node by CPU (allocatable pods: 12), 160 places for 150 pods. */
const CPU_MILLIS = 500;

let cluster: Cluster;
let nodes: HollowNodes;

interface Pod {
  metadata: { name: string; uid: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> };
  spec: { nodeName?: string; containers: Array<{ resources?: { requests?: { cpu?: string } } }> };
  status: { phase?: string };
}
interface Node { metadata: { name: string }; status: { allocatable: { cpu: string; pods: string } } }
interface Event { reason: string; count?: number; involvedObject: { uid?: string } }

const api = async <T>(path: string, method = 'GET', body?: unknown): Promise<T> => {
  const res = await clusterRequest(cluster, path, {
    method, token: cluster.token, body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
};

const millis = (cpu: string) => (cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000);

const replicaSet = (i: number) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `load-${i}` },
  spec: {
    replicas: REPLICAS, selector: { matchLabels: { app: `load-${i}` } },
    template: {
      metadata: { labels: { app: `load-${i}` } },
      spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: `${CPU_MILLIS}m`, memory: '64Mi' } } }] },
    },
  },
});

beforeAll(async () => {
  cluster = await startCluster({ nodes: 0 });
  nodes = await startHollowNodes(cluster, NODES, 12, 'load');
});

afterAll(async () => {
  await nodes?.stop();
  await cluster?.destroy();
});

describe('the scheduler benchmark\'s workload, reduced (issue 13)', () => {
  it('binds every pod exactly once, overcommits no node, and leaves every ReplicaSet exactly its replicas', async () => {
    for (let i = 0; i < REPLICASETS; i += 5) {
      await Promise.all(Array.from({ length: 5 }, (_, k) => api('/apis/apps/v1/namespaces/default/replicasets', 'POST', replicaSet(i + k))));
    }
    const total = REPLICASETS * REPLICAS;
    const pods = await until(`${total} pods Running`, async () => {
      const items = (await api<{ items: Pod[] }>('/api/v1/namespaces/default/pods')).items;
      return items.length === total && items.every((p) => p.status.phase === 'Running') && items;
    }, 180_000, 1000);

    // Every ReplicaSet exactly its replicas, counted by controller reference, and its status says so.
    const rsList = (await api<{ items: Array<{ metadata: { uid: string; name: string }; status: { replicas?: number } }> }>('/apis/apps/v1/namespaces/default/replicasets')).items;
    expect(rsList).toHaveLength(REPLICASETS);
    for (const rs of rsList) {
      expect([rs.metadata.name, pods.filter((p) => p.metadata.ownerReferences?.some((o) => o.controller && o.uid === rs.metadata.uid)).length]).toEqual([rs.metadata.name, REPLICAS]);
    }
    await until('every ReplicaSet status at its replicas', async () =>
      (await api<{ items: Array<{ status: { replicas?: number } }> }>('/apis/apps/v1/namespaces/default/replicasets')).items.every((rs) => rs.status.replicas === REPLICAS));

    // Bound exactly once: a node each, and one successful binding each (one Scheduled event, counted once).
    expect(pods.filter((p) => !p.spec.nodeName)).toEqual([]);
    const events = (await api<{ items: Event[] }>('/api/v1/namespaces/default/events')).items.filter((e) => e.reason === 'Scheduled');
    const scheduled = new Map<string, number>();
    for (const e of events) scheduled.set(e.involvedObject.uid ?? '', (scheduled.get(e.involvedObject.uid ?? '') ?? 0) + (e.count ?? 1));
    expect(pods.filter((p) => scheduled.get(p.metadata.uid) !== 1).map((p) => [p.metadata.name, scheduled.get(p.metadata.uid) ?? 0])).toEqual([]);

    // No node over its allocatable CPU or pod count.
    const nodeList = (await api<{ items: Node[] }>('/api/v1/nodes')).items.filter((n) => nodes.names.includes(n.metadata.name));
    expect(nodeList).toHaveLength(NODES);
    const over = nodeList.flatMap((n) => {
      const on = pods.filter((p) => p.spec.nodeName === n.metadata.name);
      const cpu = on.reduce((sum, p) => sum + p.spec.containers.reduce((s, c) => s + millis(c.resources?.requests?.cpu ?? '0'), 0), 0);
      return cpu > millis(n.status.allocatable.cpu) || on.length > Number(n.status.allocatable.pods) ? [`${n.metadata.name}: ${on.length} pods, ${cpu}m`] : [];
    });
    expect(over).toEqual([]);
  });
});
