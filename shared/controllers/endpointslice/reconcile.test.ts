import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { reconcileEndpointSlices } from './reconcile.js';
import { endpointSliceKeys, ServiceSelectorIndex } from './index.js';

const NS = '/api/v1/namespaces/default';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';

let f: ControllerFixture;

function service(name: string, spec: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, labels: { team: 'a' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec } };
}

function pod(name: string, ip: string, extra: { ready?: boolean; port?: number; labels?: Record<string, string> } = {}) {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: extra.labels ?? { app: 'web' } },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'coracle/web:v1', ports: [{ name: 'http', containerPort: extra.port ?? 8080 }] }] },
  };
}

/** seedPod creates a pod and gives it an IP and readiness through the status subresource. */
async function seedPod(name: string, ip: string, extra: { ready?: boolean; port?: number; labels?: Record<string, string> } = {}) {
  const [created] = await f.seed([`${NS}/pods`, pod(name, ip, extra)]);
  const res = await f.harness.json('PUT', `${NS}/pods/${name}/status`, {
    ...created, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }] },
  });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body;
}

async function slices(): Promise<any[]> {
  return (await f.harness.json('GET', SLICES)).body.items.filter((s: any) => s.metadata.name !== 'kubernetes');
}

// Every case runs twice: pods listed through the API, and read from a shared watch-fed cache (as the runtime does).
describe.each([['listing pods through the API', false], ['reading the shared pod cache', true]])('reconcileEndpointSlices, %s', (_, informers) => {
  beforeEach(async () => {
    f = await startControllerFixture(undefined, { informers });
  });
  afterEach(async () => f.close());

  it('creates one slice and the Endpoints from ready pods, resolving the named port', async () => {
    const [svc] = await f.seed([`${NS}/services`, service('web')]);
    await seedPod('web-a', '10.213.0.5');
    await seedPod('web-b', '10.213.0.6', { ready: false });
    f.takeWrites();
    await reconcileEndpointSlices('default/web', f.ctx);
    expect(f.takeWrites()).toEqual([`POST ${SLICES}`, `POST ${NS}/endpoints`]);
    const [slice] = await slices();
    expect(slice.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice.metadata.labels).toEqual({ team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slice.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice.endpoints.map((e: any) => [e.addresses[0], e.conditions, e.nodeName, e.targetRef.name])).toEqual([
      ['10.213.0.5', { ready: true, serving: true, terminating: false }, 'node-1', 'web-a'],
      ['10.213.0.6', { ready: false, serving: false, terminating: false }, 'node-1', 'web-b'],
    ]);
    const ep = await f.get(`${NS}/endpoints/web`);
    expect(ep.subsets).toEqual([{
      addresses: [{ ip: '10.213.0.5', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-a', uid: expect.any(String) } }],
      notReadyAddresses: [{ ip: '10.213.0.6', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-b', uid: expect.any(String) } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }]);
  });

  it('does nothing the second time (level-triggered, idempotent)', async () => {
    await f.seed([`${NS}/services`, service('web')]);
    await seedPod('web-a', '10.213.0.5');
    await reconcileEndpointSlices('default/web', f.ctx);
    f.takeWrites();
    await reconcileEndpointSlices('default/web', f.ctx);
    expect(f.takeWrites()).toEqual([]);
  });

  it('marks a terminating pod serving but not ready in the slice and drops it from Endpoints', async () => {
    await f.seed([`${NS}/services`, service('web')]);
    await seedPod('web-a', '10.213.0.5');
    await seedPod('web-b', '10.213.0.6');
    // A bound pod's delete is graceful: it keeps a deletionTimestamp until its node confirms.
    expect((await f.harness.json('DELETE', `${NS}/pods/web-b`)).status).toBe(200);
    await reconcileEndpointSlices('default/web', f.ctx);
    const [slice] = await slices();
    expect(slice.endpoints.find((e: any) => e.targetRef.name === 'web-b').conditions).toEqual({ ready: false, serving: true, terminating: true });
    const ep = await f.get(`${NS}/endpoints/web`);
    expect(ep.subsets[0].addresses.map((a: any) => a.ip)).toEqual(['10.213.0.5']);
    expect(ep.subsets[0].notReadyAddresses).toBeUndefined();
  });

  it('publishNotReadyAddresses makes every pod ready, and a headless Service labels its slices', async () => {
    await f.seed([`${NS}/services`, service('db', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ port: 5432 }] })]);
    await seedPod('db-0', '10.213.0.7', { ready: false });
    await reconcileEndpointSlices('default/db', f.ctx);
    const [slice] = await slices();
    expect(slice.metadata.labels['service.kubernetes.io/headless']).toBe('');
    expect(slice.endpoints[0].conditions).toEqual({ ready: true, serving: true, terminating: false });
    expect(slice.ports).toEqual([{ name: '', port: 5432, protocol: 'TCP' }]);
    expect((await f.get(`${NS}/endpoints/db`)).subsets[0].addresses[0].ip).toBe('10.213.0.7');
  });

  it('splits pods whose named port resolves differently into separate slices, and leaves an empty placeholder when none match', async () => {
    await f.seed([`${NS}/services`, service('web')]);
    await seedPod('web-a', '10.213.0.5', { port: 8080 });
    await seedPod('web-b', '10.213.0.6', { port: 9090 });
    await reconcileEndpointSlices('default/web', f.ctx);
    expect((await slices()).map((s) => s.ports[0].port).sort()).toEqual([8080, 9090]);
    await f.harness.json('DELETE', `${NS}/pods/web-a?gracePeriodSeconds=0`);
    await f.harness.json('DELETE', `${NS}/pods/web-b?gracePeriodSeconds=0`);
    f.takeWrites();
    await reconcileEndpointSlices('default/web', f.ctx);
    const left = await slices();
    expect(left).toHaveLength(1);
    expect(left[0].endpoints).toEqual([]);
    expect(left[0].ports).toBeUndefined();
    expect((await f.get(`${NS}/endpoints/web`)).subsets).toBeUndefined();
  });

  it('removes the slices and Endpoints of a deleted Service, and leaves a selector-less Service alone', async () => {
    await f.seed([`${NS}/services`, service('web')], [`${NS}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } }]);
    await seedPod('web-a', '10.213.0.5');
    await reconcileEndpointSlices('default/web', f.ctx);
    await f.harness.json('DELETE', `${NS}/services/web`);
    f.takeWrites();
    await reconcileEndpointSlices('default/web', f.ctx);
    expect(f.takeWrites().map((w) => w.replace(/web-[a-z0-9]{5}$/, 'web-*'))).toEqual([`DELETE ${SLICES}/web-*`, `DELETE ${NS}/endpoints/web`]);
    await reconcileEndpointSlices('default/ext', f.ctx);
    expect(f.takeWrites()).toEqual([]);
    expect(await slices()).toEqual([]);
  });
});

describe('endpointSliceKeys', () => {
  it('maps pod changes to the Services selecting either version of the pod', () => {
    const index = new ServiceSelectorIndex();
    const svc = { kind: 'Service', metadata: { namespace: 'default', name: 'web' }, spec: { selector: { app: 'web' } } };
    expect(endpointSliceKeys({ key: 'k', type: 'put', value: svc, revision: 1 }, index)).toEqual(['default/web']);
    const moved = { kind: 'Pod', metadata: { namespace: 'default', name: 'p', labels: { app: 'other' } } };
    const before = { kind: 'Pod', metadata: { namespace: 'default', name: 'p', labels: { app: 'web' } } };
    expect(endpointSliceKeys({ key: 'k', type: 'put', value: moved, prevValue: before, revision: 2 }, index)).toEqual(['default/web']);
    expect(endpointSliceKeys({ key: 'k', type: 'put', value: moved, revision: 3 }, index)).toEqual([]);
    expect(endpointSliceKeys({ key: 'k', type: 'delete', value: svc, revision: 4 }, index)).toEqual(['default/web']);
    expect(endpointSliceKeys({ key: 'k', type: 'put', value: before, revision: 5 }, index)).toEqual([]);
  });
});
