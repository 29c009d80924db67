import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { ApiClient } from '../client.js';
import { TOKEN } from '../../../test/support/apiserver.js';
import { ManageReplicasError, reconcileReplicaSet } from './reconcile.js';

const NS = '/api/v1/namespaces/default';
const PODS = `${NS}/pods`;
const EVENTS = `${NS}/events`;
const RSS = '/apis/apps/v1/namespaces/default/replicasets';

let f: ControllerFixture;
let clock: Date;

const rs = (name: string, replicas: number, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
  spec: {
    replicas, selector: { matchLabels: { app: name } }, ...extra,
    template: { metadata: { labels: { app: name, tier: 'front' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
  },
});
const orphan = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

interface PodState { node?: string; phase?: string; ready?: boolean; readySince?: string; restarts?: number }

/** setPod binds a pod to a node and/or writes its status, as the scheduler and the agent would. */
async function setPod(name: string, s: PodState): Promise<void> {
  if (s.node) {
    const res = await f.harness.json('POST', `${PODS}/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: s.node } });
    expect(res.status).toBe(201);
  }
  const conditions = s.ready === undefined ? [] : [{ type: 'Ready', status: s.ready ? 'True' : 'False', lastTransitionTime: s.readySince ?? '2026-05-01T09:00:00Z' }];
  const status = { phase: s.phase ?? 'Running', conditions, containerStatuses: [{ name: 'c', restartCount: s.restarts ?? 0, ready: !!s.ready, image: 'busybox', imageID: '' }] };
  const res = await f.harness.json('PATCH', `${PODS}/${name}/status`, { status }, { 'content-type': 'application/merge-patch+json' });
  expect(res.status).toBe(200);
}

const podsOf = async (app: string) => ((await f.get(`${PODS}?labelSelector=app%3D${app}`)).items as any[]);
const statusOf = async (name: string) => (await f.get(`${RSS}/${name}`)).status;
const eventsOf = async () => ((await f.get(EVENTS)).items as any[]).map((e) => `${e.type} ${e.reason} ${e.message}`).sort();

// Every case runs twice: pods listed through the API, and read from a shared watch-fed cache (as the runtime does).
describe.each([['listing through the API', false], ['reading the shared pod cache', true]])('replicaset reconcile, %s', (_, informers) => {
  beforeEach(async () => {
    clock = new Date('2026-05-01T10:00:00Z');
    f = await startControllerFixture(() => clock, { informers });
  });
  afterEach(async () => { await f.close(); });

  it('lists pods through the API only without a cache', async () => {
    await f.seed([RSS, rs('web', 2)]);
    await reconcileReplicaSet('default/web', f.ctx);
    await reconcileReplicaSet('default/web', f.ctx);
    const podLists = f.takeLists().filter((p) => p.startsWith(PODS));
    if (informers) expect(podLists).toEqual([]);
    else expect(podLists).toHaveLength(2);
    expect(await podsOf('web')).toHaveLength(2); // the second pass saw the first's creates
  });

  it('returns quietly for a ReplicaSet that does not exist', async () => {
    expect(await reconcileReplicaSet('default/absent', f.ctx)).toBeUndefined();
    expect(f.takeWrites()).toEqual([]);
  });

  it('creates the missing pods from the template in slow-start batches, with events and status', async () => {
    const [web] = await f.seed([RSS, rs('web', 3)]);
    await reconcileReplicaSet('default/web', f.ctx);
    const writes = f.takeWrites();
    expect(writes.filter((w) => w === `POST ${PODS}`)).toHaveLength(3);
    expect(writes.filter((w) => w === `POST ${EVENTS}`)).toHaveLength(3);
    expect(writes[writes.length - 1]).toBe(`PUT ${RSS}/web/status`);

    const pods = await podsOf('web');
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(pod.metadata.labels).toEqual({ app: 'web', tier: 'front' });
      expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: web.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      expect(pod.spec.containers[0]).toMatchObject({ name: 'c', image: 'busybox' });
    }
    expect(await eventsOf()).toEqual(pods.map((p) => `Normal SuccessfulCreate Created pod: ${p.metadata.name}`).sort());
    expect(await statusOf('web')).toEqual({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
  });

  it('makes no writes on a second pass, nor when already in sync', async () => {
    await f.seed([RSS, rs('web', 2)]);
    await reconcileReplicaSet('default/web', f.ctx);
    f.takeWrites();
    await reconcileReplicaSet('default/web', f.ctx);
    expect(f.takeWrites()).toEqual([]);
    for (const pod of await podsOf('web')) await setPod(pod.metadata.name, { node: 'n1', ready: true });
    await reconcileReplicaSet('default/web', f.ctx);
    expect(f.takeWrites()).toEqual([`PUT ${RSS}/web/status`]);
    await reconcileReplicaSet('default/web', f.ctx);
    expect(f.takeWrites()).toEqual([]);
    expect(await statusOf('web')).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2 });
  });

  it('scales down unscheduled, then pending, then not-ready pods first, keeping the ready ones', async () => {
    await f.seed([RSS, rs('web', 5)]);
    await reconcileReplicaSet('default/web', f.ctx);
    const names = (await podsOf('web')).map((p) => p.metadata.name as string);
    const [unscheduled, pending, notReady, ready1, ready2] = names;
    await setPod(pending!, { node: 'n1', phase: 'Pending', ready: false });
    await setPod(notReady!, { node: 'n2', phase: 'Running', ready: false });
    await setPod(ready1!, { node: 'n1', ready: true });
    await setPod(ready2!, { node: 'n2', ready: true });
    void unscheduled;
    await f.harness.json('PATCH', `${RSS}/web/scale`, { spec: { replicas: 2 } }, { 'content-type': 'application/merge-patch+json' });
    f.takeWrites();

    await reconcileReplicaSet('default/web', f.ctx);
    const writes = f.takeWrites();
    expect(writes.filter((w) => w.startsWith('DELETE')).sort()).toEqual([unscheduled, pending, notReady].map((n) => `DELETE ${PODS}/${n}`).sort());
    const left = await podsOf('web');
    // Bound pods are deleted gracefully (the agent confirms): they remain, terminating.
    expect(left.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort()).toEqual([ready1, ready2].sort());
    expect((await eventsOf()).filter((e) => e.includes('SuccessfulDelete'))).toEqual([unscheduled, pending, notReady].map((n) => `Normal SuccessfulDelete Deleted pod: ${n}`).sort());
    expect(await statusOf('web')).toMatchObject({ replicas: 2, readyReplicas: 2, observedGeneration: 2 });
    await reconcileReplicaSet('default/web', f.ctx);
    expect(f.takeWrites()).toEqual([]);
  });

  it('counts available pods after minReadySeconds and asks to look again when one will become available', async () => {
    await f.seed([RSS, rs('web', 2, { minReadySeconds: 30 })]);
    await reconcileReplicaSet('default/web', f.ctx);
    const [a, b] = (await podsOf('web')).map((p) => p.metadata.name as string);
    await setPod(a!, { node: 'n1', ready: true, readySince: '2026-05-01T09:00:00Z' });
    await setPod(b!, { node: 'n1', ready: true, readySince: '2026-05-01T09:59:50Z' });
    f.takeWrites();
    const outcome = await reconcileReplicaSet('default/web', f.ctx);
    expect(outcome).toEqual({ requeueAfterMs: 20_001 });
    expect(await statusOf('web')).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 1 });
    clock = new Date('2026-05-01T10:00:21Z');
    expect(await reconcileReplicaSet('default/web', f.ctx)).toBeUndefined();
    expect(await statusOf('web')).toMatchObject({ availableReplicas: 2 });
  });

  it('adopts a matching orphan instead of creating, and counts fully labelled pods', async () => {
    const [web] = await f.seed([RSS, rs('web', 2)], [PODS, orphan('stray', { app: 'web' })], [PODS, orphan('other', { app: 'db' })]);
    await reconcileReplicaSet('default/web', f.ctx);
    const writes = f.takeWrites();
    expect(writes).toContain(`PATCH ${PODS}/stray`);
    expect(writes.filter((w) => w === `POST ${PODS}`)).toHaveLength(1);
    expect((await f.get(`${PODS}/stray`)).metadata.ownerReferences).toEqual([expect.objectContaining({ uid: web.metadata.uid, controller: true, blockOwnerDeletion: true })]);
    expect((await f.get(`${PODS}/other`)).metadata.ownerReferences).toBeUndefined();
    // The adopted pod lacks the template's tier label.
    expect(await statusOf('web')).toMatchObject({ replicas: 2, fullyLabeledReplicas: 1 });
  });

  it('releases an owned pod whose labels no longer match and replaces it', async () => {
    await f.seed([RSS, rs('web', 2)]);
    await reconcileReplicaSet('default/web', f.ctx);
    const [moved] = (await podsOf('web')).map((p) => p.metadata.name as string);
    await f.harness.json('PATCH', `${PODS}/${moved}`, { metadata: { labels: { app: 'debug' } } }, { 'content-type': 'application/merge-patch+json' });
    f.takeWrites();
    await reconcileReplicaSet('default/web', f.ctx);
    const writes = f.takeWrites();
    expect(writes).toContain(`PATCH ${PODS}/${moved}`);
    expect(writes.filter((w) => w === `POST ${PODS}`)).toHaveLength(1);
    expect((await f.get(`${PODS}/${moved}`)).metadata.ownerReferences).toBeUndefined();
    expect(await podsOf('web')).toHaveLength(2);
  });

  it('does not adopt pods of another controller, nor count pods that finished', async () => {
    await f.seed([RSS, rs('web', 1)], [PODS, { ...orphan('owned-elsewhere', { app: 'web' }), metadata: { name: 'owned-elsewhere', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'other-uid', controller: true }] } }]);
    await reconcileReplicaSet('default/web', f.ctx);
    const mine = (await podsOf('web')).filter((p) => p.metadata.name !== 'owned-elsewhere');
    expect(mine).toHaveLength(1);
    await setPod(mine[0].metadata.name, { node: 'n1', phase: 'Succeeded', ready: false });
    f.takeWrites();
    await reconcileReplicaSet('default/web', f.ctx);
    expect(f.takeWrites().filter((w) => w === `POST ${PODS}`)).toHaveLength(1);
  });

  it('stops at the first failed batch, reports FailedCreate and ReplicaFailure, and clears it once creates work', async () => {
    await f.seed([RSS, rs('web', 10)]);
    let refuse = true;
    let attempts = 0;
    const client = new ApiClient(async (request) => {
      if (request.method === 'POST' && new URL(request.url).pathname === PODS && refuse) {
        attempts++;
        const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'pods "web-x" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3' };
        return new Response(JSON.stringify(status), { status: 403, headers: { 'content-type': 'application/json' } });
      }
      return f.harness.handler(request);
    }, { baseUrl: 'https://coracle.test', token: TOKEN });
    const ctx = { client, now: () => clock };
    await expect(reconcileReplicaSet('default/web', ctx)).rejects.toBeInstanceOf(ManageReplicasError);
    expect(attempts).toBe(1);
    expect(await eventsOf()).toEqual([expect.stringMatching(/^Warning FailedCreate Error creating: pods "web-x" is forbidden: exceeded quota/)]);
    const failed = await statusOf('web');
    expect(failed.replicas).toBe(0);
    expect(failed.conditions).toEqual([expect.objectContaining({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' })]);

    refuse = false;
    await reconcileReplicaSet('default/web', ctx);
    const healed = await statusOf('web');
    expect(healed.replicas).toBe(10);
    expect(healed.conditions).toBeUndefined();
  });

  it('creates nothing for a ReplicaSet being deleted', async () => {
    await f.seed([RSS, { ...rs('web', 3), metadata: { name: 'web', finalizers: ['example.com/hold'] } }]);
    await f.harness.json('DELETE', `${RSS}/web`);
    f.takeWrites();
    await reconcileReplicaSet('default/web', f.ctx);
    expect(f.takeWrites().filter((w) => w.startsWith('POST'))).toEqual([]);
  });

  it('deletes the whole excess in one pass, in parallel batches of at most 500 (issue 15: 500 per resync livelocked a scale-down)', async () => {
    await f.seed([RSS, rs('web', 1100)]);
    for (let pass = 0; pass < 3; pass++) await reconcileReplicaSet('default/web', f.ctx);
    expect(await podsOf('web')).toHaveLength(1100);
    await f.harness.json('PATCH', `${RSS}/web/scale`, { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    let inFlight = 0;
    let peak = 0;
    const client = new ApiClient(async (request) => {
      const isPodDelete = request.method === 'DELETE' && new URL(request.url).pathname.startsWith(`${PODS}/`);
      if (isPodDelete) peak = Math.max(peak, ++inFlight);
      try {
        return await f.harness.handler(request);
      } finally {
        if (isPodDelete) inFlight--;
      }
    }, { baseUrl: 'https://coracle.test', token: TOKEN });
    await reconcileReplicaSet('default/web', { client, now: () => clock });
    expect(await podsOf('web')).toHaveLength(3);
    expect(peak).toBeLessThanOrEqual(500);
    expect(peak).toBeGreaterThan(1);
    expect(await statusOf('web')).toMatchObject({ replicas: 3 });
  }, 60_000);

  it('stops deleting between batches when the ReplicaSet was scaled again meanwhile', async () => {
    await f.seed([RSS, rs('web', 1000)]);
    for (let pass = 0; pass < 2; pass++) await reconcileReplicaSet('default/web', f.ctx);
    await f.harness.json('PATCH', `${RSS}/web/scale`, { spec: { replicas: 0 } }, { 'content-type': 'application/merge-patch+json' });
    let deletes = 0;
    const client = new ApiClient(async (request) => {
      if (request.method === 'DELETE' && ++deletes === 500) {
        // The user changes their mind while the first batch is under way.
        await f.harness.json('PATCH', `${RSS}/web/scale`, { spec: { replicas: 800 } }, { 'content-type': 'application/merge-patch+json' });
      }
      return f.harness.handler(request);
    }, { baseUrl: 'https://coracle.test', token: TOKEN });
    await reconcileReplicaSet('default/web', { client, now: () => clock });
    expect(deletes).toBe(500);
    expect(await podsOf('web')).toHaveLength(500);
  }, 60_000);
});
