import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../api/objects.js';
import { feasibleNodesToFind, queueOrder, scheduleBatch } from './schedule.js';
import { podRequests } from './resources.js';
import { testNode, testPod } from './testing.js';

function placement(result: ReturnType<typeof scheduleBatch>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of result.assignments) counts[a.nodeName] = (counts[a.nodeName] ?? 0) + 1;
  return counts;
}

describe('scheduleBatch', () => {
  it('never overcommits: 100 pods into 3 small nodes fill them exactly and the rest are unschedulable', () => {
    const nodes = [testNode('a', { cpu: '1', memory: '1Gi' }), testNode('b', { cpu: '1', memory: '1Gi' }), testNode('c', { cpu: '500m', memory: '1Gi' })];
    const pods = Array.from({ length: 100 }, (_, i) => testPod(`p${i}`, { cpu: '100m', memory: '64Mi', owner: 'rs' }));
    const result = scheduleBatch(pods, nodes, []);
    expect(placement(result)).toEqual({ a: 10, b: 10, c: 5 });
    expect(result.unschedulable).toHaveLength(75);
    for (const node of nodes) {
      const name = (node.metadata as { name: string }).name;
      const used = result.assignments.filter((a) => a.nodeName === name).reduce((sum, a) => sum + podRequests(a.pod).milliCpu, 0);
      const cap = name === 'c' ? 500 : 1000;
      expect(used).toBeLessThanOrEqual(cap);
    }
    expect(result.unschedulable[0].message).toBe(
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
    expect(result.unschedulable[0].reasons).toEqual({ 'Insufficient cpu': 3 });
  });

  it('counts pods already bound, and does not modify its inputs', () => {
    const nodes = [testNode('a', { cpu: '1' })];
    const bound = [testPod('b', { nodeName: 'a', cpu: '800m', phase: 'Running' })];
    const pods = [testPod('p1', { cpu: '200m' }), testPod('p2', { cpu: '200m' })];
    const before = structuredClone([nodes, bound, pods]);
    const result = scheduleBatch(pods, nodes, bound);
    expect(result.assignments.map((a) => (a.pod.metadata as { name: string }).name)).toEqual(['p1']);
    expect(result.unschedulable.map((u) => (u.pod.metadata as { name: string }).name)).toEqual(['p2']);
    expect([nodes, bound, pods]).toEqual(before);
  });

  it("spreads a controller's pods evenly over equal nodes, and over zones", () => {
    const nodes = [testNode('a'), testNode('b'), testNode('c')];
    const pods = Array.from({ length: 6 }, (_, i) => testPod(`web-${i}`, { owner: 'rs' }));
    expect(placement(scheduleBatch(pods, nodes, []))).toEqual({ a: 2, b: 2, c: 2 });
    const zoned = [testNode('a1', { zone: 'a' }), testNode('a2', { zone: 'a' }), testNode('a3', { zone: 'a' }), testNode('b1', { zone: 'b' })];
    // Whichever node the first pod takes, the second goes to the other zone (three nodes of zone a notwithstanding).
    for (let round = 0; round < 10; round++) {
      const pair = [0, 1].map((i) => testPod(`r${round}-${i}`, { owner: `rs${round}` }));
      const zones = scheduleBatch(pair, zoned, []).assignments.map((a) => a.nodeName[0]);
      expect(zones.sort()).toEqual(['a', 'b']);
    }
  });

  it('places anti-affine replicas one per node and reports the rest', () => {
    const nodes = [testNode('a'), testNode('b'), testNode('c')];
    const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
    const pods = Array.from({ length: 4 }, (_, i) => testPod(`db-${i}`, { labels: { app: 'db' }, spec: anti }));
    const result = scheduleBatch(pods, nodes, []);
    expect(placement(result)).toEqual({ a: 1, b: 1, c: 1 });
    expect(result.unschedulable[0].message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.");
  });

  it('honours taints, cordons and readiness, and words the mixed message as kube-scheduler', () => {
    const nodes = [
      testNode('tainted', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      testNode('cordoned', { unschedulable: true }),
      testNode('small', { cpu: '1' }),
      testNode('small2', { cpu: '1' }),
      testNode('down', { ready: false }),
      testNode('ok', { cpu: '8', labels: { disk: 'ssd' } }),
    ];
    const big = testPod('big', { cpu: '2', spec: { nodeSelector: {} } });
    expect(scheduleBatch([big], nodes, []).assignments).toEqual([{ pod: big, nodeName: 'ok' }]);
    const huge = testPod('huge', { cpu: '16' });
    expect(scheduleBatch([huge], nodes, []).unschedulable[0].message).toBe(
      '0/6 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, ' +
      '1 node(s) were unschedulable, 3 Insufficient cpu. preemption: 0/6 nodes are available: 3 No preemption victims found for incoming pod, ' +
      '3 Preemption is not helpful for scheduling.');
    const gpu = testPod('gpu', { spec: { tolerations: [{ key: 'dedicated', operator: 'Exists' }], nodeSelector: { 'kubernetes.io/hostname': 'tainted' } } });
    expect(scheduleBatch([gpu], nodes, []).assignments[0].nodeName).toBe('tainted');
    // Many small pods never land on the cordoned, tainted or not-ready nodes.
    const many = Array.from({ length: 50 }, (_, i) => testPod(`m${i}`, { cpu: '10m' }));
    expect(Object.keys(placement(scheduleBatch(many, nodes, []))).sort()).toEqual(['ok', 'small', 'small2']);
  });

  it('says so when there are no nodes', () => {
    expect(scheduleBatch([testPod('p')], [], []).unschedulable[0].message).toBe('no nodes available to schedule pods');
  });

  it('schedules higher priority, then older pods first', () => {
    const pods: KubeObject[] = [
      testPod('young', { cpu: '1', creationTimestamp: '2026-01-02T00:00:00Z' }),
      testPod('old', { cpu: '1', creationTimestamp: '2026-01-01T00:00:00Z' }),
      testPod('vip', { cpu: '1', creationTimestamp: '2026-01-03T00:00:00Z', spec: { priority: 1000 } }),
    ];
    expect([...pods].sort(queueOrder).map((p) => (p.metadata as { name: string }).name)).toEqual(['vip', 'old', 'young']);
    const result = scheduleBatch(pods, [testNode('a', { cpu: '2' })], []);
    expect(result.assignments.map((a) => (a.pod.metadata as { name: string }).name)).toEqual(['vip', 'old']);
  });

  it('searches an adaptive share of large clusters and still fills every node evenly', () => {
    expect(feasibleNodesToFind(50)).toBe(50);
    expect(feasibleNodesToFind(1000)).toBe(420);
    expect(feasibleNodesToFind(5000)).toBe(500);
    expect(feasibleNodesToFind(1000, 100)).toBe(1000);
    const nodes = Array.from({ length: 300 }, (_, i) => testNode(`n${i}`, { cpu: '1', pods: '110' }));
    const pods = Array.from({ length: 3000 }, (_, i) => testPod(`p${i}`, { cpu: '100m', owner: `rs${i % 30}` }));
    const result = scheduleBatch(pods, nodes, []);
    expect(result.assignments).toHaveLength(3000);
    expect(Object.values(placement(result)).every((n) => n === 10)).toBe(true);
  });
});
