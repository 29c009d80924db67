import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pod, startApiServer, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { NODE_METRICS_REPORT_PATH, type NodeMetricsReport } from '../metrics/usage.js';
import { createNodeAuthorizer } from './authorize.js';

const N1 = 'node-n1-token';
const N2 = 'node-n2-token';
const USER = 'plain-user-token';
let h: Harness;
let clock = new Date('2026-12-06T10:00:00Z');
const uids: Record<string, string> = {};

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const report = (node: string, pods: NodeMetricsReport['pods'], extra: Partial<NodeMetricsReport> = {}): NodeMetricsReport => ({
  apiVersion: 'coracle.io/v1', kind: 'NodeMetricsReport', metadata: { name: node }, timestamp: clock.toISOString(), windowSeconds: 15,
  usage: { cpuNanoCores: 250_000_000, memoryBytes: 512 * 1024 * 1024 }, pods, ...extra,
});
const usageOf = (name: string, cpu: number, containers = ['c']) => ({
  namespace: name.startsWith('q') ? 'other' : 'default', name, uid: uids[name]!, containers: containers.map((c) => ({ name: c, cpuNanoCores: cpu, memoryBytes: 10 * 1024 * 1024 })),
});

beforeAll(async () => {
  const tokens = new Map([
    [TOKEN, { username: 'admin', groups: ['system:masters'] }],
    [N1, { username: 'system:node:n1', groups: ['system:nodes'] }],
    [N2, { username: 'system:node:n2', groups: ['system:nodes'] }],
    [USER, { username: 'alice', groups: [] }],
  ]);
  // The node authorizer reads the harness's store, as in the composition root (called only once h is set).
  h = await startApiServer({ tokens, now: () => clock, authorize: (user, info, attributes) => createNodeAuthorizer(h.store)(user, info, attributes) });
  await h.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  for (const n of ['n1', 'n2']) {
    expect((await h.json('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: { zone: n === 'n1' ? 'a' : 'b' } } })).status).toBe(201);
  }
  const place = async (name: string, node: string, labels: Record<string, string>, ns = 'default') => {
    const created = await h.json('POST', `/api/v1/namespaces/${ns}/pods`, pod(name, { metadata: { name, labels }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }, { name: 'd', image: 'busybox' }] } }));
    expect(created.status).toBe(201);
    uids[name] = created.body.metadata.uid;
  };
  await place('p1', 'n1', { app: 'web' });
  await place('p2', 'n1', { app: 'db' });
  await place('p3', 'n2', { app: 'web' });
  await place('q1', 'n1', { app: 'web' }, 'other');
});
afterAll(async () => { await h.close(); });

describe('node usage reports', () => {
  it('a node reports its own node and pods', async () => {
    const put = await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n1`, report('n1', [usageOf('p1', 5_000_000, ['c', 'd']), usageOf('p2', 0), usageOf('q1', 1)]), as(N1));
    expect(put.status).toBe(200);
    expect(put.body.receivedAt).toBe(clock.toISOString());
    expect((await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n2`, report('n2', [usageOf('p3', 7_000_000)]), as(N2))).status).toBe(200);
  });

  it("refuses another node's report and another node's pods with 403 Forbidden", async () => {
    const other = await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n2`, report('n2', []), as(N1));
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect(other.body.message).toContain(`node 'n1' cannot report metrics of node 'n2'`);
    const pods = await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n1`, report('n1', [usageOf('p3', 1)]), as(N1));
    expect(pods.status).toBe(403);
    expect(pods.body.message).toContain(`pod default/p3 is not bound to node 'n1'`);
    expect((await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n1`, report('n1', []), as(USER))).status).toBe(403);
  });

  it('drops an entry for a pod that is gone or replaced, refuses a malformed report (422) and other methods (405)', async () => {
    const stale = await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n1`, report('n1', [usageOf('p1', 5_000_000, ['c', 'd']), usageOf('p2', 0), usageOf('q1', 1), { ...usageOf('p1', 1), name: 'gone' }]), as(N1));
    expect(stale.status).toBe(200);
    expect(stale.body.pods.map((p: { name: string }) => p.name)).toEqual(['p1', 'p2', 'q1']);
    const bad = await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n1`, { ...report('n1', []), windowSeconds: -1 }, as(N1));
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ reason: 'Invalid', details: { causes: [{ field: 'windowSeconds' }] } });
    const renamed = await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n1`, report('n2', []), as(N1));
    expect(renamed.status).toBe(422);
    expect((await h.json('POST', `${NODE_METRICS_REPORT_PATH}/n1`, report('n1', []), as(N1))).status).toBe(405);
  });
});

describe('metrics.k8s.io/v1beta1', () => {
  it('is in discovery, get and list only', async () => {
    const list = await h.json('GET', '/apis/metrics.k8s.io/v1beta1');
    expect(list.body.resources).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'nodes', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] }),
      expect.objectContaining({ name: 'pods', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] }),
    ]));
    const groups = await h.json('GET', '/apis');
    expect(groups.body.groups.map((g: { name: string }) => g.name)).toContain('metrics.k8s.io');
    expect((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/nodes?watch=true')).status).toBe(405);
    expect((await h.json('DELETE', '/apis/metrics.k8s.io/v1beta1/nodes/n1')).status).toBe(405);
  });

  it('serves NodeMetrics as metrics-server does, with label selectors on the nodes', async () => {
    const list = await h.json('GET', '/apis/metrics.k8s.io/v1beta1/nodes');
    expect(list.body).toMatchObject({ kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1' });
    expect(list.body.items.map((i: any) => i.metadata.name)).toEqual(['n1', 'n2']);
    const one = await h.json('GET', '/apis/metrics.k8s.io/v1beta1/nodes/n1');
    expect(one.body).toMatchObject({
      kind: 'NodeMetrics', metadata: { name: 'n1', labels: { zone: 'a' } }, timestamp: '2026-12-06T10:00:00Z', window: '15s',
      usage: { cpu: '250000000n', memory: `${512 * 1024}Ki` },
    });
    const zoneB = await h.json('GET', '/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=zone%3Db');
    expect(zoneB.body.items.map((i: any) => i.metadata.name)).toEqual(['n2']);
  });

  it('serves PodMetrics per namespace and across, by name, label and field selector', async () => {
    const names = (body: any) => body.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`);
    expect(names((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')).body)).toEqual(['default/p1', 'default/p2', 'default/p3']);
    expect(names((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/pods')).body)).toEqual(['default/p1', 'default/p2', 'default/p3', 'other/q1']);
    expect(names((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb')).body)).toEqual(['default/p1', 'default/p3']);
    expect(names((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.namespace%3Dother')).body)).toEqual(['other/q1']);
    const p1 = await h.json('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p1');
    expect(p1.body).toMatchObject({
      kind: 'PodMetrics', metadata: { name: 'p1', namespace: 'default', labels: { app: 'web' } }, window: '15s',
      containers: [{ name: 'c', usage: { cpu: '5000000n', memory: '10240Ki' } }, { name: 'd', usage: { cpu: '5000000n', memory: '10240Ki' } }],
    });
    const missing = await h.json('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ reason: 'NotFound', message: 'podmetrics.metrics.k8s.io "default/nope" not found' });
  });

  it('a node may not read the Metrics API', async () => {
    expect((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/pods', undefined, as(N1))).status).toBe(403);
  });

  it('stops serving a node whose report is older than the staleness bound', async () => {
    clock = new Date(clock.getTime() + 51_000);
    expect((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).body.items).toHaveLength(0);
    expect((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/pods')).body.items).toHaveLength(0);
    const gone = await h.json('GET', '/apis/metrics.k8s.io/v1beta1/nodes/n1');
    expect(gone.status).toBe(404);
    expect(gone.body.message).toBe('nodemetrics.metrics.k8s.io "n1" not found');
    expect((await h.json('PUT', `${NODE_METRICS_REPORT_PATH}/n1`, report('n1', []), as(N1))).status).toBe(200);
    expect((await h.json('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).body.items.map((i: any) => i.metadata.name)).toEqual(['n1']);
  });
});
