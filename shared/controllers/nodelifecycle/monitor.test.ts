import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { testNode, testPod } from '../../scheduler/testing.js';
import type { KubeObject } from '../../api/objects.js';
import { nextPassDelayMs, monitorNodes } from './monitor.js';
import { EventRecorder } from '../events.js';
import { reconcilePodGc, podGcController } from './podgc.js';
import { nodeTaintController } from './taints.js';
import { HeartbeatObserver, NODE_STATUS_UNKNOWN_MESSAGE, TAINT_UNREACHABLE } from './health.js';

const NODES = '/api/v1/nodes';
const PODS = '/api/v1/namespaces/default/pods';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const T0 = Math.floor(Date.now() / 1000) * 1000;
let clock = T0;
const at = (s: number) => new Date(T0 + s * 1000);
const iso = (s: number) => at(s).toISOString().replace(/\.\d{3}Z$/, 'Z');
let f: ControllerFixture;
beforeEach(async () => {
  clock = T0;
  f = await startControllerFixture(() => new Date(clock));
});
afterEach(async () => { await f.close(); });

async function seedNode(name: string, heartbeat: number): Promise<void> {
  const node = testNode(name);
  const [created] = await f.seed([NODES, node]);
  const conditions = [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: iso(heartbeat), lastTransitionTime: iso(heartbeat) }];
  const res = await f.harness.json('PUT', `${NODES}/${name}/status`, { ...created, status: { ...(node.status as object), conditions } });
  if (res.status !== 200) throw new Error(`node status: ${res.status}`);
}
async function renewLease(name: string, renew: number): Promise<void> {
  const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: at(renew).toISOString() };
  const existing = await f.get(`${LEASES}/${name}`);
  if (existing) await f.harness.json('PUT', `${LEASES}/${name}`, { ...existing, spec });
  else await f.seed([LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec }]);
}
async function seedReadyPod(name: string, nodeName: string, tolerations?: unknown[]): Promise<void> {
  const pod = testPod(name, { nodeName, spec: tolerations ? { tolerations } : {} }) as { metadata: Record<string, unknown> };
  delete pod.metadata.uid;
  delete pod.metadata.creationTimestamp;
  const [created] = await f.seed([PODS, pod as KubeObject]);
  await f.harness.json('PUT', `${PODS}/${name}/status`, { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
}
const tolerate = (seconds: number) => [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }];
const settings = { gracePeriodMs: 40_000 };

describe('node monitor', () => {
  it('turns a silent node Unknown and taints it, evicts its pods after their tolerations, and lets it come back', async () => {
    await seedNode('node-1', 0);
    await seedNode('node-2', 0);
    await renewLease('node-1', 0);
    await renewLease('node-2', 0);
    await seedReadyPod('short', 'node-1', tolerate(15));
    await seedReadyPod('default', 'node-1'); // defaulted: 300 s
    await seedReadyPod('elsewhere', 'node-2', tolerate(15));

    clock = at(30).getTime();
    await renewLease('node-2', 30);
    f.takeWrites();
    // The next deadline: node-1, last heard at 0, turns silent just after 40 s.
    expect(await monitorNodes(f.ctx, settings)).toEqual({ nodes: 2, markedUnknown: [], taintsChanged: [], evicted: [], nextSilentAt: at(40).getTime() + 1 });
    expect(f.takeWrites()).toEqual([]);

    clock = at(60).getTime();
    await renewLease('node-2', 60);
    const first = await monitorNodes(f.ctx, settings);
    expect(first).toMatchObject({ markedUnknown: ['node-1'], taintsChanged: ['node-1'], evicted: [], nextEvictionAt: at(75).getTime() });
    const node1 = await f.get(`${NODES}/node-1`);
    expect(node1.status.conditions).toEqual([expect.objectContaining({
      type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: NODE_STATUS_UNKNOWN_MESSAGE, lastHeartbeatTime: iso(0), lastTransitionTime: iso(60),
    })]);
    expect(node1.spec.taints).toEqual([{ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: iso(60) }]);
    expect((await f.get(`${PODS}/short`)).status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'False' })]);
    expect((await f.get(`${PODS}/elsewhere`)).status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True' })]);
    expect((await f.get(`${NODES}/node-2`)).spec.taints).toBeUndefined();

    clock = at(76).getTime();
    await renewLease('node-2', 76);
    f.takeWrites();
    const recorder = new EventRecorder(f.ctx.client, { component: 'node-controller', now: f.ctx.now });
    expect(await monitorNodes(f.ctx, settings, recorder)).toMatchObject({ markedUnknown: [], taintsChanged: [], evicted: ['default/short'] });
    expect(f.takeWrites()).toEqual([`DELETE ${PODS}/short`, 'POST /api/v1/namespaces/default/events']);
    // Graceful: the unreachable agent never confirms, so the pod stays Terminating.
    expect((await f.get(`${PODS}/short`)).metadata.deletionTimestamp).toBeDefined();
    expect((await f.get(`${PODS}/default`)).metadata.deletionTimestamp).toBeUndefined();
    const [event] = (await f.get('/api/v1/namespaces/default/events')).items;
    expect(event).toMatchObject({ reason: 'TaintManagerEviction', message: 'Marking for deletion Pod default/short', involvedObject: { kind: 'Pod', name: 'short' } });

    // The agent returns: Lease renewed, Ready=True posted. The taints go.
    clock = at(90).getTime();
    await renewLease('node-1', 90);
    await renewLease('node-2', 90);
    const back = await f.get(`${NODES}/node-1`);
    await f.harness.json('PUT', `${NODES}/node-1/status`, { ...back, status: { ...back.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: iso(90), lastTransitionTime: iso(90) }] } });
    expect(await monitorNodes(f.ctx, settings)).toMatchObject({ markedUnknown: [], taintsChanged: ['node-1'], evicted: [] });
    expect((await f.get(`${NODES}/node-1`)).spec.taints).toBeUndefined();
    f.takeWrites();
    await monitorNodes(f.ctx, settings);
    expect(f.takeWrites()).toEqual([]);
  });

  it('keeps a cordoned node tainted unschedulable and leaves the user\'s taints alone', async () => {
    await seedNode('node-1', 0);
    await renewLease('node-1', 0);
    const n = await f.get(`${NODES}/node-1`);
    await f.harness.json('PUT', `${NODES}/node-1`, { ...n, spec: { unschedulable: true, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
    await monitorNodes(f.ctx, settings);
    expect((await f.get(`${NODES}/node-1`)).spec.taints).toEqual([
      { key: 'dedicated', value: 'db', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
    ]);
  });
});

describe('node health on the server\'s clock (issue 15)', () => {
  it('turns a node whose heartbeat and Lease lie in the future Unknown once they stop changing', async () => {
    const YEAR = 365 * 24 * 3600;
    await seedNode('liar', YEAR); // lastHeartbeatTime a year ahead
    await renewLease('liar', YEAR);
    await seedNode('honest', 0);
    await renewLease('honest', 0);
    const observer = new HeartbeatObserver();
    const pass = () => monitorNodes(f.ctx, { ...settings, observer });
    expect((await pass()).markedUnknown).toEqual([]);
    clock = at(30).getTime();
    await renewLease('honest', 30);
    expect((await pass()).markedUnknown).toEqual([]);
    clock = at(45).getTime(); // the liar's future timestamps have not changed for 45 s of server time
    await renewLease('honest', 45);
    expect((await pass()).markedUnknown).toEqual(['liar']);
    const liar = await f.get(`${NODES}/liar`);
    expect((liar!.spec as any).taints).toEqual(expect.arrayContaining([expect.objectContaining({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' })]));
    expect(((await f.get(`${NODES}/honest`))!.spec as any)?.taints).toBeUndefined();
  });

  it('without a kept observer, a future timestamp counts as now, never later', async () => {
    await seedNode('liar', 365 * 24 * 3600);
    clock = at(41).getTime();
    // A fresh observer sees the node for the first time: its reported time is clamped to now, so
    // it is not silent yet; with the old arithmetic it would have stayed Ready for a year.
    const observer = new HeartbeatObserver();
    expect(observer.observedAt((await f.get(`${NODES}/liar`))!, undefined, at(41))).toBe(at(41).getTime());
  });
});

describe('pod GC', () => {
  it('force-deletes the pods of a deleted node, and only then', async () => {
    await seedNode('node-1', 0);
    await seedReadyPod('orphan', 'node-1');
    await seedReadyPod('other', 'node-2');
    await reconcilePodGc('node-1', f.ctx);
    expect(await f.get(`${PODS}/orphan`)).toBeDefined();
    expect(await podGcController.resync(f.ctx)).toEqual(['node-2']);
    await f.harness.json('DELETE', `${NODES}/node-1`);
    expect((await podGcController.resync(f.ctx)).sort()).toEqual(['node-1', 'node-2']);
    f.takeWrites();
    await reconcilePodGc('node-1', f.ctx);
    expect(f.takeWrites()).toEqual([`PUT ${PODS}/orphan/status`, `DELETE ${PODS}/orphan gracePeriodSeconds=0`]);
    expect(await f.get(`${PODS}/orphan`)).toBeUndefined();
    expect(podGcController.keysFor({ key: 'k', type: 'delete', value: { kind: 'Node', metadata: { name: 'node-9' } }, revision: 1 })).toEqual(['node-9']);
    expect(podGcController.keysFor({ key: 'k', type: 'put', value: { kind: 'Node', metadata: { name: 'node-9' } }, revision: 1 })).toEqual([]);
  });
});

describe('condition-taint controller', () => {
  it('queues a node only when its taints disagree with its conditions, and fixes them at once', async () => {
    await seedNode('node-1', 0);
    await renewLease('node-1', 0);
    const change = (value: KubeObject) => ({ key: 'k', type: 'put' as const, value, revision: 1 });
    const node = await f.get(`${NODES}/node-1`);
    expect(nodeTaintController.keysFor(change(node))).toEqual([]);
    const cordoned = (await f.harness.json('PATCH', `${NODES}/node-1`, { spec: { unschedulable: true } }, { 'content-type': 'application/merge-patch+json' })).body;
    expect(nodeTaintController.keysFor(change(cordoned))).toEqual(['node-1']);
    expect(await nodeTaintController.resync(f.ctx)).toEqual(['node-1']);
    await nodeTaintController.reconcile('node-1', f.ctx);
    const tainted = await f.get(`${NODES}/node-1`);
    expect(tainted.spec.taints).toEqual([{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]);
    expect(nodeTaintController.keysFor(change(tainted))).toEqual([]);
    expect(nodeTaintController.keysFor({ ...change(tainted), type: 'delete' })).toEqual([]);
  });

  it('nextPassDelayMs sleeps until the first deadline (at least minMs), and has none without a deadline', () => {
    expect(nextPassDelayMs({}, at(0))).toBeUndefined();
    expect(nextPassDelayMs({ nextSilentAt: at(40).getTime() + 1, nextEvictionAt: at(15).getTime() }, at(0))).toBe(15_000);
    expect(nextPassDelayMs({ nextSilentAt: at(40).getTime() + 1 }, at(10))).toBe(30_001);
    expect(nextPassDelayMs({ nextSilentAt: at(1).getTime() }, at(5))).toBe(1000);
  });

  it('with monitorPeriodMs, a node turns silent only that much past the grace period (upstream\'s 5 s loop slack)', async () => {
    await seedNode('node-1', 0);
    await renewLease('node-1', 0);
    const observer = new HeartbeatObserver();
    const slack = { gracePeriodMs: 40_000, monitorPeriodMs: 5_000, observer };
    clock = at(44).getTime();
    expect(await monitorNodes(f.ctx, slack)).toMatchObject({ markedUnknown: [], nextSilentAt: at(45).getTime() + 1 });
    clock = at(45).getTime() + 1;
    expect((await monitorNodes(f.ctx, slack)).markedUnknown).toEqual(['node-1']);
  });
});
