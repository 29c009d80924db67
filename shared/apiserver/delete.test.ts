import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, pod, type Harness } from '../../test/support/apiserver.js';
import { ApiError } from '../api/status.js';

let h: Harness;
beforeAll(async () => { h = await startApiServer(); });
afterAll(async () => { await h.close(); });

const cm = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra } });
const merge = { 'content-type': 'application/merge-patch+json' };

describe('delete', () => {
  it('deletes at once and answers a Success Status (configmaps) or the object (pods)', async () => {
    const created = (await h.json('POST', '/api/v1/namespaces/default/configmaps', cm('gone'))).body;
    const res = await h.json('DELETE', '/api/v1/namespaces/default/configmaps/gone');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'gone', kind: 'configmaps', uid: created.metadata.uid } });
    expect((await h.json('GET', '/api/v1/namespaces/default/configmaps/gone')).status).toBe(404);
    expect((await h.json('DELETE', '/api/v1/namespaces/default/configmaps/gone')).status).toBe(404);
    await h.json('POST', '/api/v1/namespaces/default/pods', pod('unbound'));
    const p = await h.json('DELETE', '/api/v1/namespaces/default/pods/unbound');
    expect(p.body.kind).toBe('Pod');
    expect((await h.json('GET', '/api/v1/namespaces/default/pods/unbound')).status).toBe(404);
  });

  it('checks preconditions (409)', async () => {
    await h.json('POST', '/api/v1/namespaces/default/configmaps', cm('pre'));
    const res = await h.json('DELETE', '/api/v1/namespaces/default/configmaps/pre', { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'nope' } });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('Precondition failed: UID in precondition: nope');
    const rv = await h.json('DELETE', '/api/v1/namespaces/default/configmaps/pre', { preconditions: { resourceVersion: '1' } });
    expect(rv.status).toBe(409);
  });

  it('keeps an object with finalizers until the last one is removed', async () => {
    await h.json('POST', '/api/v1/namespaces/default/configmaps', cm('fin', { finalizers: ['example.com/hold'] }));
    const res = await h.json('DELETE', '/api/v1/namespaces/default/configmaps/fin');
    expect(res.status).toBe(200);
    expect(res.body.metadata.deletionTimestamp).toBeDefined();
    expect(res.body.metadata.deletionGracePeriodSeconds).toBe(0);
    const still = await h.json('GET', '/api/v1/namespaces/default/configmaps/fin');
    expect(still.status).toBe(200);
    const cleared = await h.json('PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: null } }, merge);
    expect(cleared.status).toBe(200);
    expect((await h.json('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(404);
  });

  it('adds foregroundDeletion or orphan finalizers for the garbage collector', async () => {
    await h.json('POST', '/api/v1/namespaces/default/configmaps', cm('fg'));
    const fg = await h.json('DELETE', '/api/v1/namespaces/default/configmaps/fg?propagationPolicy=Foreground');
    expect(fg.body.metadata.finalizers).toEqual(['foregroundDeletion']);
    await h.json('POST', '/api/v1/namespaces/default/configmaps', cm('or'));
    const or = await h.json('DELETE', '/api/v1/namespaces/default/configmaps/or', { propagationPolicy: 'Orphan' });
    expect(or.body.metadata.finalizers).toEqual(['orphan']);
    const bad = await h.json('DELETE', '/api/v1/namespaces/default/configmaps/or', { propagationPolicy: 'Sideways' });
    expect(bad.status).toBe(422);
  });

  it('deletes bound pods gracefully; a gracePeriodSeconds=0 delete removes them', async () => {
    await h.json('POST', '/api/v1/namespaces/default/pods', pod('bound', { spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } }));
    const first = await h.json('DELETE', '/api/v1/namespaces/default/pods/bound');
    expect(first.body.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await h.json('GET', '/api/v1/namespaces/default/pods/bound')).status).toBe(200);
    const now = await h.json('DELETE', '/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0');
    expect(now.status).toBe(200);
    expect((await h.json('GET', '/api/v1/namespaces/default/pods/bound')).status).toBe(404);
  });

  it('dryRun deletes nothing', async () => {
    await h.json('POST', '/api/v1/namespaces/default/configmaps', cm('dry'));
    expect((await h.json('DELETE', '/api/v1/namespaces/default/configmaps/dry?dryRun=All')).status).toBe(200);
    expect((await h.json('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(200);
  });

  it('deletes a collection by selector', async () => {
    for (const [n, l] of [['x1', 'a'], ['x2', 'a'], ['x3', 'b']]) await h.json('POST', '/api/v1/namespaces/default/configmaps', cm(n, { labels: { g: l } }));
    const res = await h.json('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=g%3Da');
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('ConfigMapList');
    expect(res.body.items.map((i: any) => i.metadata.name)).toEqual(['x1', 'x2']);
    expect((await h.json('GET', '/api/v1/namespaces/default/configmaps/x3')).status).toBe(200);
  });

  it('terminates namespaces: Terminating refuses creates (403); system namespaces cannot be deleted', async () => {
    await h.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    const res = await h.json('DELETE', '/api/v1/namespaces/doomed');
    expect(res.body.status.phase).toBe('Terminating');
    const refused = await h.json('POST', '/api/v1/namespaces/doomed/configmaps', cm('late'));
    expect(refused.status).toBe(403);
    expect(refused.body.details.causes[0].reason).toBe('NamespaceTerminating');
    const ns = (await h.json('GET', '/api/v1/namespaces/doomed')).body;
    const fin = await h.json('PUT', '/api/v1/namespaces/doomed/finalize', { ...ns, spec: { finalizers: [] } });
    expect(fin.status).toBe(200);
    expect((await h.json('GET', '/api/v1/namespaces/doomed')).status).toBe(404);
    expect((await h.json('DELETE', '/api/v1/namespaces/default')).status).toBe(403);
  });

  it('evicts a pod (201 Success) through the admission hook', async () => {
    const refusing = await startApiServer({
      admitEviction: async () => new ApiError(429, 'TooManyRequests', 'Cannot evict pod as it would violate the pod\'s disruption budget.'),
    });
    try {
      await refusing.json('POST', '/api/v1/namespaces/default/pods', pod('ev'));
      const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'ev', namespace: 'default' } };
      expect((await refusing.json('POST', '/api/v1/namespaces/default/pods/ev/eviction', eviction)).status).toBe(429);
      await h.json('POST', '/api/v1/namespaces/default/pods', pod('ev'));
      const ok = await h.json('POST', '/api/v1/namespaces/default/pods/ev/eviction', eviction);
      expect(ok.status).toBe(201);
      expect((await h.json('GET', '/api/v1/namespaces/default/pods/ev')).status).toBe(404);
    } finally {
      await refusing.close();
    }
  });
});
