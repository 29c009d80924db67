import { describe, expect, it } from '@jest/globals';
import type { V1ContainerStatus, V1Pod } from './pod-types.js';
import { assemblePodStatus, podConditions, podPhase, pullRetryDelayMs, restartDelayMs, shouldRestart, terminatedReason } from './podstatus.js';

const NOW = '2026-01-01T00:00:00Z';

function pod(restartPolicy?: 'Always' | 'OnFailure' | 'Never', init: string[] = [], containers = ['app']): V1Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { restartPolicy, initContainers: init.map((name) => ({ name, image: 'i' })), containers: containers.map((name) => ({ name, image: 'i' })) },
  };
}
const running = (name: string, ready = true): V1ContainerStatus => ({ name, image: 'i', imageID: '', ready, restartCount: 0, state: { running: { startedAt: NOW } } });
const exited = (name: string, exitCode: number): V1ContainerStatus => ({ name, image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode } } });
const waiting = (name: string, reason: string, lastExit?: number): V1ContainerStatus => ({
  name, image: 'i', imageID: '', ready: false, restartCount: lastExit === undefined ? 0 : 1, state: { waiting: { reason } },
  ...(lastExit === undefined ? {} : { lastState: { terminated: { exitCode: lastExit } } }),
});

describe('podPhase', () => {
  it('is Pending while a container waits for its first start', () => {
    expect(podPhase(pod(), [], [waiting('app', 'ContainerCreating')])).toBe('Pending');
    expect(podPhase(pod(), [], [])).toBe('Pending');
  });
  it('is Running with a running container, and in CrashLoopBackOff after a previous run', () => {
    expect(podPhase(pod(), [], [running('app')])).toBe('Running');
    expect(podPhase(pod('Always'), [], [waiting('app', 'CrashLoopBackOff', 1)])).toBe('Running');
  });
  it('ends Succeeded or Failed by restart policy', () => {
    expect(podPhase(pod('Never'), [], [exited('app', 0)])).toBe('Succeeded');
    expect(podPhase(pod('OnFailure'), [], [exited('app', 0)])).toBe('Succeeded');
    expect(podPhase(pod('Never'), [], [exited('app', 2)])).toBe('Failed');
    expect(podPhase(pod('OnFailure'), [], [exited('app', 2)])).toBe('Running');
    expect(podPhase(pod('Always'), [], [exited('app', 0)])).toBe('Running');
  });
  it('is Failed when one of two containers failed under Never', () => {
    expect(podPhase(pod('Never', [], ['a', 'b']), [], [exited('a', 0), exited('b', 1)])).toBe('Failed');
  });
  it('is Pending until init containers complete; Failed when one fails under Never', () => {
    const p = pod('Always', ['i1', 'i2']);
    expect(podPhase(p, [exited('i1', 0), running('i2')], [waiting('app', 'PodInitializing')])).toBe('Pending');
    expect(podPhase(p, [exited('i1', 0), exited('i2', 0)], [running('app')])).toBe('Running');
    expect(podPhase(p, [exited('i1', 1)], [])).toBe('Pending');
    expect(podPhase(pod('Never', ['i1']), [exited('i1', 1)], [])).toBe('Failed');
  });
});

describe('podConditions', () => {
  it('reports unready and uninitialized containers by name', () => {
    const p = pod('Always', ['i1'], ['a', 'b']);
    const conds = podConditions(p, 'Pending', [running('i1')], [running('a'), waiting('b', 'PodInitializing')], NOW);
    expect(conds.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Initialized', 'False', 'ContainersNotInitialized'], ['Ready', 'False', 'ContainersNotReady'],
      ['ContainersReady', 'False', 'ContainersNotReady'], ['PodScheduled', 'True', undefined],
    ]);
    expect(conds[0].message).toBe('containers with incomplete status: [i1]');
    expect(conds[1].message).toBe('containers with unready status: [b]');
  });
  it('is Ready when every container is ready, and keeps transition times while status holds', () => {
    const p = pod();
    const first = podConditions(p, 'Running', [], [running('app', false)], NOW);
    const second = podConditions(p, 'Running', [], [running('app', true)], '2026-01-01T00:00:05Z', first);
    expect(second.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: '2026-01-01T00:00:05Z' });
    expect(second.find((c) => c.type === 'PodScheduled')?.lastTransitionTime).toBe(NOW);
  });
  it('says PodCompleted once the pod is done', () => {
    const conds = podConditions(pod('Never'), 'Succeeded', [], [exited('app', 0)], NOW);
    expect(conds.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });
});

describe('back-off and restarts', () => {
  const policy = { baseMs: 10_000, maxMs: 300_000 };
  it('restarts immediately once, then doubles from the base up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => restartDelayMs(n, policy))).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });
  it('forgets the back-off after a long healthy run', () => {
    expect(restartDelayMs(5, policy, 600_001)).toBe(0);
    expect(restartDelayMs(5, policy, 599_999)).toBe(160_000);
  });
  it('waits base after the first failed pull', () => {
    expect([1, 2, 3, 10].map((n) => pullRetryDelayMs(n, policy))).toEqual([10_000, 20_000, 40_000, 300_000]);
  });
  it('follows the restart policy', () => {
    expect(shouldRestart('Always', 0)).toBe(true);
    expect(shouldRestart('OnFailure', 0)).toBe(false);
    expect(shouldRestart('OnFailure', 1)).toBe(true);
    expect(shouldRestart('Never', 1)).toBe(false);
    expect(shouldRestart('Always', 0, true)).toBe(false);
    expect(shouldRestart('Always', 1, true)).toBe(true);
    expect(shouldRestart('Never', 1, true)).toBe(false);
  });
  it('names terminated states as the kubelet does', () => {
    expect(terminatedReason(0, false)).toBe('Completed');
    expect(terminatedReason(137, false)).toBe('Error');
    expect(terminatedReason(137, true)).toBe('OOMKilled');
  });
});

describe('assemblePodStatus', () => {
  it('carries IPs, start time and both status lists', () => {
    const status = assemblePodStatus({
      pod: pod('Always', ['i1']), initContainerStatuses: [exited('i1', 0)], containerStatuses: [running('app')],
      podIP: '10.0.0.5', hostIP: '192.168.1.2', startTime: NOW, now: NOW,
    });
    expect(status).toMatchObject({ phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], hostIP: '192.168.1.2', startTime: NOW });
    expect(status.initContainerStatuses?.map((s) => s.name)).toEqual(['i1']);
    expect(status.conditions?.every((c) => c.status === 'True')).toBe(true);
  });
});
