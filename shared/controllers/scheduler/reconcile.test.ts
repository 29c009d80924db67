import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { testNode, testPod } from '../../scheduler/testing.js';
import type { KubeObject } from '../../api/objects.js';
import { reconcileScheduling, runSchedulingPass, UNSCHEDULABLE_RETRY_MS } from './reconcile.js';
import { schedulerController } from './index.js';
import { SCHEDULER_KEY } from './keys.js';

const PODS = '/api/v1/namespaces/default/pods';
const NODES = '/api/v1/nodes';
let f: ControllerFixture;
beforeEach(async () => { f = await startControllerFixture(); });
afterEach(async () => { await f.close(); });

/** apiPod strips what the server assigns (uid, timestamps) from a test pod. */
function apiPod(name: string, o: Parameters<typeof testPod>[1] = {}): KubeObject {
  const pod = testPod(name, o) as { metadata: Record<string, unknown>; status?: unknown };
  delete pod.metadata.uid;
  delete pod.metadata.creationTimestamp;
  delete pod.status;
  return pod;
}

/** seedNodes creates nodes with their status (Ready, allocatable) through the status subresource. */
async function seedNodes(...nodes: KubeObject[]): Promise<void> {
  for (const node of nodes) {
    const [created] = await f.seed([NODES, node]);
    const res = await f.harness.json('PUT', `${NODES}/${created.metadata.name}/status`, { ...created, status: node.status });
    if (res.status !== 200) throw new Error(`node status: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

const podOf = (name: string) => f.get(`${PODS}/${name}`);
const events = async () => (await f.get('/api/v1/namespaces/default/events')).items as any[];

describe('scheduling reconcile', () => {
  it('binds pending pods across the nodes and records Scheduled events', async () => {
    await seedNodes(testNode('node-1'), testNode('node-2'), testNode('node-3'));
    await f.seed(...Array.from({ length: 6 }, (_, i): [string, KubeObject] => [PODS, apiPod(`web-${i}`, { cpu: '100m' })]));
    f.takeWrites();
    expect(await reconcileScheduling(SCHEDULER_KEY, f.ctx)).toBeUndefined();
    const writes = f.takeWrites();
    expect(writes.filter((w) => w.endsWith('/binding'))).toHaveLength(6);
    expect(writes.filter((w) => w === 'POST /api/v1/namespaces/default/events')).toHaveLength(6);
    const nodes = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await podOf(`web-${i}`)).spec.nodeName));
    expect(new Set(nodes)).toEqual(new Set(['node-1', 'node-2', 'node-3']));
    const web0 = await podOf('web-0');
    expect(web0.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]));
    const scheduled = (await events()).find((e) => e.involvedObject.name === 'web-0');
    expect(scheduled).toMatchObject({ reason: 'Scheduled', type: 'Normal', message: `Successfully assigned default/web-0 to ${web0.spec.nodeName}`, source: { component: 'default-scheduler' } });

    // Nothing pending: the next pass only lists and writes nothing.
    expect(await runSchedulingPass(f.ctx)).toEqual({ pending: 0, bound: 0, skipped: 0, unschedulable: 0 });
    expect(f.takeWrites()).toEqual([]);
  });

  it('marks a pod that fits nowhere Unschedulable with the message, and counts repeated FailedScheduling events', async () => {
    await seedNodes(testNode('node-1', { cpu: '1' }), testNode('node-2', { cpu: '1', unschedulable: true }));
    await f.seed([PODS, apiPod('huge', { cpu: '4' })]);
    f.takeWrites();
    expect(await reconcileScheduling(SCHEDULER_KEY, f.ctx)).toEqual({ requeueAfterMs: UNSCHEDULABLE_RETRY_MS });
    expect(f.takeWrites()).toEqual([`PATCH ${PODS}/huge/status`, 'POST /api/v1/namespaces/default/events']);
    const message = '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.';
    const pod = await podOf('huge');
    expect(pod.spec.nodeName).toBeUndefined();
    expect(pod.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message })]);

    // Same verdict again: no status write, the event counts up.
    await reconcileScheduling(SCHEDULER_KEY, f.ctx);
    expect(f.takeWrites()).toEqual([expect.stringMatching(/^PATCH \/api\/v1\/namespaces\/default\/events\//)]);
    const [ev] = await events();
    expect(ev).toMatchObject({ reason: 'FailedScheduling', type: 'Warning', message, count: 2 });

    // A node with room arrives: the pod is bound.
    await seedNodes(testNode('node-3', { cpu: '8' }));
    expect(await reconcileScheduling(SCHEDULER_KEY, f.ctx)).toBeUndefined();
    expect((await podOf('huge')).spec.nodeName).toBe('node-3');
  });

  it('never overcommits a node across one pass, counting pods already bound', async () => {
    await seedNodes(testNode('small', { cpu: '1', memory: '1Gi' }));
    await f.seed([PODS, apiPod('old', { cpu: '600m', nodeName: 'small' })]);
    await f.seed(...Array.from({ length: 5 }, (_, i): [string, KubeObject] => [PODS, apiPod(`p${i}`, { cpu: '100m' })]));
    const pass = await runSchedulingPass(f.ctx);
    expect(pass).toEqual({ pending: 5, bound: 4, skipped: 0, unschedulable: 1 });
  });

  it('skips pods bound meanwhile, pods of other schedulers, and terminating pods', async () => {
    await seedNodes(testNode('node-1'));
    await f.seed([PODS, apiPod('other', { spec: { schedulerName: 'my-scheduler' } })], [PODS, apiPod('held', { })]);
    await f.seed([PODS, { ...apiPod('doomed'), metadata: { name: 'doomed', finalizers: ['example.com/hold'] } }]);
    await f.harness.json('DELETE', `${PODS}/doomed`);
    f.takeWrites();
    const pass = await runSchedulingPass(f.ctx);
    expect(pass).toMatchObject({ pending: 1, bound: 1 });
    expect((await podOf('other')).spec.nodeName).toBeUndefined();
    expect((await podOf('doomed')).spec.nodeName).toBeUndefined();
  });

  it('treats a lost binding race (409) as done', async () => {
    await seedNodes(testNode('node-1'));
    await f.seed([PODS, apiPod('raced')]);
    // Someone binds the pod between our list and our binding: intercept the binding call.
    const original = f.ctx.client;
    const racing = Object.create(original) as typeof original;
    racing.create = async (r, obj, opts) => {
      if (opts?.subresource === 'binding') {
        await original.create(r, { ...obj, target: { kind: 'Node', name: 'node-1' } }, opts);
      }
      return original.create(r, obj, opts);
    };
    const pass = await runSchedulingPass({ ...f.ctx, client: racing });
    expect(pass).toMatchObject({ pending: 1, bound: 0, skipped: 1 });
  });

  it("resync asks for a pass only when pods are pending", async () => {
    expect(await schedulerController.resync(f.ctx)).toEqual([]);
    await f.seed([PODS, apiPod('waiting')]);
    expect(await schedulerController.resync(f.ctx)).toEqual([SCHEDULER_KEY]);
  });
});
