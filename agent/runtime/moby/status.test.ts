import { describe, expect, it } from '@jest/globals';
import type { Instance } from './containers.js';
import { containerStatus, newMemo, terminatedState } from './status.js';

const spec = { name: 'app', image: 'coracle/web:v1' };
function instance(restart: number, state: Partial<Instance> = {}): Instance {
  return {
    id: `id${restart}`, role: 'app', container: 'app', restart, specImage: spec.image, imageID: 'sha256:abc',
    running: false, created: false, exitCode: 0, oomKilled: false, startedMs: 0, finishedMs: 0,
    startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:05Z', ...state,
  };
}

describe('containerStatus', () => {
  it('waits in ContainerCreating, or PodInitializing behind init containers, before the first instance', () => {
    expect(containerStatus(spec, [], newMemo(), false).state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(containerStatus(spec, [], newMemo(), true).state).toEqual({ waiting: { reason: 'PodInitializing' } });
    const memo = { ...newMemo(), waiting: { reason: 'ErrImagePull', message: 'no registry' } };
    expect(containerStatus(spec, [], memo, false)).toMatchObject({ state: { waiting: { reason: 'ErrImagePull' } }, imageID: '', restartCount: 0 });
  });
  it('is running and ready without probes, with the previous instance as lastState', () => {
    const status = containerStatus(spec, [instance(2, { running: true, finishedAt: undefined }), instance(1, { exitCode: 1 })], newMemo(), false);
    expect(status).toMatchObject({
      ready: true, started: true, restartCount: 2, containerID: 'docker://id2', imageID: 'docker://sha256:abc',
      state: { running: { startedAt: '2026-01-01T00:00:00Z' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'docker://id1' } },
    });
  });
  it('is not ready while its readiness probe has not passed for this instance', () => {
    const withProbe = { ...spec, readinessProbe: { tcpSocket: { port: 8080 } } };
    const running = instance(0, { running: true });
    expect(containerStatus(withProbe, [running], newMemo(), false).ready).toBe(false);
    expect(containerStatus(withProbe, [running], { ...newMemo(), probeInstance: 'id0', started: true, ready: true }, false).ready).toBe(true);
    expect(containerStatus(withProbe, [running], { ...newMemo(), probeInstance: 'old', started: true, ready: true }, false).ready).toBe(false);
  });
  it('shows CrashLoopBackOff over the exited instance, which becomes lastState', () => {
    const memo = { ...newMemo(), waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } };
    const status = containerStatus(spec, [instance(3, { exitCode: 2 })], memo, false);
    expect(status.state).toEqual({ waiting: memo.waiting });
    expect(status.lastState?.terminated?.exitCode).toBe(2);
    expect(status.restartCount).toBe(3);
  });
  it('stays terminated when it will not restart', () => {
    const status = containerStatus(spec, [instance(0, { exitCode: 137, oomKilled: true })], newMemo(), false);
    expect(status.state?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-01-01T00:00:05Z' });
    expect(status.lastState).toEqual({});
  });
  it('omits times Docker never set', () => {
    expect(terminatedState(instance(0, { startedAt: undefined, finishedAt: undefined })).terminated).toEqual({ exitCode: 0, reason: 'Completed', containerID: 'docker://id0' });
  });
});
