import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../test/support/controller-fixture.js';
import { EventRecorder, objectReference } from './events.js';

let f: ControllerFixture;
let clock: Date;
beforeEach(async () => {
  clock = new Date('2026-05-01T10:00:00Z');
  f = await startControllerFixture(() => clock);
});
afterEach(async () => { await f.close(); });

const PODS = '/api/v1/namespaces/default/pods';
const EVENTS = '/api/v1/namespaces/default/events';
const podObj = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
const events = async (ns = 'default') => (await f.get(`/api/v1/namespaces/${ns}/events`)).items as any[];

describe('EventRecorder', () => {
  it('creates an Event with the involved object, source, type and timestamps', async () => {
    const [pod] = await f.seed([PODS, podObj('web-1')]);
    const recorder = new EventRecorder(f.ctx.client, { component: 'default-scheduler', now: () => clock });
    const created = await recorder.normal(pod, 'Scheduled', 'Successfully assigned default/web-1 to node-2');
    expect(created).toBeDefined();
    expect(f.takeWrites()).toEqual([`POST ${EVENTS}`]);
    const [ev] = await events();
    expect(ev).toMatchObject({
      metadata: { namespace: 'default', name: expect.stringMatching(/^web-1\.[0-9a-f]+$/) },
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'web-1', uid: pod.metadata.uid },
      reason: 'Scheduled', message: 'Successfully assigned default/web-1 to node-2', type: 'Normal', count: 1,
      source: { component: 'default-scheduler' }, reportingComponent: 'default-scheduler',
      firstTimestamp: '2026-05-01T10:00:00Z', lastTimestamp: '2026-05-01T10:00:00Z',
    });
  });

  it('counts an identical event up instead of creating another, keeping firstTimestamp', async () => {
    const [pod] = await f.seed([PODS, podObj('stuck')]);
    const recorder = new EventRecorder(f.ctx.client, { component: 'default-scheduler', now: () => clock });
    await recorder.warning(pod, 'FailedScheduling', '0/3 nodes are available');
    clock = new Date('2026-05-01T10:01:00Z');
    await recorder.warning(pod, 'FailedScheduling', '0/3 nodes are available');
    await recorder.warning(pod, 'FailedScheduling', '0/3 nodes are available');
    expect(f.takeWrites()).toEqual([`POST ${EVENTS}`, expect.stringMatching(/^PATCH /), expect.stringMatching(/^PATCH /)]);
    const list = await events();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ count: 3, type: 'Warning', firstTimestamp: '2026-05-01T10:00:00Z', lastTimestamp: '2026-05-01T10:01:00Z' });
  });

  it('keeps different messages, reasons and objects apart', async () => {
    const [a, b] = await f.seed([PODS, podObj('a')], [PODS, podObj('b')]);
    const recorder = new EventRecorder(f.ctx.client, { component: 'c' });
    await recorder.warning(a, 'FailedScheduling', 'one');
    await recorder.warning(a, 'FailedScheduling', 'two');
    await recorder.normal(a, 'Scheduled', 'one');
    await recorder.warning(b, 'FailedScheduling', 'one');
    expect((await events()).map((e) => e.count)).toEqual([1, 1, 1, 1]);
  });

  it('serializes concurrent identical events into one Event with the full count', async () => {
    const [pod] = await f.seed([PODS, podObj('busy')]);
    const recorder = new EventRecorder(f.ctx.client, { component: 'c' });
    await Promise.all(Array.from({ length: 5 }, () => recorder.normal(pod, 'Pulled', 'same')));
    const list = await events();
    expect(list).toHaveLength(1);
    expect(list[0].count).toBe(5);
  });

  it('starts a new Event when the counted one was deleted', async () => {
    const [pod] = await f.seed([PODS, podObj('gone')]);
    const recorder = new EventRecorder(f.ctx.client, { component: 'c' });
    const first = await recorder.normal(pod, 'R', 'm');
    await f.harness.json('DELETE', `${EVENTS}/${(first!.metadata as any).name}`);
    const second = await recorder.normal(pod, 'R', 'm');
    expect(second).toMatchObject({ count: 1 });
    expect(await events()).toHaveLength(1);
  });

  it('puts events of cluster-scoped objects in default, never throws, and reports failures', async () => {
    const errors: unknown[] = [];
    const recorder = new EventRecorder(f.ctx.client, { component: 'c', host: 'node-1', onError: (e) => errors.push(e) });
    const ev = await recorder.normal({ kind: 'Node', apiVersion: 'v1', name: 'node-1', uid: 'u1' }, 'Starting', 'hello');
    expect(ev).toMatchObject({ metadata: { namespace: 'default' }, source: { component: 'c', host: 'node-1' }, reportingInstance: 'node-1' });
    // An involved object in a namespace that does not exist: the create fails, the recorder does not throw.
    const failed = await recorder.normal({ kind: 'Pod', name: 'p', namespace: 'missing-ns' }, 'R', 'm');
    expect(failed).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('objectReference passes a reference through and reads a full object', () => {
    const ref = { kind: 'Pod', name: 'x', namespace: 'n' };
    expect(objectReference(ref)).toBe(ref);
    expect(objectReference({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'n', uid: 'u', resourceVersion: '7' } }))
      .toEqual({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', namespace: 'n', uid: 'u', resourceVersion: '7' });
  });
});
