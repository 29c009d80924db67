/** Reconcile decisions: desired pod (API) × actual pod (runtime) → steps. */
import { describe, expect, it } from '@jest/globals';
import { decidePodSteps } from './reconciler.js';
import type { V1Pod } from './runtime/pod-types.js';

const NODE = 'node-1';

function pod(uid: string, extra: { nodeName?: string; deletion?: number; phase?: string; image?: string } = {}): V1Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'web', namespace: 'default', uid,
      ...(extra.deletion !== undefined ? { deletionTimestamp: '2026-01-01T00:00:30Z', deletionGracePeriodSeconds: extra.deletion } : {}),
    },
    spec: { nodeName: extra.nodeName ?? NODE, containers: [{ name: 'c', image: extra.image ?? 'busybox' }] },
    ...(extra.phase ? { status: { phase: extra.phase } } : {}),
  } as V1Pod;
}

const actions = (steps: ReturnType<typeof decidePodSteps>) => steps.map((s) => s.action);

describe('decidePodSteps', () => {
  it('does nothing when neither side has the pod', () => {
    expect(decidePodSteps(NODE, undefined, undefined)).toEqual([]);
  });

  it('creates a pod bound here that the runtime lacks', () => {
    const desired = pod('u1');
    const steps = decidePodSteps(NODE, desired, undefined);
    expect(steps).toEqual([{ action: 'create', pod: desired }]);
  });

  it('ignores a pod bound to another node, and stops it if the runtime has it', () => {
    expect(decidePodSteps(NODE, pod('u1', { nodeName: 'node-2' }), undefined)).toEqual([]);
    const actual = pod('u1');
    expect(decidePodSteps(NODE, pod('u1', { nodeName: 'node-2' }), actual)).toEqual([{ action: 'stop', pod: actual }]);
  });

  it('stops what the runtime runs when the pod is gone from the API', () => {
    const actual = pod('u1');
    const steps = decidePodSteps(NODE, undefined, actual);
    expect(steps).toEqual([{ action: 'stop', pod: actual }]);
  });

  it('changes nothing when the spec is what the runtime already runs (a status-only change)', () => {
    expect(decidePodSteps(NODE, { ...pod('u1'), status: { phase: 'Running' } }, pod('u1'))).toEqual([]);
  });

  it('updates when the spec changed', () => {
    const desired = pod('u1', { image: 'busybox:2' });
    expect(decidePodSteps(NODE, desired, pod('u1'))).toEqual([{ action: 'update', pod: desired }]);
  });

  it('terminates with the deletion grace period, then confirms the delete', () => {
    const desired = pod('u1', { deletion: 7 });
    const actual = pod('u1');
    const steps = decidePodSteps(NODE, desired, actual);
    expect(steps).toEqual([{ action: 'stop', pod: actual, gracePeriodSeconds: 7 }, { action: 'confirmDelete', pod: desired }]);
  });

  it('confirms the delete of a terminating pod the runtime never ran (deletePod of an unknown pod is a no-op)', () => {
    const desired = pod('u1', { deletion: 30 });
    expect(actions(decidePodSteps(NODE, desired, undefined))).toEqual(['stop', 'confirmDelete']);
  });

  it('replaces a pod recreated under the same name: the old uid stops at once, the new one starts', () => {
    const old = pod('u1');
    const desired = pod('u2');
    expect(decidePodSteps(NODE, desired, old)).toEqual([{ action: 'stop', pod: old, gracePeriodSeconds: 0 }, { action: 'create', pod: desired }]);
  });

  it('does not restart a finished pod whose containers are gone', () => {
    expect(decidePodSteps(NODE, pod('u1', { phase: 'Succeeded' }), undefined)).toEqual([]);
    expect(decidePodSteps(NODE, pod('u1', { phase: 'Failed' }), undefined)).toEqual([]);
    expect(actions(decidePodSteps(NODE, pod('u1', { phase: 'Running' }), undefined))).toEqual(['create']);
  });

  it('is the same decision however often it is asked (duplicates are harmless)', () => {
    const desired = pod('u1');
    const first = decidePodSteps(NODE, desired, undefined);
    // After the create, the runtime runs `desired`: asking again yields nothing to do.
    expect(first).toEqual([{ action: 'create', pod: desired }]);
    expect(decidePodSteps(NODE, desired, desired)).toEqual([]);
  });
});
