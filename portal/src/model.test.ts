import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from './api.js';
import { formatBytes, formatCpu, parseQuantity, poolOfNode, podRequests, summarizeDeployment, summarizeNode } from './model.js';
import { previewUpgrade, type PreviewInput } from '../../shared/upgrade/preview.js';
import { activeRun, clusterHistory, evictionCount, normalizePlan, onlyBudgetsBlock, problemText, viewRun } from './upgrade-model.js';

const A = 'v1.35.0-coracle';
const B = 'v1.35.1-coracle';
/** previewInput is a cluster at A with pool "node" of three nodes, one web pod each, and B in the catalog. */
const previewInput = (over: Partial<PreviewInput> = {}): PreviewInput => ({
  spec: { targetVersion: B, scope: 'Cluster' },
  cluster: { apiVersion: 'coracle.io/v1', kind: 'Cluster', metadata: { name: 'local' }, spec: { version: A }, status: { controlPlaneVersion: A } },
  catalog: [A, B],
  nodePools: [{ apiVersion: 'coracle.io/v1', kind: 'NodePool', metadata: { name: 'node' }, spec: { version: A, count: 3, upgradeSettings: { maxSurge: 1, maxUnavailable: 0 } } }],
  nodes: ['node-1', 'node-2', 'node-3'].map((name) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { nodeInfo: { kubeletVersion: A } } })),
  pods: ['node-1', 'node-2', 'node-3'].map((nodeName, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}`, namespace: 'default', labels: { app: 'web' } }, spec: { nodeName }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })),
  pdbs: [],
  ...over,
});
const obj = (name: string, rest: Partial<KubeObject> = {}): KubeObject => ({ metadata: { name, ...(rest.metadata ?? {}) }, ...rest } as KubeObject);

describe('portal model', () => {
  it('reads quantities as the API writes them', () => {
    expect(parseQuantity('250m')).toBeCloseTo(0.25);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('128974848')).toBe(128974848);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('lots')).toBeNaN();
    expect(formatCpu(0.25)).toBe('250m');
    expect(formatCpu(2)).toBe('2');
    expect(formatBytes(3 * 2 ** 30)).toBe('3Gi');
  });

  it('sums a pod\'s requests, an init container counting when larger', () => {
    const pod = obj('p', { spec: { containers: [{ resources: { requests: { cpu: '100m', memory: '64Mi' } } }, { resources: { requests: { cpu: '50m' } } }], initContainers: [{ resources: { requests: { memory: '1Gi' } } }] } });
    expect(podRequests(pod)).toEqual({ cpu: 0.15000000000000002, memory: 2 ** 30 });
  });

  it('summarizes a node as kubectl shows it: status, cordon, pods bound and running, requests', () => {
    const node = obj('node-1', { spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.35.0-coracle' }, allocatable: { cpu: '2', memory: '4Gi' } } });
    const pods = [
      obj('a', { spec: { nodeName: 'node-1', containers: [{ resources: { requests: { cpu: '500m' } } }] }, status: { phase: 'Running' } }),
      obj('b', { spec: { nodeName: 'node-1', containers: [] }, status: { phase: 'Succeeded' } }),
      obj('c', { spec: { nodeName: 'node-2', containers: [] }, status: { phase: 'Running' } }),
    ];
    const s = summarizeNode(node, pods, ['node']);
    expect(s).toMatchObject({ status: 'Ready,SchedulingDisabled', cordoned: true, pods: 1, cpuRequested: 0.5, cpuAllocatable: 2, pool: 'node', kubeletVersion: 'v1.35.0-coracle' });
  });

  it('finds a node\'s pool by label, else by name prefix (longest first)', () => {
    expect(poolOfNode(obj('big-pool-1'), ['big', 'big-pool'])).toBe('big-pool');
    expect(poolOfNode(obj('x', { metadata: { name: 'x', labels: { 'coracle.io/nodepool': 'p' } } }), [])).toBe('p');
    expect(poolOfNode(obj('lonely'), ['node'])).toBeUndefined();
  });

  it('says when a Deployment\'s rollout is in progress, as kubectl rollout status does', () => {
    const settled = obj('web', { metadata: { name: 'web', generation: 2 }, spec: { replicas: 3 }, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 } });
    expect(summarizeDeployment(settled)).toMatchObject({ ready: 3, desired: 3, rollout: undefined });
    expect(summarizeDeployment({ ...settled, spec: { replicas: 4 } }).rollout).toBe('3 of 4 updated');
    expect(summarizeDeployment({ ...settled, metadata: { name: 'web', generation: 3 } }).rollout).toContain('observe');
  });

  it('reads a real preview plan (previewUpgrade output): batches, evictions, estimate, typed problems', () => {
    const plan = previewUpgrade(previewInput());
    const view = normalizePlan(JSON.parse(JSON.stringify(plan)));
    expect(view).toEqual(plan);
    expect(view.controlPlane).toEqual({ fromVersion: A, toVersion: B });
    expect(view.pools.map((p) => p.batches.map((batch) => batch.map((n) => n.name)))).toEqual([[['node-1'], ['node-2'], ['node-3']]]);
    expect(evictionCount(view)).toBe(3);
    expect(view.estimateSeconds).toBe(plan.pools[0]!.estimateSeconds);
    expect(view.estimateSeconds).toBeGreaterThan(0);
    expect(view.canStart).toBe(true);
    expect(view.problems).toEqual([]);
    expect(onlyBudgetsBlock(view)).toBe(false);
  });

  it('shows problems as the API writes them ({type, field, message}); only blocking budgets are forceable', () => {
    const notInCatalog = normalizePlan(JSON.parse(JSON.stringify(previewUpgrade(previewInput({ catalog: [A] })))));
    expect(notInCatalog.canStart).toBe(false);
    expect(notInCatalog.problems.map((p) => p.type)).toEqual(['NotInCatalog']);
    expect(problemText(notInCatalog.problems[0]!)).toMatch(/^NotInCatalog: release v1\.35\.1-coracle is not in the catalog/);
    expect(onlyBudgetsBlock(notInCatalog)).toBe(false);
    const blockingPdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'all', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, minAvailable: '100%' } };
    const blocked = normalizePlan(JSON.parse(JSON.stringify(previewUpgrade(previewInput({ pdbs: [blockingPdb] })))));
    expect(blocked.problems.map((p) => p.type)).toEqual(['BlockingBudget']);
    expect(blocked.pools[0]!.budgets[0]).toMatchObject({ budget: 'default/all', severity: 'blocks' });
    expect(blocked.canStart).toBe(false);
    expect(onlyBudgetsBlock(blocked)).toBe(true);
  });

  it('fills what a partial plan lacks instead of throwing', () => {
    const empty = normalizePlan(undefined);
    expect(empty).toMatchObject({ pools: [], problems: [], estimateSeconds: 0, canStart: true });
    const partial = normalizePlan({ pools: [{ pool: 'node', estimateSeconds: 20, batches: [[{ name: 'node-1', version: A }]] }] });
    expect(partial.estimateSeconds).toBe(20);
    expect(evictionCount(partial)).toBe(0);
  });

  it('reads a run\'s status as the orchestration writes it: node steps, surge nodes, control-plane step', () => {
    const run = obj('upgrade-x', {
      metadata: { name: 'upgrade-x', creationTimestamp: '2026-12-01T00:00:00Z' },
      spec: { targetVersion: B, scope: 'Cluster', paused: true },
      status: {
        phase: 'Paused', progress: { done: 1, total: 3 }, surgeNodes: ['node-4'], startTime: '2026-12-01T00:00:01Z',
        controlPlane: { fromVersion: A, toVersion: B, step: 'Upgraded' },
        nodes: [{ name: 'node-1', pool: 'node', fromVersion: A, toVersion: B, step: 'Replaced', message: 'replaced by node-4' }, { name: 'node-2', pool: 'node', fromVersion: A, toVersion: B, step: 'Waiting' }],
        conditions: [{ type: 'Running', status: 'True' }],
      },
    });
    expect(viewRun(run)).toMatchObject({ phase: 'Paused', paused: true, done: 1, total: 3, surgeNodes: ['node-4'], controlPlane: { step: 'Upgraded' }, finished: false, startTime: '2026-12-01T00:00:01Z' });
    expect(viewRun(run).nodes.map((n) => n.step)).toEqual(['Replaced', 'Waiting']);
  });

  it('reads the Cluster\'s upgradeHistory newest first', () => {
    const cluster = obj('local', { status: { upgradeHistory: [
      { name: 'upgrade-a', fromVersion: A, toVersion: B, scope: 'ControlPlane', outcome: 'Succeeded', message: 'done' },
      { name: 'upgrade-b', fromVersion: B, toVersion: B, scope: 'Pool/node', outcome: 'Cancelled', message: 'cancelled' },
    ] } });
    expect(clusterHistory(cluster).map((h) => `${h.name} ${h.outcome}`)).toEqual(['upgrade-b Cancelled', 'upgrade-a Succeeded']);
    expect(clusterHistory(undefined)).toEqual([]);
  });

  it('picks the newest unfinished run and reads its progress', () => {
    const runs = [
      obj('upgrade-a', { metadata: { name: 'upgrade-a', creationTimestamp: '2026-12-01T00:00:00Z' }, status: { phase: 'Succeeded' } }),
      obj('upgrade-b', { metadata: { name: 'upgrade-b', creationTimestamp: '2026-12-02T00:00:00Z' }, spec: { paused: true }, status: { phase: 'Paused', progress: { done: 1, total: 3 } } }),
    ];
    expect(activeRun(runs)?.metadata.name).toBe('upgrade-b');
    expect(viewRun(runs[1]!)).toMatchObject({ paused: true, done: 1, total: 3, finished: false });
    expect(activeRun(runs.slice(0, 1))).toBeUndefined();
  });
});
