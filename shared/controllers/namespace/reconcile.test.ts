import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { reconcileNamespace } from './reconcile.js';
import { namespaceKeys } from './index.js';

const NS = '/api/v1/namespaces';
let f: ControllerFixture;
beforeEach(async () => { f = await startControllerFixture(); });
afterEach(async () => { await f.close(); });

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const cm = (name: string, meta: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...meta } });
const pod = (name: string, nodeName?: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
});
const conditionsOf = async (name: string) => Object.fromEntries(((await f.get(`${NS}/${name}`)).status.conditions as any[]).map((c) => [c.type, c]));

describe('namespace reconcile', () => {
  it('does nothing for a namespace that is not being deleted', async () => {
    await f.seed([NS, ns('live')], [`${NS}/live/configmaps`, cm('a')]);
    await reconcileNamespace('live', f.ctx);
    expect(f.takeWrites()).toEqual([]);
  });

  it('empties a terminating namespace, force-deletes pods on nodes without an agent, then finalizes it', async () => {
    await f.seed([NS, ns('doomed')], [`${NS}/doomed/configmaps`, cm('a')], [`${NS}/doomed/pods`, pod('unbound')], [`${NS}/doomed/pods`, pod('orphaned', 'ghost-node')]);
    await f.harness.json('DELETE', `${NS}/doomed`);
    expect((await f.get(`${NS}/doomed`)).status.phase).toBe('Terminating');
    await reconcileNamespace('doomed', f.ctx);
    expect(f.takeWrites()).toEqual([
      `DELETE ${NS}/doomed/pods/orphaned propagationPolicy=Background`,
      `DELETE ${NS}/doomed/pods/orphaned gracePeriodSeconds=0`,
      `DELETE ${NS}/doomed/pods/unbound propagationPolicy=Background`,
      `DELETE ${NS}/doomed/configmaps/a propagationPolicy=Background`,
      `PUT ${NS}/doomed/status`,
      `PUT ${NS}/doomed/finalize`,
    ]);
    expect(await f.get(`${NS}/doomed`)).toBeUndefined();
  });

  it('reports content held by finalizers and keeps the namespace until it goes', async () => {
    await f.seed([NS, ns('held')], [`${NS}/held/configmaps`, cm('kept', { finalizers: ['example.com/hold'] })]);
    await f.harness.json('DELETE', `${NS}/held`);
    const outcome = await reconcileNamespace('held', f.ctx);
    expect(outcome).toEqual({ requeueAfterMs: expect.any(Number) });
    expect(f.takeWrites()).toEqual([`DELETE ${NS}/held/configmaps/kept propagationPolicy=Background`, `PUT ${NS}/held/status`]);
    const c = await conditionsOf('held');
    expect(c.NamespaceContentRemaining).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps. has 1 resource instances' });
    expect(c.NamespaceFinalizersRemaining).toMatchObject({ status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances' });
    expect(c.NamespaceDeletionContentFailure).toMatchObject({ status: 'False', reason: 'ContentDeleted' });

    // A second pass with nothing new writes nothing.
    await reconcileNamespace('held', f.ctx);
    expect(f.takeWrites()).toEqual([]);

    // Once the finalizer is gone, the next pass finalizes the namespace.
    await f.harness.json('PATCH', `${NS}/held/configmaps/kept`, { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    await reconcileNamespace('held', f.ctx);
    expect(f.takeWrites()).toEqual([`PUT ${NS}/held/status`, `PUT ${NS}/held/finalize`]);
    expect(await f.get(`${NS}/held`)).toBeUndefined();
  });

  it('leaves a pod on a node with an agent (Node and Lease) to that agent', async () => {
    await f.seed(['/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }],
      ['/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1' } }],
      [NS, ns('busy')], [`${NS}/busy/pods`, pod('running', 'n1')]);
    await f.harness.json('DELETE', `${NS}/busy`);
    const outcome = await reconcileNamespace('busy', f.ctx);
    expect(outcome).toEqual({ requeueAfterMs: expect.any(Number) });
    expect(f.takeWrites()).toEqual([`DELETE ${NS}/busy/pods/running propagationPolicy=Background`, `PUT ${NS}/busy/status`]);
    expect((await f.get(`${NS}/busy/pods/running`)).metadata.deletionTimestamp).toBeDefined();
    expect((await conditionsOf('busy')).NamespaceContentRemaining.message).toBe('Some resources are remaining: pods. has 1 resource instances');
  });
});

describe('namespace keys', () => {
  it('maps a terminating namespace to itself and deletions inside a namespace to it', () => {
    expect(namespaceKeys({ key: 'k', type: 'put', value: { kind: 'Namespace', metadata: { name: 'x', deletionTimestamp: 't' } }, revision: 1 })).toEqual(['x']);
    expect(namespaceKeys({ key: 'k', type: 'put', value: { kind: 'Namespace', metadata: { name: 'x' } }, revision: 1 })).toEqual([]);
    expect(namespaceKeys({ key: 'k', type: 'delete', value: { kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x' } }, revision: 2 })).toEqual(['x']);
    expect(namespaceKeys({ key: 'k', type: 'put', value: { kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x' } }, revision: 3 })).toEqual([]);
  });
});
