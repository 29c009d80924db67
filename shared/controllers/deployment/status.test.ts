import { describe, expect, it } from '@jest/globals';
import { equalIgnoreHash, podTemplateHash } from './hash.js';
import { newReplicaSetFor, replicaSetsToClean, setNewReplicaSetAnnotations } from './history.js';
import { applyRollback, AUTO_ROLLBACK_ANNOTATION, decideAutoRollback, LAST_AVAILABLE_ANNOTATION } from './rollback.js';
import {
  calculateStatus, deadlineCheckInMs, getCondition, pausedCondition, rolloutStatus, type Condition, type DeploymentStatus,
} from './status.js';
import { fakeDeployment, fakeReplicaSet } from './testing.js';

const NOW = new Date('2026-05-01T10:10:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace('.000Z', 'Z');
const progressing = (reason: string, status: Condition['status'], updatedAgo: number, transitionAgo = updatedAgo): Condition => ({
  type: 'Progressing', status, reason, message: 'm', lastUpdateTime: ago(updatedAgo), lastTransitionTime: ago(transitionAgo),
});

describe('status (calculateStatus)', () => {
  it('sums the ReplicaSets, counts updated replicas of the new one, and sets Available', () => {
    const d = fakeDeployment({ replicas: 3, maxSurge: 1, maxUnavailable: 0, generation: 4 });
    const old = fakeReplicaSet('web-old', { replicas: 2 });
    const fresh = fakeReplicaSet('web-new', { replicas: 2, current: 1 });
    const s = calculateStatus(d, [old, fresh], fresh, NOW);
    expect(s).toMatchObject({ observedGeneration: 4, replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 1 });
    expect(getCondition(s, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
    const short = calculateStatus(d, [fakeReplicaSet('web-old', { replicas: 3, ready: 2 })], undefined, NOW);
    expect(getCondition(short, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });
});

describe('Progressing (syncRolloutStatus)', () => {
  const stored = (conditions: Condition[], extra: Partial<DeploymentStatus> = {}) => ({ replicas: 3, updatedReplicas: 0, readyReplicas: 3, availableReplicas: 3, conditions, ...extra });
  const old = fakeReplicaSet('web-old', { replicas: 3 });

  it('moves lastUpdateTime (not lastTransitionTime) on progress', () => {
    const d = fakeDeployment({ status: stored([progressing('NewReplicaSetCreated', 'True', 30, 30)]) });
    const fresh = fakeReplicaSet('web-new', { replicas: 1, ready: 0 });
    const c = getCondition(rolloutStatus(d, [old, fresh], fresh, NOW), 'Progressing');
    expect(c).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "web-new" is progressing.', lastUpdateTime: ago(0), lastTransitionTime: ago(30) });
  });

  it('says NewReplicaSetAvailable once every replica is updated and available', () => {
    const d = fakeDeployment({ status: stored([progressing('ReplicaSetUpdated', 'True', 5)], { updatedReplicas: 3 }) });
    const done = fakeReplicaSet('web-new', { replicas: 3 });
    const c = getCondition(rolloutStatus(d, [fakeReplicaSet('web-old', { replicas: 0 }), done], done, NOW), 'Progressing');
    expect(c).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "web-new" has successfully progressed.' });
  });

  it('times out after progressDeadlineSeconds without progress, and asks to look again before that', () => {
    const stuck = fakeReplicaSet('web-new', { replicas: 1, ready: 0 });
    const at = (seconds: number) => fakeDeployment({ progressDeadlineSeconds: 600, status: stored([progressing('ReplicaSetUpdated', 'True', seconds)], { replicas: 4, updatedReplicas: 1 }) });
    const early = rolloutStatus(at(599), [old, stuck], stuck, NOW);
    expect(getCondition(early, 'Progressing')).toMatchObject({ reason: 'ReplicaSetUpdated' });
    expect(deadlineCheckInMs(at(599), early, NOW)).toBe(1050);
    const late = rolloutStatus(at(601), [old, stuck], stuck, NOW);
    expect(getCondition(late, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-new" has timed out progressing.' });
    expect(deadlineCheckInMs(at(601), late, NOW)).toBeUndefined();
  });

  it('leaves a completed rollout alone and drops Progressing without a deadline', () => {
    const done = fakeReplicaSet('web-new', { replicas: 3 });
    const d = fakeDeployment({ status: stored([progressing('NewReplicaSetAvailable', 'True', 9000)], { updatedReplicas: 3 }) });
    expect(getCondition(rolloutStatus(d, [done], done, NOW), 'Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable', lastUpdateTime: ago(9000) });
    const noDeadline = fakeDeployment({ progressDeadlineSeconds: 2147483647, status: stored([progressing('ReplicaSetUpdated', 'True', 1)]) });
    expect(getCondition(rolloutStatus(noDeadline, [done], done, NOW), 'Progressing')).toBeUndefined();
  });

  it('carries a ReplicaSet ReplicaFailure over, the new ReplicaSet first', () => {
    const failing = { ...fakeReplicaSet('web-new', { replicas: 1, current: 0 }), status: { replicas: 0, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: ago(3) }] } };
    const s = rolloutStatus(fakeDeployment({ status: stored([]) }), [old, failing], failing, NOW);
    expect(getCondition(s, 'ReplicaFailure')).toMatchObject({ status: 'True', reason: 'FailedCreate', message: 'quota' });
  });

  it('reports pause and resume as Unknown, but never over a timeout', () => {
    expect(pausedCondition(fakeDeployment({ status: stored([]) }), true, NOW)).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    const paused = fakeDeployment({ status: stored([progressing('DeploymentPaused', 'Unknown', 5)]) });
    expect(pausedCondition(paused, true, NOW)).toBeUndefined();
    expect(pausedCondition(paused, false, NOW)).toMatchObject({ reason: 'DeploymentResumed', message: 'Deployment is resumed' });
    expect(pausedCondition(fakeDeployment({ status: stored([progressing('ProgressDeadlineExceeded', 'False', 5)]) }), true, NOW)).toBeUndefined();
  });
});

describe('revisions and history', () => {
  it('hashes a template stably whatever the key order, and differently for another template or collision count', () => {
    const a = { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [{ name: 'web', image: 'v1' }] } };
    const b = { spec: { containers: [{ image: 'v1', name: 'web' }] }, metadata: { labels: { tier: 'x', app: 'web' } } };
    expect(podTemplateHash(a)).toBe(podTemplateHash(b));
    expect(podTemplateHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(podTemplateHash({ ...a, spec: { containers: [{ name: 'web', image: 'v2' }] } })).not.toBe(podTemplateHash(a));
    expect(podTemplateHash(a, 1)).not.toBe(podTemplateHash(a));
    expect(equalIgnoreHash({ metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } } }, { metadata: { labels: { app: 'web' } } })).toBe(true);
  });

  it('builds the new ReplicaSet named by the hash, labelled, owned and annotated', () => {
    const d = fakeDeployment({ replicas: 4, annotations: { 'kubernetes.io/change-cause': 'v2', 'kubectl.kubernetes.io/last-applied-configuration': '{}', [LAST_AVAILABLE_ANNOTATION]: 'x' } });
    const rs = newReplicaSetFor(d, 1, 3) as any;
    const hash = podTemplateHash((d.spec as any).template);
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.spec.template.metadata.labels['pod-template-hash']).toBe(hash);
    expect(rs.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }]);
    expect(rs.metadata.annotations).toEqual({
      'kubernetes.io/change-cause': 'v2', 'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/desired-replicas': '4', 'deployment.kubernetes.io/max-replicas': '5',
    });
  });

  it('keeps the revisions a ReplicaSet had when it becomes new again (a rollback)', () => {
    const d = fakeDeployment();
    const annotations: Record<string, string> = { 'deployment.kubernetes.io/revision': '2' };
    expect(setNewReplicaSetAnnotations(d, annotations, 5, true)).toBe(true);
    expect(setNewReplicaSetAnnotations(d, annotations, 7, true)).toBe(true);
    expect(annotations).toEqual({ 'deployment.kubernetes.io/revision': '7', 'deployment.kubernetes.io/revision-history': '2,5' });
    expect(setNewReplicaSetAnnotations(d, annotations, 4, true)).toBe(false);
  });

  it('cleans the oldest empty revisions beyond revisionHistoryLimit', () => {
    const d = fakeDeployment({ revisionHistoryLimit: 1 });
    const r1 = fakeReplicaSet('web-1', { replicas: 0, revision: 1 });
    const r2 = fakeReplicaSet('web-2', { replicas: 0, revision: 2 });
    const r3 = fakeReplicaSet('web-3', { replicas: 0, revision: 3 });
    const busy = fakeReplicaSet('web-0', { replicas: 1, revision: 0 });
    expect(replicaSetsToClean(d, [r3, r1, r2]).map((rs: any) => rs.metadata.name)).toEqual(['web-1', 'web-2']);
    expect(replicaSetsToClean(d, [r3, busy]).map((rs: any) => rs.metadata.name)).toEqual([]);
    const lagging = fakeReplicaSet('web-1', { replicas: 0, revision: 1, generation: 3, observedGeneration: 2 });
    expect(replicaSetsToClean(d, [lagging, r3])).toEqual([]);
  });
});

describe('automatic rollback', () => {
  const timedOut = { conditions: [progressing('ProgressDeadlineExceeded', 'False', 0)] };
  const good = fakeReplicaSet('web-good', { replicas: 3, revision: 1, image: 'v1', annotations: { 'kubernetes.io/change-cause': 'first' } });
  const bad = fakeReplicaSet('web-bad', { replicas: 1, ready: 0, revision: 2, image: 'nope' });
  const annotated = (extra: Record<string, string> = {}) => fakeDeployment({ annotations: { [AUTO_ROLLBACK_ANNOTATION]: 'true', [LAST_AVAILABLE_ANNOTATION]: 'web-good', ...extra } });

  it('rolls a timed-out rollout back to the last fully available ReplicaSet, saying why', () => {
    const r = decideAutoRollback(annotated(), timedOut, bad, [good])!;
    expect(r).toMatchObject({ fromRevision: 2, toRevision: 1, reason: 'm' });
    expect(r.message).toBe('Rolled back from revision 2 to revision 1 (replica set web-good): m');
    const copy: Record<string, unknown> = structuredClone({ ...annotated(), spec: { ...(annotated().spec as object), template: (bad.spec as any).template } });
    expect(applyRollback(copy, r, 'd-uid')).toBe(true);
    expect((copy.spec as any).template.spec.containers[0].image).toBe('v1');
    expect((copy.metadata as any).annotations).toMatchObject({
      'kubernetes.io/change-cause': 'first', 'coracle.io/rolled-back-from': '2', 'coracle.io/rolled-back-to': '1', 'coracle.io/rollback-reason': 'm',
    });
    expect(applyRollback(structuredClone(annotated()), r, 'other-uid')).toBe(false);
  });

  it('does nothing without the annotation, before the deadline, when paused, or away from the last available ReplicaSet (no loop)', () => {
    expect(decideAutoRollback(fakeDeployment({ annotations: { [LAST_AVAILABLE_ANNOTATION]: 'web-good' } }), timedOut, bad, [good])).toBeUndefined();
    expect(decideAutoRollback(annotated(), { conditions: [progressing('ReplicaSetUpdated', 'True', 0)] }, bad, [good])).toBeUndefined();
    expect(decideAutoRollback({ ...annotated(), spec: { ...(annotated().spec as object), paused: true } }, timedOut, bad, [good])).toBeUndefined();
    expect(decideAutoRollback(annotated({ [LAST_AVAILABLE_ANNOTATION]: 'web-bad' }), timedOut, bad, [good])).toBeUndefined();
    expect(decideAutoRollback(annotated({ [LAST_AVAILABLE_ANNOTATION]: 'web-gone' }), timedOut, bad, [good])).toBeUndefined();
  });
});
