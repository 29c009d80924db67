import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';
import { replicaSetKeys, SelectorIndex, parseReplicaSetKey } from './keys.js';
import { availableInMs, isPodActive, podsToDelete, slowStartBatches } from './pods.js';

interface P { name: string; node?: string; phase?: string; ready?: boolean; readySince?: string; restarts?: number; created?: string; cost?: string }
const pod = (p: P): KubeObject => ({
  kind: 'Pod',
  metadata: { name: p.name, creationTimestamp: p.created ?? '2026-05-01T09:00:00Z', ...(p.cost ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': p.cost } } : {}) },
  spec: p.node ? { nodeName: p.node } : {},
  status: {
    phase: p.phase ?? 'Running',
    conditions: p.ready === undefined ? [] : [{ type: 'Ready', status: p.ready ? 'True' : 'False', lastTransitionTime: p.readySince ?? '2026-05-01T09:00:00Z' }],
    containerStatuses: [{ name: 'c', restartCount: p.restarts ?? 0 }],
  },
});
const order = (pods: P[]) => podsToDelete(pods.map(pod), pods.length).map((p) => (p.metadata as { name: string }).name);

describe('podsToDelete (ActivePodsWithRanks)', () => {
  it('puts unscheduled before scheduled, and Pending before Unknown before Running', () => {
    expect(order([
      { name: 'running', node: 'a', ready: true },
      { name: 'unknown', node: 'b', phase: 'Unknown' },
      { name: 'unscheduled', phase: 'Pending' },
      { name: 'pending', node: 'c', phase: 'Pending' },
    ])).toEqual(['unscheduled', 'pending', 'unknown', 'running']);
  });

  it('puts not-ready before ready, lower deletion cost first, then more pods on the node first', () => {
    expect(order([
      { name: 'ready-alone', node: 'a', ready: true },
      { name: 'ready-crowded-1', node: 'b', ready: true },
      { name: 'ready-crowded-2', node: 'b', ready: true, created: '2026-05-01T08:00:00Z' },
      { name: 'not-ready', node: 'c', ready: false },
      { name: 'cheap', node: 'd', ready: true, cost: '-10' },
    ])).toEqual(['not-ready', 'cheap', 'ready-crowded-1', 'ready-crowded-2', 'ready-alone']);
  });

  it('puts recently ready before long ready, more restarts before fewer, newer before older', () => {
    expect(order([
      { name: 'old', node: 'a', ready: true, created: '2026-05-01T07:00:00Z' },
      { name: 'new', node: 'b', ready: true, created: '2026-05-01T08:00:00Z' },
      { name: 'restarty', node: 'c', ready: true, restarts: 4 },
      { name: 'fresh-ready', node: 'd', ready: true, readySince: '2026-05-01T09:30:00Z' },
    ])).toEqual(['fresh-ready', 'restarty', 'new', 'old']);
  });

  it('takes only as many as asked', () => {
    expect(podsToDelete([pod({ name: 'a' }), pod({ name: 'b' })], 0)).toEqual([]);
    expect(podsToDelete([pod({ name: 'a', node: 'n' }), pod({ name: 'b' })], 1).map((p) => (p.metadata as { name: string }).name)).toEqual(['b']);
  });
});

describe('pod predicates', () => {
  it('treats finished and terminating pods as inactive', () => {
    expect(isPodActive(pod({ name: 'a' }))).toBe(true);
    expect(isPodActive(pod({ name: 'a', phase: 'Succeeded' }))).toBe(false);
    expect(isPodActive(pod({ name: 'a', phase: 'Failed' }))).toBe(false);
    expect(isPodActive({ ...pod({ name: 'a' }), metadata: { name: 'a', deletionTimestamp: '2026-05-01T09:00:00Z' } })).toBe(false);
  });

  it('makes a pod available minReadySeconds after it became ready', () => {
    const now = Date.parse('2026-05-01T09:00:10Z');
    const p = pod({ name: 'a', ready: true, readySince: '2026-05-01T09:00:00Z' });
    expect(availableInMs(p, 0, now)).toBe(0);
    expect(availableInMs(p, 5, now)).toBe(0);
    expect(availableInMs(p, 10, now)).toBe(1);
    expect(availableInMs(p, 30, now)).toBe(20_001);
    expect(availableInMs(pod({ name: 'b', ready: false }), 0, now)).toBeUndefined();
  });

  it('batches creates 1, 2, 4, … as slow start does', () => {
    expect(slowStartBatches(0)).toEqual([]);
    expect(slowStartBatches(1)).toEqual([1]);
    expect(slowStartBatches(6)).toEqual([1, 2, 3]);
    expect(slowStartBatches(20)).toEqual([1, 2, 4, 8, 5]);
  });
});

describe('replicaset keys', () => {
  const rs = (name: string, app: string): KubeObject => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'ns' }, spec: { selector: { matchLabels: { app } } } });
  const podChange = (metadata: Record<string, unknown>, type: Change['type'] = 'put', prev?: Record<string, unknown>): Change => ({
    key: 'k', type, revision: 1, value: { kind: 'Pod', metadata: { namespace: 'ns', ...metadata } },
    ...(prev ? { prevValue: { kind: 'Pod', metadata: { namespace: 'ns', ...prev } } } : {}),
  });
  const owner = (name: string) => ({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid: 'u', controller: true }] });

  it('maps a ReplicaSet to itself and indexes its selector', () => {
    const index = new SelectorIndex();
    expect(replicaSetKeys({ key: 'k', type: 'put', revision: 1, value: rs('web', 'web') }, index)).toEqual(['ns/web']);
    expect(index.matching('ns', { app: 'web' })).toEqual(['web']);
    replicaSetKeys({ key: 'k', type: 'delete', revision: 2, value: rs('web', 'web') }, index);
    expect(index.matching('ns', { app: 'web' })).toEqual([]);
  });

  it('maps a pod to its controlling ReplicaSet, an orphan to the matching ones, and a changed owner to both', () => {
    const index = new SelectorIndex();
    index.observe(rs('web', 'web'));
    index.observe(rs('web2', 'web'));
    index.observe(rs('db', 'db'));
    expect(replicaSetKeys(podChange({ name: 'p', labels: { app: 'web' }, ...owner('web') }), index)).toEqual(['ns/web']);
    expect(replicaSetKeys(podChange({ name: 'p', labels: { app: 'web' } }), index)).toEqual(['ns/web', 'ns/web2']);
    expect(replicaSetKeys(podChange({ name: 'p', labels: { app: 'web' } }, 'delete'), index)).toEqual([]);
    expect(replicaSetKeys(podChange({ name: 'p', labels: { app: 'x' } }, 'put', { name: 'p', labels: { app: 'db' }, ...owner('db') }), index)).toEqual(['ns/db']);
    expect(replicaSetKeys(podChange({ name: 'p', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'u', controller: true }] }), index)).toEqual([]);
    expect(replicaSetKeys({ key: 'k', type: 'put', revision: 1, value: { kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' } } }, index)).toEqual([]);
  });

  it('parses keys', () => {
    expect(parseReplicaSetKey('ns/web')).toEqual({ namespace: 'ns', name: 'web' });
    expect(parseReplicaSetKey('web')).toBeUndefined();
    expect(parseReplicaSetKey('a/b/c')).toBeUndefined();
  });
});
