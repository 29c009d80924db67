import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../api/objects.js';
import { clusterState } from './cluster.js';
import { podInfo } from './podinfo.js';
import { balancedAllocation, controllerSpread, leastAllocated, preferNoScheduleTaints, selectNode, tieBreakHash, type ScorePlugin } from './scores.js';
import { testNode, testPod } from './testing.js';

/** scoresOf runs `plugin` for `pod` over every node of the cluster, by node name. */
function scoresOf(plugin: ScorePlugin, pod: KubeObject, nodes: KubeObject[], bound: KubeObject[] = []): Record<string, number> {
  const cluster = clusterState(nodes, bound);
  const scores = plugin.score(podInfo(pod), cluster.nodes, cluster);
  return Object.fromEntries(cluster.nodes.map((n, i) => [n.name, Math.round(scores[i] * 100) / 100]));
}

describe('leastAllocated', () => {
  it('prefers the node with more room left, averaging cpu and memory', () => {
    const nodes = [testNode('empty', { cpu: '4', memory: '4Gi' }), testNode('half', { cpu: '4', memory: '4Gi' })];
    const bound = [testPod('b', { nodeName: 'half', cpu: '2', memory: '2Gi' })];
    const s = scoresOf(leastAllocated, testPod('p', { cpu: '1', memory: '1Gi' }), nodes, bound);
    expect(s).toEqual({ empty: 75, half: 25 });
  });

  it('counts pods without requests at the default request, so they still spread', () => {
    const nodes = [testNode('a'), testNode('b')];
    const s = scoresOf(leastAllocated, testPod('p'), nodes, [testPod('x', { nodeName: 'a' })]);
    expect(s.b).toBeGreaterThan(s.a);
  });
});

describe('balancedAllocation', () => {
  it('prefers the node where cpu and memory use end up equal', () => {
    const nodes = [testNode('cpuheavy', { cpu: '4', memory: '4Gi' }), testNode('even', { cpu: '4', memory: '4Gi' })];
    const bound = [testPod('b', { nodeName: 'cpuheavy', cpu: '2', memory: '200Mi' }), testPod('c', { nodeName: 'even', cpu: '1', memory: '1Gi' })];
    const s = scoresOf(balancedAllocation, testPod('p', { cpu: '1', memory: '1Gi' }), nodes, bound);
    expect(s.even).toBe(100);
    expect(s.cpuheavy).toBeLessThan(s.even);
  });
});

describe('controllerSpread', () => {
  it('prefers nodes with fewer pods of the same controller, ignoring other controllers', () => {
    const nodes = [testNode('a'), testNode('b'), testNode('c')];
    const bound = [
      testPod('r1', { nodeName: 'a', owner: 'rs1' }), testPod('r2', { nodeName: 'a', owner: 'rs1' }), testPod('r3', { nodeName: 'b', owner: 'rs1' }),
      testPod('o1', { nodeName: 'c', owner: 'rs2' }), testPod('o2', { nodeName: 'c', owner: 'rs2' }),
    ];
    expect(scoresOf(controllerSpread, testPod('p', { owner: 'rs1' }), nodes, bound)).toEqual({ a: 0, b: 50, c: 100 });
    expect(scoresOf(controllerSpread, testPod('p'), nodes, bound)).toEqual({ a: 0, b: 0, c: 0 });
  });

  it('weighs zones two thirds', () => {
    const nodes = [testNode('a1', { zone: 'a' }), testNode('a2', { zone: 'a' }), testNode('b1', { zone: 'b' })];
    const bound = [testPod('r1', { nodeName: 'a1', owner: 'rs1' })];
    // a2 holds none itself but its zone holds one: node score 100 × 1/3, zone score 0.
    expect(scoresOf(controllerSpread, testPod('p', { owner: 'rs1' }), nodes, bound)).toEqual({ a1: 0, a2: 33.33, b1: 100 });
  });
});

describe('preferNoScheduleTaints', () => {
  it('prefers nodes with fewer untolerated PreferNoSchedule taints', () => {
    const soft = (key: string) => ({ key, effect: 'PreferNoSchedule' });
    const nodes = [testNode('clean'), testNode('one', { taints: [soft('x')] }), testNode('two', { taints: [soft('x'), soft('y')] })];
    expect(scoresOf(preferNoScheduleTaints, testPod('p'), nodes)).toEqual({ clean: 100, one: 50, two: 0 });
    const tolerant = testPod('p', { spec: { tolerations: [{ operator: 'Exists' }] } });
    expect(scoresOf(preferNoScheduleTaints, tolerant, nodes)).toEqual({ clean: 100, one: 100, two: 100 });
  });
});

describe('selectNode', () => {
  it('picks the highest weighted total', () => {
    const nodes = [testNode('busy'), testNode('free')];
    const cluster = clusterState(nodes, [testPod('b', { nodeName: 'busy', cpu: '3' })]);
    expect(selectNode(podInfo(testPod('p', { cpu: '100m' })), cluster.nodes, cluster).name).toBe('free');
  });

  it('breaks ties by pod and node, so equal nodes share pods fairly and deterministically', () => {
    const nodes = Array.from({ length: 4 }, (_, i) => testNode(`n${i}`));
    const cluster = clusterState(nodes, []);
    const picks = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const pod = podInfo(testPod(`p${i}`));
      const chosen = selectNode(pod, cluster.nodes, cluster).name;
      expect(selectNode(pod, cluster.nodes, cluster).name).toBe(chosen);
      picks.set(chosen, (picks.get(chosen) ?? 0) + 1);
    }
    expect(picks.size).toBe(4);
    for (const n of picks.values()) expect(n).toBeGreaterThan(60);
    expect(tieBreakHash('u', 'a')).not.toBe(tieBreakHash('u', 'b'));
  });
});
