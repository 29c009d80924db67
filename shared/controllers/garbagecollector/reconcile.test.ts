import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { reconcileOwner } from './reconcile.js';
import { garbageCollectorWith } from './index.js';
import { OwnerIndex } from './owners.js';
import { ApiClient } from '../client.js';
import { TOKEN } from '../../../test/support/apiserver.js';
import { garbageCollectorKeys, ownerKey } from './keys.js';

const CMS = '/api/v1/namespaces/default/configmaps';
let f: ControllerFixture;
beforeEach(async () => { f = await startControllerFixture(); });
afterEach(async () => { await f.close(); });

const cm = (name: string, meta: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...meta } });
const ref = (owner: any, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name, uid: owner.metadata.uid, ...extra });
/** reconcile runs one pass with an index filled by a resync of the current state (as after a start). */
async function reconcile(key: string) {
  const gc = garbageCollectorWith();
  await gc.resync(f.ctx);
  f.takeWrites();
  return gc.reconcile(key, f.ctx);
}
const keyOf = (owner: any) => ownerKey({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: owner.metadata.name, uid: owner.metadata.uid });

describe('garbage collector reconcile', () => {
  it('does nothing for a live owner that is not being deleted', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('dep', { ownerReferences: [ref(owner)] })]);
    await reconcile(keyOf(owner));
    expect(f.takeWrites()).toEqual([]);
  });

  it('background: deletes the dependents of an owner that is gone, keeps those with another live owner', async () => {
    const [owner, other] = await f.seed([CMS, cm('owner')], [CMS, cm('other')]);
    await f.seed([CMS, cm('a', { ownerReferences: [ref(owner)] })], [CMS, cm('b', { ownerReferences: [ref(owner), ref(other)] })], [CMS, cm('unrelated')]);
    await f.harness.json('DELETE', `${CMS}/owner`);
    await reconcile(keyOf(owner));
    expect(f.takeWrites()).toEqual([`DELETE ${CMS}/a propagationPolicy=Background`, `PUT ${CMS}/b`]);
    expect(await f.get(`${CMS}/a`)).toBeUndefined();
    expect((await f.get(`${CMS}/b`)).metadata.ownerReferences).toEqual([ref(other)]);
    expect(await f.get(`${CMS}/unrelated`)).toBeDefined();
  });

  it('background: an owner name now holding another uid counts as gone', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('a', { ownerReferences: [ref(owner)] })]);
    await f.harness.json('DELETE', `${CMS}/owner`);
    await f.seed([CMS, cm('owner')]);
    await reconcile(keyOf(owner));
    expect(f.takeWrites()).toEqual([`DELETE ${CMS}/a propagationPolicy=Background`]);
  });

  it('orphan: removes the owner reference from each dependent, then the finalizer (the owner then goes)', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('a', { ownerReferences: [ref(owner)] })], [CMS, cm('b', { ownerReferences: [ref(owner)] })]);
    const marked = await f.harness.json('DELETE', `${CMS}/owner`, { propagationPolicy: 'Orphan' });
    expect(marked.body.metadata.finalizers).toEqual(['orphan']);
    await reconcile(keyOf(owner));
    expect(f.takeWrites()).toEqual([`PUT ${CMS}/a`, `PUT ${CMS}/b`, `PUT ${CMS}/owner`]);
    expect((await f.get(`${CMS}/a`)).metadata.ownerReferences).toBeUndefined();
    expect(await f.get(`${CMS}/b`)).toBeDefined();
    expect(await f.get(`${CMS}/owner`)).toBeUndefined();
  });

  it('foreground: deletes dependents in the foreground, waits for blocking ones, then removes the finalizer', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('blocking', { ownerReferences: [ref(owner, { blockOwnerDeletion: true })] })], [CMS, cm('loose', { ownerReferences: [ref(owner)] })]);
    await f.harness.json('DELETE', `${CMS}/owner`, { propagationPolicy: 'Foreground' });

    // 1st pass: both dependents are deleted in the foreground; they wait for their own (no) dependents.
    const outcome = await reconcile(keyOf(owner));
    expect(f.takeWrites()).toEqual([`DELETE ${CMS}/blocking propagationPolicy=Foreground`, `DELETE ${CMS}/loose propagationPolicy=Foreground`]);
    expect(outcome).toEqual({ requeueAfterMs: expect.any(Number) });
    const blocking = await f.get(`${CMS}/blocking`);
    expect(blocking.metadata.finalizers).toEqual(['foregroundDeletion']);

    // The dependent's own change leads to its own key: no dependents, so its finalizer goes and it is deleted.
    expect(garbageCollectorKeys({ key: '', type: 'put', value: blocking, revision: 0 })).toContain(keyOf(blocking));
    await reconcile(keyOf(blocking));
    expect(f.takeWrites()).toEqual([`PUT ${CMS}/blocking`]);
    expect(await f.get(`${CMS}/blocking`)).toBeUndefined();

    // Its delete brings the owner back: nothing blocks any more, the finalizer goes, the owner is deleted.
    await reconcile(keyOf(owner));
    expect(f.takeWrites()).toEqual([`PUT ${CMS}/owner`]);
    expect(await f.get(`${CMS}/owner`)).toBeUndefined();
  });

  it('foreground: a blocking dependent held by another finalizer keeps the owner waiting', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('held', { finalizers: ['example.com/hold'], ownerReferences: [ref(owner, { blockOwnerDeletion: true })] })]);
    await f.harness.json('DELETE', `${CMS}/owner`, { propagationPolicy: 'Foreground' });
    await reconcile(keyOf(owner));
    expect(f.takeWrites()).toEqual([`DELETE ${CMS}/held propagationPolicy=Foreground`]);
    await reconcile(keyOf(owner));
    expect(f.takeWrites()).toEqual([]);
    expect((await f.get(`${CMS}/owner`)).metadata.finalizers).toEqual(['foregroundDeletion']);
  });
});

describe('garbage collector keys', () => {
  const owner = { metadata: { name: 'o', uid: 'u1' } };
  it('maps a dependent to its owners, and a deleted object to itself', () => {
    const dep = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd', namespace: 'ns', uid: 'u2', ownerReferences: [ref(owner)] } };
    expect(garbageCollectorKeys({ key: 'k', type: 'put', value: dep, revision: 1 })).toEqual(['v1|ConfigMap|ns|o|u1']);
    expect(garbageCollectorKeys({ key: 'k', type: 'delete', value: dep, revision: 2 })).toEqual(['v1|ConfigMap|ns|o|u1', 'v1|ConfigMap|ns|d|u2']);
  });

  it('keeps a removed reference (it may unblock a foreground deletion); a cluster-scoped owner has no namespace', () => {
    const before = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd', namespace: 'ns', uid: 'u2', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u9' }] } };
    const after = { ...before, metadata: { ...before.metadata, ownerReferences: [] } };
    expect(garbageCollectorKeys({ key: 'k', type: 'put', value: after, prevValue: before, revision: 3 })).toEqual(['v1|Node||n1|u9']);
  });
});

describe('garbage collector lookups (issue 15: no listing per owner)', () => {
  /** A client over the fixture's server that counts its GETs of collections (lists) and of objects. */
  function countingClient() {
    const counts = { lists: 0, gets: 0 };
    const client = new ApiClient(async (request) => {
      if (request.method === 'GET') {
        const parts = new URL(request.url).pathname.split('/');
        // .../namespaces/<ns>/<plural> is a list; .../<plural>/<name> a get.
        if (parts.length % 2 === 0) counts.lists++;
        else counts.gets++;
      }
      return f.harness.handler(request);
    }, { baseUrl: 'https://coracle.test', token: TOKEN, userAgent: 'gc-test' });
    return { client, counts };
  }

  it('finds the dependents of a deleted owner through the index, reading only them, with 300 unrelated Events in the namespace', async () => {
    const gc = garbageCollectorWith();
    await gc.resync(f.ctx);
    const [owner] = await f.seed([CMS, cm('owner')]);
    const deps = await f.seed([CMS, cm('a', { ownerReferences: [ref(owner)] })], [CMS, cm('b', { ownerReferences: [ref(owner)] })]);
    for (let i = 0; i < 300; i++) await f.harness.json('POST', '/api/v1/namespaces/default/events', { metadata: { name: `e${i}` }, involvedObject: { kind: 'Pod', name: 'x', namespace: 'default' }, reason: 'R', message: 'm', type: 'Normal' });
    // The change feed would show the collector these puts; feed them as changes.
    for (const obj of [owner, ...deps]) gc.keysFor({ key: '', type: 'put', value: obj, revision: 0 });
    await f.harness.json('DELETE', `${CMS}/owner`);
    const { client, counts } = countingClient();
    f.takeWrites();
    await gc.reconcile(keyOf(owner), { client, now: () => new Date() });
    expect(counts).toEqual({ lists: 0, gets: 3 }); // the owner, then a and b
    expect(await f.get(`${CMS}/a`)).toBeUndefined();
    expect(await f.get(`${CMS}/b`)).toBeUndefined();
  });

  it('a deleted object without dependents costs one read, whatever the namespace holds', async () => {
    const gc = garbageCollectorWith();
    await gc.resync(f.ctx);
    const [pod] = await f.seed([CMS, cm('leaf')]);
    await f.harness.json('DELETE', `${CMS}/leaf`);
    const keys = gc.keysFor({ key: '', type: 'delete', value: pod, revision: 0 });
    expect(keys).toEqual([keyOf(pod)]);
    const { client, counts } = countingClient();
    await gc.reconcile(keys[0]!, { client, now: () => new Date() });
    expect(counts).toEqual({ lists: 0, gets: 1 });
  });

  it('waits for the first resync before acting on an absent owner (the index may miss dependents until then)', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('a', { ownerReferences: [ref(owner)] })]);
    await f.harness.json('DELETE', `${CMS}/owner`);
    const index = new OwnerIndex();
    expect(await reconcileOwner(keyOf(owner), f.ctx, index)).toEqual({ requeueAfterMs: expect.any(Number) });
    expect(await f.get(`${CMS}/a`)).toBeDefined();
  });

  it('the index follows references as they change and forgets deleted objects', () => {
    const index = new OwnerIndex();
    const dep = (refs: unknown[]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd', namespace: 'ns', uid: 'd1', ownerReferences: refs } });
    const o1 = { apiVersion: 'v1', kind: 'ConfigMap', name: 'o1', uid: 'u1' };
    const o2 = { apiVersion: 'v1', kind: 'ConfigMap', name: 'o2', uid: 'u2' };
    index.observe({ key: '', type: 'put', value: dep([o1]), revision: 1 });
    expect(index.dependentsOf('u1').map((d) => d.name)).toEqual(['d']);
    index.observe({ key: '', type: 'put', value: dep([o2]), revision: 2 });
    expect(index.dependentsOf('u1')).toEqual([]);
    expect(index.dependentsOf('u2').map((d) => `${d.resource.plural} ${d.namespace}/${d.name} ${d.uid}`)).toEqual(['configmaps ns/d d1']);
    // A resync's older list adds back a candidate (merge), never removes one seen since.
    index.put(dep([o1]), true);
    expect(index.dependentsOf('u2')).toHaveLength(1);
    expect(index.dependentsOf('u1')).toHaveLength(1);
    index.observe({ key: '', type: 'delete', value: dep([o2]), revision: 3 });
    expect(index.dependentsOf('u1')).toEqual([]);
    expect(index.dependentsOf('u2')).toEqual([]);
    expect(index.size).toBe(0);
  });
});
