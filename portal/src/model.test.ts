import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from './api.js';
import { formatBytes, formatCpu, parseQuantity, poolOfNode, podRequests, summarizeDeployment, summarizeNode } from './model.js';
import { activeRun, evictionCount, normalizePlan, viewRun } from './upgrade-model.js';

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

  it('normalizes a preview plan, a bare pool plan included', () => {
    const pool = { pool: 'node', target: 'v2', upToDate: [], batches: [[{ name: 'node-1', version: 'v1', evictions: [{ namespace: 'd', name: 'p', budgets: [], gracePeriodSeconds: 30 }] }]], budgets: [], problems: ['x'], surgeCapacityOk: true, estimateSeconds: 55 };
    const bare = normalizePlan(pool);
    expect(bare.pools).toHaveLength(1);
    expect(bare.problems).toEqual(['x']);
    expect(bare.estimateSeconds).toBe(55);
    expect(evictionCount(bare)).toBe(1);
    const full = normalizePlan({ controlPlane: { fromVersion: 'v1', toVersion: 'v2', estimateSeconds: 10 }, pools: [pool], problems: [] });
    expect(full.estimateSeconds).toBe(65);
    expect(full.problems).toEqual(['x']);
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
