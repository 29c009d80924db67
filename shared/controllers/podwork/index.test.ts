import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';
import type { ControllerContext } from '../controller.js';
import type { WorkQueue } from '../../workqueue/queue.js';
import { parsePodWorkKey, podWorkController, podWorkKey, podWorkMessages } from './index.js';

const pod = (nodeName?: string, name = 'web'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'default', name, uid: `uid-${name}` },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) },
});
const put = (value: KubeObject, prevValue?: KubeObject): Change => ({ key: 'k', type: 'put', value, prevValue, revision: 7 });
const body = { namespace: 'default', name: 'web', uid: 'uid-web' };

describe('podWorkMessages', () => {
  it('sends a created bound pod, or one whose spec changed, to its node', () => {
    expect(podWorkMessages(put(pod('node-a')))).toEqual([{ node: 'node-a', body }]);
    const updated = pod('node-a');
    (updated.spec as { containers: Array<{ image: string }> }).containers[0].image = 'busybox:2';
    expect(podWorkMessages(put(updated, pod('node-a')))).toEqual([{ node: 'node-a', body }]);
  });

  it('sends a pod being deleted (deletionTimestamp set) to its node', () => {
    const deleting = pod('node-a');
    Object.assign(deleting.metadata as object, { deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 });
    expect(podWorkMessages(put(deleting, pod('node-a')))).toEqual([{ node: 'node-a', body }]);
  });

  it('sends nothing for a status-only or metadata-only update (the agent\'s own writes)', () => {
    const reported: KubeObject = { ...pod('node-a'), status: { phase: 'Running' } };
    Object.assign(reported.metadata as object, { resourceVersion: '12', labels: { a: 'b' } });
    expect(podWorkMessages(put(reported, pod('node-a')))).toEqual([]);
  });

  it('sends every update when the source does not know the previous value', () => {
    expect(podWorkMessages(put({ ...pod('node-a'), status: { phase: 'Running' } }))).toEqual([{ node: 'node-a', body }]);
  });

  it('sends a pod to the node it was just bound to', () => {
    expect(podWorkMessages(put(pod('node-b'), pod()))).toEqual([{ node: 'node-b', body }]);
  });

  it('sends a deleted bound pod to its node', () => {
    expect(podWorkMessages({ key: 'k', type: 'delete', value: pod('node-a'), revision: 9 })).toEqual([{ node: 'node-a', body }]);
  });

  it('sends nothing for unbound pods and other kinds', () => {
    expect(podWorkMessages(put(pod()))).toEqual([]);
    expect(podWorkMessages({ key: 'k', type: 'delete', value: pod(), revision: 3 })).toEqual([]);
    const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', uid: 'u' }, spec: { nodeName: 'x' } };
    expect(podWorkMessages(put(node))).toEqual([]);
  });

  it('tells both nodes if a pod ever moved', () => {
    expect(podWorkMessages(put(pod('node-b'), pod('node-a'))).map((m) => m.node).sort()).toEqual(['node-a', 'node-b']);
  });
});

describe('podwork keys and reconcile', () => {
  it('round-trips a message through its key', () => {
    const [message] = podWorkMessages(put(pod('node-a')));
    expect(parsePodWorkKey(podWorkKey(message!))).toEqual(message);
    expect(parsePodWorkKey('not/a/key')).toBeUndefined();
  });

  it('reconcile sends the pod reference to the node queue, and a failed send throws for a retry', async () => {
    const sent: [string, Record<string, unknown>][] = [];
    let fail = false;
    const queue = {
      async send(q: string, b: Record<string, unknown>) {
        if (fail) throw new Error('queue down');
        sent.push([q, b]);
      },
    } as Partial<WorkQueue> as WorkQueue;
    const controller = podWorkController(async () => queue);
    const keys = controller.keysFor(put(pod('node-a')));
    const ctx = {} as ControllerContext;
    for (const key of keys) await controller.reconcile(key, ctx);
    expect(sent).toEqual([['node-a', body]]);
    fail = true;
    await expect(controller.reconcile(keys[0]!, ctx)).rejects.toThrow('queue down');
    expect(await controller.resync(ctx)).toEqual([]);
  });
});
