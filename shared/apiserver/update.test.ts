import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, pod, deployment, type Harness } from '../../test/support/apiserver.js';

let h: Harness;
beforeAll(async () => { h = await startApiServer(); });
afterAll(async () => { await h.close(); });

const merge = { 'content-type': 'application/merge-patch+json' };

describe('update (PUT)', () => {
  it('answers 409 Conflict on a stale resourceVersion and updates on a fresh one', async () => {
    const created = (await h.json('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1' } })).body;
    const fresh = { ...created, data: { a: '2' } };
    const ok = await h.json('PUT', '/api/v1/namespaces/default/configmaps/cm', fresh);
    expect(ok.status).toBe(200);
    expect(Number(ok.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const stale = await h.json('PUT', '/api/v1/namespaces/default/configmaps/cm', { ...created, data: { a: '3' } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict', message: 'Operation cannot be fulfilled on configmaps "cm": the object has been modified; please apply your changes to the latest version and try again' });
  });

  it('updates unconditionally without resourceVersion and keeps uid and creationTimestamp', async () => {
    const before = (await h.json('GET', '/api/v1/namespaces/default/configmaps/cm')).body;
    const res = await h.json('PUT', '/api/v1/namespaces/default/configmaps/cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', creationTimestamp: '2000-01-01T00:00:00Z' }, data: { b: '1' } });
    expect(res.status).toBe(200);
    expect(res.body.metadata.uid).toBe(before.metadata.uid);
    expect(res.body.metadata.creationTimestamp).toBe(before.metadata.creationTimestamp);
    const badUid = await h.json('PUT', '/api/v1/namespaces/default/configmaps/cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', uid: 'x' } });
    expect(badUid.status).toBe(422);
    const wrongName = await h.json('PUT', '/api/v1/namespaces/default/configmaps/cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } });
    expect(wrongName.status).toBe(400);
  });

  it('bumps generation only on spec changes; main writes ignore status, status writes only status', async () => {
    const d = (await h.json('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('gen'))).body;
    expect(d.metadata.generation).toBe(1);
    const label = await h.json('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { metadata: { labels: { x: 'y' } }, status: { replicas: 9 } }, merge);
    expect(label.body.metadata.generation).toBe(1);
    expect(label.body.status?.replicas).toBeUndefined();
    const spec = await h.json('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { spec: { replicas: 3 } }, merge);
    expect(spec.body.metadata.generation).toBe(2);
    const status = await h.json('PUT', '/apis/apps/v1/namespaces/default/deployments/gen/status', { ...spec.body, spec: { ...spec.body.spec, replicas: 7 }, status: { replicas: 3 } });
    expect(status.status).toBe(200);
    expect(status.body.status.replicas).toBe(3);
    expect(status.body.spec.replicas).toBe(3);
    expect(status.body.metadata.generation).toBe(2);
  });

  it('does not write when nothing changed (same resourceVersion)', async () => {
    const cur = (await h.json('GET', '/api/v1/namespaces/default/configmaps/cm')).body;
    const res = await h.json('PUT', '/api/v1/namespaces/default/configmaps/cm', cur);
    expect(res.body.metadata.resourceVersion).toBe(cur.metadata.resourceVersion);
  });

  it('loses no update under concurrent unconditional patches', async () => {
    await h.json('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'race' }, data: {} });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      h.json('PATCH', '/api/v1/namespaces/default/configmaps/race', { data: { [`k${i}`]: 'v' } }, merge)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const final = (await h.json('GET', '/api/v1/namespaces/default/configmaps/race')).body;
    expect(Object.keys(final.data)).toHaveLength(20);
  });

  it('serves scale get/put/patch', async () => {
    const scale = await h.json('GET', '/apis/apps/v1/namespaces/default/deployments/gen/scale');
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 3 }, status: { selector: 'app=gen' } });
    const put = await h.json('PUT', '/apis/apps/v1/namespaces/default/deployments/gen/scale', { ...scale.body, spec: { replicas: 5 } });
    expect(put.body.spec.replicas).toBe(5);
    const patched = await h.json('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/scale', { spec: { replicas: 2 } }, merge);
    expect(patched.body.spec.replicas).toBe(2);
    expect((await h.json('GET', '/apis/apps/v1/namespaces/default/deployments/gen')).body.spec.replicas).toBe(2);
    const stale = await h.json('PUT', '/apis/apps/v1/namespaces/default/deployments/gen/scale', { ...scale.body, spec: { replicas: 1 } });
    expect(stale.status).toBe(409);
    const negative = await h.json('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/scale', { spec: { replicas: -1 } }, merge);
    expect(negative.status).toBe(422);
  });

  it('binds a pod once (409 when already bound)', async () => {
    await h.json('POST', '/api/v1/namespaces/default/pods', pod('bindme'));
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } };
    const res = await h.json('POST', '/api/v1/namespaces/default/pods/bindme/binding', binding);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'Status', status: 'Success' });
    const p = (await h.json('GET', '/api/v1/namespaces/default/pods/bindme')).body;
    expect(p.spec.nodeName).toBe('node-1');
    expect(p.status.conditions[0]).toMatchObject({ type: 'PodScheduled', status: 'True' });
    expect((await h.json('POST', '/api/v1/namespaces/default/pods/bindme/binding', binding)).status).toBe(409);
  });
});

describe('patch', () => {
  it('applies JSON, merge and strategic merge patches', async () => {
    await h.json('POST', '/api/v1/namespaces/default/pods', pod('pp'));
    const json = await h.json('PATCH', '/api/v1/namespaces/default/pods/pp', [{ op: 'add', path: '/metadata/labels/j', value: '1' }], { 'content-type': 'application/json-patch+json' });
    expect(json.body.metadata.labels.j).toBe('1');
    const smp = await h.json('PATCH', '/api/v1/namespaces/default/pods/pp', { spec: { containers: [{ name: 'c', image: 'nginx:1.28' }] } }, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(smp.status).toBe(200);
    expect(smp.body.spec.containers).toHaveLength(1);
    expect(smp.body.spec.containers[0]).toMatchObject({ image: 'nginx:1.28', terminationMessagePath: '/dev/termination-log' });
  });

  it('answers 415 for unknown patch types and 404 for missing objects', async () => {
    expect((await h.json('PATCH', '/api/v1/namespaces/default/pods/pp', {}, { 'content-type': 'application/xml' })).status).toBe(415);
    expect((await h.json('PATCH', '/api/v1/namespaces/default/pods/none', {}, merge)).status).toBe(404);
  });

  it('refuses patches reaching __proto__ or constructor', async () => {
    const a = await h.json('PATCH', '/api/v1/namespaces/default/pods/pp', '{"metadata":{"__proto__":{"polluted":true}}}', merge);
    expect(a.status).toBe(400);
    const b = await h.json('PATCH', '/api/v1/namespaces/default/pods/pp', [{ op: 'add', path: '/constructor/prototype/polluted', value: true }], { 'content-type': 'application/json-patch+json' });
    expect(b.status).toBeGreaterThanOrEqual(400);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('server-side apply creates, updates, and reports conflicts; fieldManager is required', async () => {
    const yaml = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: "${v}"\n`;
    const ct = { 'content-type': 'application/apply-patch+yaml' };
    expect((await h.json('PATCH', '/api/v1/namespaces/default/configmaps/ssa', yaml('1'), ct)).status).toBe(400);
    const created = await h.json('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=alice', yaml('1'), ct);
    expect(created.status).toBe(201);
    expect(created.body.metadata.managedFields[0]).toMatchObject({ manager: 'alice', operation: 'Apply' });
    const conflictRes = await h.json('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=bob', yaml('2'), ct);
    expect(conflictRes.status).toBe(409);
    expect(conflictRes.body.details.causes[0].field).toBe('.data.k');
    const forced = await h.json('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=bob&force=true', yaml('2'), ct);
    expect(forced.status).toBe(200);
    expect(forced.body.data.k).toBe('2');
  });
});
