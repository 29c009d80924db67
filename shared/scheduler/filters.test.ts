import { describe, expect, it } from '@jest/globals';
import { antiAffinityDomains } from './antiaffinity.js';
import { clusterState, type ClusterState } from './cluster.js';
import { nodeAffinity, nodeReady, nodeUnschedulable, podAntiAffinity, resourcesFit, runFilters, taintToleration, type Filter } from './filters.js';
import type { KubeObject } from '../api/objects.js';
import { podInfo } from './podinfo.js';
import { testNode, testPod } from './testing.js';
import { tolerates } from './taints.js';

/** check runs `filter` for `pod` on the node named `nodeName` of a cluster of `nodes` and `bound` pods. */
function check(filter: Filter, pod: KubeObject, nodes: KubeObject[], nodeName: string, bound: KubeObject[] = []) {
  const cluster: ClusterState = clusterState(nodes, bound);
  const info = podInfo(pod);
  return filter(info, cluster.byName.get(nodeName)!, { antiAffinity: antiAffinityDomains(info, cluster) });
}

const one = (filter: Filter, pod: KubeObject, node: KubeObject, bound: KubeObject[] = []) =>
  check(filter, pod, [node], String((node.metadata as { name: string }).name), bound);

describe('nodeReady', () => {
  it('passes a Ready node and rejects one that is not, unless the pod tolerates not-ready', () => {
    expect(one(nodeReady, testPod('p'), testNode('n'))).toBeUndefined();
    expect(one(nodeReady, testPod('p'), testNode('n', { ready: false }))).toEqual({
      reasons: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'], unresolvable: true,
    });
    expect(one(nodeReady, testPod('p'), { metadata: { name: 'n' }, status: {} })).toBeDefined();
    const tolerant = testPod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] } });
    expect(one(nodeReady, tolerant, testNode('n', { ready: false }))).toBeUndefined();
  });
});

describe('nodeUnschedulable', () => {
  it('rejects a cordoned node unless the pod tolerates node.kubernetes.io/unschedulable', () => {
    expect(one(nodeUnschedulable, testPod('p'), testNode('n'))).toBeUndefined();
    expect(one(nodeUnschedulable, testPod('p'), testNode('n', { unschedulable: true }))).toEqual({ reasons: ['node(s) were unschedulable'], unresolvable: true });
    const tolerant = testPod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    expect(one(nodeUnschedulable, tolerant, testNode('n', { unschedulable: true }))).toBeUndefined();
  });
});

describe('resourcesFit', () => {
  const node = testNode('n', { cpu: '2', memory: '1Gi', pods: '3' });
  it('fits requests within allocatable minus what is bound', () => {
    const bound = [testPod('b', { nodeName: 'n', cpu: '1500m', memory: '512Mi', phase: 'Running' })];
    expect(one(resourcesFit, testPod('p', { cpu: '500m', memory: '512Mi' }), node, bound)).toBeUndefined();
    expect(one(resourcesFit, testPod('p', { cpu: '501m' }), node, bound)).toEqual({ reasons: ['Insufficient cpu'], unresolvable: false });
    expect(one(resourcesFit, testPod('p', { cpu: '1', memory: '1Gi' }), node, bound)?.reasons).toEqual(['Insufficient cpu', 'Insufficient memory']);
  });

  it('ignores finished pods and pods on other nodes', () => {
    const bound = [
      testPod('done', { nodeName: 'n', cpu: '2', phase: 'Succeeded' }),
      testPod('failed', { nodeName: 'n', cpu: '2', phase: 'Failed' }),
      testPod('elsewhere', { nodeName: 'other', cpu: '2', phase: 'Running' }),
    ];
    expect(one(resourcesFit, testPod('p', { cpu: '2' }), node, bound)).toBeUndefined();
  });

  it('counts pod slots even for pods without requests', () => {
    const bound = [1, 2, 3].map((i) => testPod(`b${i}`, { nodeName: 'n' }));
    expect(one(resourcesFit, testPod('p'), node, bound)).toEqual({ reasons: ['Too many pods'], unresolvable: false });
    expect(one(resourcesFit, testPod('p'), node, bound.slice(1))).toBeUndefined();
  });
});

describe('nodeAffinity', () => {
  const node = testNode('n', { labels: { disk: 'ssd', gen: '5' } });
  const affinity = (terms: unknown[]) => testPod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } });
  const expr = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });
  const fits = (pod: KubeObject) => one(nodeAffinity, pod, node) === undefined;

  it('matches nodeSelector labels exactly', () => {
    expect(fits(testPod('p', { spec: { nodeSelector: { disk: 'ssd' } } }))).toBe(true);
    expect(fits(testPod('p', { spec: { nodeSelector: { disk: 'hdd' } } }))).toBe(false);
    expect(fits(testPod('p', { spec: { nodeSelector: { zone: 'a' } } }))).toBe(false);
    expect(one(nodeAffinity, testPod('p', { spec: { nodeSelector: { disk: 'hdd' } } }), node)).toEqual({
      reasons: ["node(s) didn't match Pod's node affinity/selector"], unresolvable: true,
    });
  });

  it('supports In, NotIn, Exists, DoesNotExist, Gt, Lt', () => {
    expect(fits(affinity([expr('disk', 'In', ['ssd', 'nvme'])]))).toBe(true);
    expect(fits(affinity([expr('disk', 'In', ['hdd'])]))).toBe(false);
    expect(fits(affinity([expr('disk', 'NotIn', ['hdd'])]))).toBe(true);
    expect(fits(affinity([expr('disk', 'NotIn', ['ssd'])]))).toBe(false);
    expect(fits(affinity([expr('missing', 'NotIn', ['x'])]))).toBe(true);
    expect(fits(affinity([expr('disk', 'Exists')]))).toBe(true);
    expect(fits(affinity([expr('missing', 'Exists')]))).toBe(false);
    expect(fits(affinity([expr('missing', 'DoesNotExist')]))).toBe(true);
    expect(fits(affinity([expr('disk', 'DoesNotExist')]))).toBe(false);
    expect(fits(affinity([expr('gen', 'Gt', ['4'])]))).toBe(true);
    expect(fits(affinity([expr('gen', 'Gt', ['5'])]))).toBe(false);
    expect(fits(affinity([expr('gen', 'Lt', ['6'])]))).toBe(true);
    expect(fits(affinity([expr('disk', 'Lt', ['6'])]))).toBe(false);
    expect(fits(affinity([expr('disk', 'Bogus', ['ssd'])]))).toBe(false);
  });

  it('ORs terms, ANDs expressions within a term, and an empty term matches nothing', () => {
    expect(fits(affinity([expr('disk', 'In', ['hdd']), expr('gen', 'In', ['5'])]))).toBe(true);
    expect(fits(affinity([{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }, { key: 'gen', operator: 'In', values: ['4'] }] }]))).toBe(false);
    expect(fits(affinity([{}]))).toBe(false);
    expect(fits(affinity([]))).toBe(false);
  });

  it('matches matchFields on metadata.name', () => {
    expect(fits(affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }]))).toBe(true);
    expect(fits(affinity([{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n'] }] }]))).toBe(false);
    expect(fits(affinity([{ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['n'] }] }]))).toBe(false);
  });
});

describe('taints and tolerations', () => {
  const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  it('tolerates as Kubernetes decides', () => {
    expect(tolerates({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, taint)).toBe(true);
    expect(tolerates({ key: 'dedicated', value: 'gpu' }, taint)).toBe(true);
    expect(tolerates({ key: 'dedicated', value: 'cpu' }, taint)).toBe(false);
    expect(tolerates({ key: 'dedicated', operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
    expect(tolerates({ key: 'other', operator: 'Exists' }, taint)).toBe(false);
  });

  it('rejects untolerated NoSchedule and NoExecute taints, never PreferNoSchedule', () => {
    const node = (effect: string) => testNode('n', { taints: [{ ...taint, effect }] });
    expect(one(taintToleration, testPod('p'), node('NoSchedule'))).toEqual({ reasons: ['node(s) had untolerated taint {dedicated: gpu}'], unresolvable: true });
    expect(one(taintToleration, testPod('p'), node('NoExecute'))).toBeDefined();
    expect(one(taintToleration, testPod('p'), node('PreferNoSchedule'))).toBeUndefined();
    const tolerant = testPod('p', { spec: { tolerations: [{ key: 'dedicated', operator: 'Exists' }] } });
    expect(one(taintToleration, tolerant, node('NoExecute'))).toBeUndefined();
  });
});

describe('podAntiAffinity', () => {
  const antiTerm = (app: string, topologyKey = 'kubernetes.io/hostname', extra: Record<string, unknown> = {}) => ({
    affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey, ...extra }] } },
  });
  const nodes = [testNode('a', { zone: 'z1' }), testNode('b', { zone: 'z1' }), testNode('c', { zone: 'z2' })];

  it('keeps a pod off a node holding a pod its terms select (same namespace by default)', () => {
    const bound = [testPod('web-0', { nodeName: 'a', labels: { app: 'web' }, phase: 'Running' })];
    const pod = testPod('web-1', { labels: { app: 'web' }, spec: antiTerm('web') });
    expect(check(podAntiAffinity, pod, nodes, 'a', bound)).toEqual({ reasons: ["node(s) didn't match pod anti-affinity rules"], unresolvable: false });
    expect(check(podAntiAffinity, pod, nodes, 'b', bound)).toBeUndefined();
    const otherNs = [testPod('web-0', { namespace: 'other', nodeName: 'a', labels: { app: 'web' } })];
    expect(check(podAntiAffinity, pod, nodes, 'a', otherNs)).toBeUndefined();
    const everyNs = testPod('web-1', { labels: { app: 'web' }, spec: antiTerm('web', 'kubernetes.io/hostname', { namespaceSelector: {} }) });
    expect(check(podAntiAffinity, everyNs, nodes, 'a', otherNs)).toBeDefined();
  });

  it('works over zones', () => {
    const bound = [testPod('web-0', { nodeName: 'a', labels: { app: 'web' } })];
    const pod = testPod('web-1', { labels: { app: 'web' }, spec: antiTerm('web', 'topology.kubernetes.io/zone') });
    expect(check(podAntiAffinity, pod, nodes, 'b', bound)).toBeDefined();
    expect(check(podAntiAffinity, pod, nodes, 'c', bound)).toBeUndefined();
  });

  it("honours placed pods' anti-affinity against the newcomer", () => {
    const bound = [testPod('db-0', { nodeName: 'a', labels: { app: 'db' }, spec: antiTerm('web') })];
    const pod = testPod('web-1', { labels: { app: 'web' } });
    expect(check(podAntiAffinity, pod, nodes, 'a', bound)).toEqual({ reasons: ["node(s) didn't satisfy existing pods anti-affinity rules"], unresolvable: false });
    expect(check(podAntiAffinity, pod, nodes, 'b', bound)).toBeUndefined();
  });
});

describe('runFilters', () => {
  it('reports the first failing filter only', () => {
    const node = testNode('n', { unschedulable: true, cpu: '1' });
    const cluster = clusterState([node], []);
    const pod = podInfo(testPod('p', { cpu: '2' }));
    expect(runFilters(pod, cluster.nodes[0], { antiAffinity: antiAffinityDomains(pod, cluster) })?.reasons).toEqual(['node(s) were unschedulable']);
  });
});
