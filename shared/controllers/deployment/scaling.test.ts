import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import {
  findActiveOrLatest, isScalingEvent, newReplicaSetReplicas, oldPodsRunning, planNewReplicaSet, planOldReplicaSets,
  planRecreateScaleDown, planScale, type ScaleStep,
} from './scaling.js';
import { fakeDeployment, fakeReplicaSet } from './testing.js';
import { maxSurge, maxUnavailable, resolveFenceposts, scaledValue } from './util.js';

const sizes = (steps: readonly ScaleStep[]) => steps.map((s) => `${String((s.rs.metadata as { name: string }).name)} ${s.from}->${s.to}`);

describe('maxSurge / maxUnavailable (ResolveFenceposts)', () => {
  it('rounds a surge percentage up and an unavailable percentage down', () => {
    expect(resolveFenceposts('25%', '25%', 10)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts('25%', '25%', 1)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts('34%', '34%', 3)).toEqual({ surge: 2, unavailable: 1 });
  });

  it('takes integers as they are, and makes 1 unavailable when both resolve to 0', () => {
    expect(resolveFenceposts(1, 0, 3)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(0, '10%', 5)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts(0, 0, 5)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts('2', undefined, 5)).toEqual({ surge: 2, unavailable: 0 });
  });

  it('refuses a malformed value', () => {
    expect(() => scaledValue('ten', 10, true)).toThrow(/invalid value/);
  });

  it('is 0 for Recreate, and unavailable never exceeds replicas', () => {
    expect(maxSurge(fakeDeployment({ strategy: 'Recreate' }))).toBe(0);
    expect(maxUnavailable(fakeDeployment({ strategy: 'Recreate' }))).toBe(0);
    expect(maxUnavailable(fakeDeployment({ replicas: 2, maxUnavailable: 5 }))).toBe(2);
    expect(maxUnavailable(fakeDeployment({ replicas: 0, maxUnavailable: 5 }))).toBe(0);
  });
});

describe('the new ReplicaSet (NewRSNewReplicas)', () => {
  const d = fakeDeployment({ replicas: 10 });
  it('grows by the surge left, never past the Deployment size', () => {
    const old = fakeReplicaSet('web-old', { replicas: 10 });
    const fresh = fakeReplicaSet('web-new', { replicas: 0 });
    expect(newReplicaSetReplicas(d, [old, fresh], fresh)).toBe(3);
    const grown = fakeReplicaSet('web-new', { replicas: 3 });
    expect(newReplicaSetReplicas(d, [old, grown], grown)).toBe(3);
    const oldShrunk = fakeReplicaSet('web-old', { replicas: 1 });
    const nine = fakeReplicaSet('web-new', { replicas: 9 });
    expect(newReplicaSetReplicas(d, [oldShrunk, nine], nine)).toBe(10);
  });

  it('takes the full count under Recreate', () => {
    const fresh = fakeReplicaSet('web-new', { replicas: 0 });
    expect(newReplicaSetReplicas(fakeDeployment({ replicas: 4, strategy: 'Recreate' }), [fresh], fresh)).toBe(4);
  });

  it('scales a too large new ReplicaSet straight down to the Deployment size', () => {
    const big = fakeReplicaSet('web-new', { replicas: 12 });
    expect(sizes(planNewReplicaSet(d, [big], big))).toEqual(['web-new 12->10']);
    const exact = fakeReplicaSet('web-new', { replicas: 10 });
    expect(planNewReplicaSet(d, [exact], exact)).toEqual([]);
  });
});

describe('old ReplicaSets (reconcileOldReplicaSets)', () => {
  it('scales down only as far as new pods became available (maxUnavailable 0, maxSurge 1)', () => {
    const d = fakeDeployment({ replicas: 3, maxSurge: 1, maxUnavailable: 0 });
    const old = fakeReplicaSet('web-old', { replicas: 3 });
    const notReady = fakeReplicaSet('web-new', { replicas: 1, ready: 0 });
    expect(planOldReplicaSets(d, [old, notReady], [old], notReady)).toEqual([]);
    const ready = fakeReplicaSet('web-new', { replicas: 1 });
    expect(sizes(planOldReplicaSets(d, [old, ready], [old], ready))).toEqual(['web-old 3->2']);
  });

  it('scales down to replicas - maxUnavailable available pods (25% of 10)', () => {
    const d = fakeDeployment({ replicas: 10 });
    const old = fakeReplicaSet('web-old', { replicas: 10 });
    const fresh = fakeReplicaSet('web-new', { replicas: 3, ready: 0 });
    expect(sizes(planOldReplicaSets(d, [old, fresh], [old], fresh))).toEqual(['web-old 10->8']);
  });

  it('removes unhealthy old replicas first, oldest ReplicaSet first, then available ones', () => {
    const d = fakeDeployment({ replicas: 10 });
    const older = fakeReplicaSet('web-a', { replicas: 5, ready: 3, createdAt: 0 });
    const old = fakeReplicaSet('web-b', { replicas: 5, createdAt: 10 });
    const fresh = fakeReplicaSet('web-c', { replicas: 2, createdAt: 20 });
    // 12 pods, 8 must stay available: 2 unhealthy go, then 2 of the 10 available.
    expect(sizes(planOldReplicaSets(d, [older, old, fresh], [older, old], fresh))).toEqual(['web-a 5->1']);
  });

  it('does nothing when no old replicas are left', () => {
    const d = fakeDeployment({ replicas: 3 });
    const old = fakeReplicaSet('web-old', { replicas: 0 });
    const fresh = fakeReplicaSet('web-new', { replicas: 3 });
    expect(planOldReplicaSets(d, [old, fresh], [old], fresh)).toEqual([]);
  });
});

describe('Recreate', () => {
  const old = fakeReplicaSet('web-old', { replicas: 3 });
  const idle = fakeReplicaSet('web-older', { replicas: 0, createdAt: -10 });
  const fresh = fakeReplicaSet('web-new', { replicas: 0, createdAt: 10 });
  const pod = (owner: KubeObject, phase: string): KubeObject => ({
    kind: 'Pod', metadata: { name: 'p', ownerReferences: [{ kind: 'ReplicaSet', uid: (owner.metadata as { uid: string }).uid, controller: true }] }, status: { phase },
  });

  it('scales every active old ReplicaSet to 0 at once', () => {
    expect(sizes(planRecreateScaleDown([old, idle]))).toEqual(['web-old 3->0']);
  });

  it('waits while an old ReplicaSet counts pods or an old pod is not terminal, including terminating ones', () => {
    const drained = fakeReplicaSet('web-old', { replicas: 0 });
    expect(oldPodsRunning(fresh, [old], [])).toBe(true);
    expect(oldPodsRunning(fresh, [drained], [pod(drained, 'Running')])).toBe(true);
    expect(oldPodsRunning(fresh, [drained], [pod(drained, 'Succeeded'), pod(drained, 'Failed')])).toBe(false);
    expect(oldPodsRunning(fresh, [drained], [pod(fresh, 'Running')])).toBe(false);
  });
});

describe('proportional scaling (sync.go scale)', () => {
  // Mid-rollout of a Deployment of 10 with 25% surge: 8 old + 5 new = 13 = 10 + 3.
  const old = fakeReplicaSet('web-old', { replicas: 8, createdAt: 0, desired: 10, max: 13 });
  const fresh = fakeReplicaSet('web-new', { replicas: 5, createdAt: 10, desired: 10, max: 13 });

  it('spreads a scale-up over the active ReplicaSets by size', () => {
    const d = fakeDeployment({ replicas: 20 }); // allowed 20 + 5
    expect(sizes(planScale(d, fresh, [old]))).toEqual(['web-old 8->15', 'web-new 5->10']);
  });

  it('spreads a scale-down the same way', () => {
    const d = fakeDeployment({ replicas: 5 }); // allowed 5 + 2
    expect(sizes(planScale(d, fresh, [old]))).toEqual(['web-old 8->4', 'web-new 5->3']);
  });

  it('scales everything to 0 with the Deployment', () => {
    expect(sizes(planScale(fakeDeployment({ replicas: 0 }), fresh, [old]))).toEqual(['web-old 8->0', 'web-new 5->0']);
  });

  it('gives the whole count to the only active ReplicaSet, or the newest when none is active', () => {
    const idle = fakeReplicaSet('web-old', { replicas: 0 });
    expect(sizes(planScale(fakeDeployment({ replicas: 6 }), fresh, [idle]))).toEqual(['web-new 5->6']);
    const idleNew = fakeReplicaSet('web-new', { replicas: 0, createdAt: 10 });
    expect(findActiveOrLatest(idleNew, [idle])).toBe(idleNew);
    expect(findActiveOrLatest(undefined, [idle, fakeReplicaSet('web-newest', { replicas: 0, createdAt: 30 })])?.metadata).toMatchObject({ name: 'web-newest' });
  });

  it('scales old ReplicaSets to 0 when the new one is saturated', () => {
    const saturated = fakeReplicaSet('web-new', { replicas: 5, desired: 5 });
    expect(sizes(planScale(fakeDeployment({ replicas: 5 }), saturated, [fakeReplicaSet('web-old', { replicas: 2 })]))).toEqual(['web-old 2->0']);
  });

  it('is a scaling event only when an active ReplicaSet was sized for another count', () => {
    expect(isScalingEvent(fakeDeployment({ replicas: 20 }), [old, fresh])).toBe(true);
    expect(isScalingEvent(fakeDeployment({ replicas: 10 }), [old, fresh])).toBe(false);
    expect(isScalingEvent(fakeDeployment({ replicas: 10 }), [fakeReplicaSet('web-x', { replicas: 0, desired: 4 })])).toBe(false);
  });
});
