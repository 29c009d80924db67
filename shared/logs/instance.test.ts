import { describe, expect, it } from '@jest/globals';
import { isApiError } from '../api/status.js';
import { chooseContainer, instanceEnded, logInstance } from './instance.js';

const podWith = (status: Record<string, unknown> | undefined, containers = ['c'], inits: string[] = []) => ({
  metadata: { name: 'p', uid: 'u1' },
  spec: { containers: containers.map((name) => ({ name })), initContainers: inits.map((name) => ({ name })) },
  ...(status ? { status: { containerStatuses: [{ name: 'c', ...status }] } } : {}),
});

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isApiError(err)) return `${err.code} ${err.message}`;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('chooseContainer', () => {
  it('defaults to the only container and accepts a named init container', () => {
    expect(chooseContainer(podWith(undefined), 'p', undefined)).toBe('c');
    expect(chooseContainer(podWith(undefined, ['a', 'b'], ['setup']), 'p', 'setup')).toBe('setup');
  });
  it('words the missing and unknown container errors as kube-apiserver does', () => {
    expect(message(() => chooseContainer(podWith(undefined, ['a', 'b'], ['i']), 'p', undefined)))
      .toBe('400 a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]');
    expect(message(() => chooseContainer(podWith(undefined), 'p', 'x'))).toBe('400 container x is not valid for pod p');
  });
});

describe('logInstance', () => {
  const last = { lastState: { terminated: { exitCode: 1 } } };
  it('reads instance restartCount of a running or terminated container, live only while running', () => {
    expect(logInstance(podWith({ restartCount: 3, state: { running: {} } }), 'p', 'c', false)).toEqual({ container: 'c', restart: 3, live: true });
    expect(logInstance(podWith({ restartCount: 3, state: { terminated: {} } }), 'p', 'c', false)).toEqual({ container: 'c', restart: 3, live: false });
  });
  it('previous is the instance before a running one, and the dead one while waiting to restart', () => {
    expect(logInstance(podWith({ restartCount: 3, state: { running: {} }, ...last }), 'p', 'c', true).restart).toBe(2);
    expect(logInstance(podWith({ restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, ...last }), 'p', 'c', true).restart).toBe(3);
  });
  it('refuses previous without a terminated instance, and a container that never started', () => {
    expect(message(() => logInstance(podWith({ restartCount: 0, state: { running: {} } }), 'p', 'c', true)))
      .toBe('400 previous terminated container "c" in pod "p" not found');
    expect(message(() => logInstance(podWith(undefined), 'p', 'c', true))).toMatch(/previous terminated container/);
    expect(message(() => logInstance(podWith({ restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }), 'p', 'c', false)))
      .toBe('400 container "c" in pod "p" is waiting to start: ContainerCreating');
  });
  it('reads instance 0, live, for a container with no status yet', () => {
    expect(logInstance(podWith(undefined), 'p', 'c', false)).toEqual({ container: 'c', restart: 0, live: true });
  });
});

describe('instanceEnded', () => {
  const instance = { container: 'c', restart: 1, live: true };
  it('ends when the pod is gone or replaced, the container terminated or restarted', () => {
    expect(instanceEnded(undefined, 'u1', instance)).toBe(true);
    expect(instanceEnded(podWith({ restartCount: 1, state: { running: {} } }), 'other', instance)).toBe(true);
    expect(instanceEnded(podWith({ restartCount: 1, state: { terminated: {} } }), 'u1', instance)).toBe(true);
    expect(instanceEnded(podWith({ restartCount: 2, state: { running: {} } }), 'u1', instance)).toBe(true);
  });
  it('goes on while the instance runs or has no status', () => {
    expect(instanceEnded(podWith({ restartCount: 1, state: { running: {} } }), 'u1', instance)).toBe(false);
    expect(instanceEnded(podWith(undefined), 'u1', instance)).toBe(false);
  });
});
