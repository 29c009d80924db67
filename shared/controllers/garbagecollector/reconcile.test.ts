import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { reconcileOwner } from './reconcile.js';
import { garbageCollectorKeys, ownerKey } from './keys.js';

const CMS = '/api/v1/namespaces/default/configmaps';
let f: ControllerFixture;
beforeEach(async () => { f = await startControllerFixture(); });
afterEach(async () => { await f.close(); });

const cm = (name: string, meta: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...meta } });
const ref = (owner: any, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name, uid: owner.metadata.uid, ...extra });
const keyOf = (owner: any) => ownerKey({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: owner.metadata.name, uid: owner.metadata.uid });

describe('garbage collector reconcile', () => {
  it('does nothing for a live owner that is not being deleted', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('dep', { ownerReferences: [ref(owner)] })]);
    await reconcileOwner(keyOf(owner), f.ctx);
    expect(f.takeWrites()).toEqual([]);
  });

  it('background: deletes the dependents of an owner that is gone, keeps those with another live owner', async () => {
    const [owner, other] = await f.seed([CMS, cm('owner')], [CMS, cm('other')]);
    await f.seed([CMS, cm('a', { ownerReferences: [ref(owner)] })], [CMS, cm('b', { ownerReferences: [ref(owner), ref(other)] })], [CMS, cm('unrelated')]);
    await f.harness.json('DELETE', `${CMS}/owner`);
    await reconcileOwner(keyOf(owner), f.ctx);
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
    await reconcileOwner(keyOf(owner), f.ctx);
    expect(f.takeWrites()).toEqual([`DELETE ${CMS}/a propagationPolicy=Background`]);
  });

  it('orphan: removes the owner reference from each dependent, then the finalizer (the owner then goes)', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('a', { ownerReferences: [ref(owner)] })], [CMS, cm('b', { ownerReferences: [ref(owner)] })]);
    const marked = await f.harness.json('DELETE', `${CMS}/owner`, { propagationPolicy: 'Orphan' });
    expect(marked.body.metadata.finalizers).toEqual(['orphan']);
    await reconcileOwner(keyOf(owner), f.ctx);
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
    const outcome = await reconcileOwner(keyOf(owner), f.ctx);
    expect(f.takeWrites()).toEqual([`DELETE ${CMS}/blocking propagationPolicy=Foreground`, `DELETE ${CMS}/loose propagationPolicy=Foreground`]);
    expect(outcome).toEqual({ requeueAfterMs: expect.any(Number) });
    const blocking = await f.get(`${CMS}/blocking`);
    expect(blocking.metadata.finalizers).toEqual(['foregroundDeletion']);

    // The dependent's own change leads to its own key: no dependents, so its finalizer goes and it is deleted.
    expect(garbageCollectorKeys({ key: '', type: 'put', value: blocking, revision: 0 })).toContain(keyOf(blocking));
    await reconcileOwner(keyOf(blocking), f.ctx);
    expect(f.takeWrites()).toEqual([`PUT ${CMS}/blocking`]);
    expect(await f.get(`${CMS}/blocking`)).toBeUndefined();

    // Its delete brings the owner back: nothing blocks any more, the finalizer goes, the owner is deleted.
    await reconcileOwner(keyOf(owner), f.ctx);
    expect(f.takeWrites()).toEqual([`PUT ${CMS}/owner`]);
    expect(await f.get(`${CMS}/owner`)).toBeUndefined();
  });

  it('foreground: a blocking dependent held by another finalizer keeps the owner waiting', async () => {
    const [owner] = await f.seed([CMS, cm('owner')]);
    await f.seed([CMS, cm('held', { finalizers: ['example.com/hold'], ownerReferences: [ref(owner, { blockOwnerDeletion: true })] })]);
    await f.harness.json('DELETE', `${CMS}/owner`, { propagationPolicy: 'Foreground' });
    await reconcileOwner(keyOf(owner), f.ctx);
    expect(f.takeWrites()).toEqual([`DELETE ${CMS}/held propagationPolicy=Foreground`]);
    await reconcileOwner(keyOf(owner), f.ctx);
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
