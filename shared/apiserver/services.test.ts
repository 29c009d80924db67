import { afterEach, describe, expect, it } from '@jest/globals';
import { startApiServer, type Harness } from '../../test/support/apiserver.js';
import { IP_PREFIX, NODE_PORT_PREFIX, serviceCIDRRange } from './allocator.js';
import { repairAllocations } from './bootstrap-services.js';

const SVCS = '/api/v1/namespaces/default/services';

function service(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('service address allocation', () => {
  it('never hands out an address twice under 50 concurrent creates, in a small CIDR too', async () => {
    h = await startApiServer({ serviceNetwork: { serviceCIDR: '10.0.0.0/26' } });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => h!.json('POST', SVCS, service(`s${i}`, { type: 'NodePort' }))));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(201));
    const ips = results.map((r) => r.body.spec.clusterIP as string);
    const ports = results.map((r) => r.body.spec.ports[0].nodePort as number);
    expect(new Set(ips).size).toBe(50);
    expect(new Set(ports).size).toBe(50);
    const range = serviceCIDRRange('10.0.0.0/26');
    for (const ip of ips) expect(range.parse(ip)! >= range.first && range.parse(ip)! <= range.last).toBe(true);
    for (const p of ports) expect(p >= 30000 && p <= 32767).toBe(true);
    // The `kubernetes` Service holds the first address; 50 + 1 of 62.
    expect(ips).not.toContain('10.0.0.1');
    expect((await h.store.list(IP_PREFIX)).items).toHaveLength(51);
    expect((await h.store.list(NODE_PORT_PREFIX)).items).toHaveLength(50);
  });

  it('answers 422 with upstream messages for a taken or out-of-range cluster IP and node port', async () => {
    h = await startApiServer();
    expect((await h.json('POST', SVCS, service('a', { clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }))).status).toBe(201);
    const taken = await h.json('POST', SVCS, service('b', { clusterIP: '10.96.0.10' }));
    expect(taken.status).toBe(422);
    expect(taken.body.reason).toBe('Invalid');
    expect(taken.body.message).toBe('Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated');
    const outside = await h.json('POST', SVCS, service('c', { clusterIP: '192.168.1.1' }));
    expect(outside.body.message).toBe('Service "c" is invalid: spec.clusterIPs: Invalid value: ["192.168.1.1"]: failed to allocate IP 192.168.1.1: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12');
    const port = await h.json('POST', SVCS, service('d', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    expect(port.status).toBe(422);
    expect(port.body.message).toBe('Service "d" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    const badPort = await h.json('POST', SVCS, service('e', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }));
    expect(badPort.body.message).toBe('Service "e" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767');
    // A failed create takes nothing: e's cluster IP was released when its node port failed.
    expect((await h.store.list(IP_PREFIX)).items.map((kv) => kv.key)).toEqual([`${IP_PREFIX}10.96.0.1`, `${IP_PREFIX}10.96.0.10`]);
  });

  it('releases addresses on delete and lets another Service take them', async () => {
    h = await startApiServer();
    await h.json('POST', SVCS, service('a', { clusterIP: '10.96.0.20', type: 'NodePort', ports: [{ port: 80, nodePort: 30100 }] }));
    expect((await h.json('DELETE', `${SVCS}/a`)).status).toBe(200);
    expect(await h.store.get(`${IP_PREFIX}10.96.0.20`)).toBeUndefined();
    expect(await h.store.get(`${NODE_PORT_PREFIX}30100`)).toBeUndefined();
    expect((await h.json('POST', SVCS, service('b', { clusterIP: '10.96.0.20', type: 'NodePort', ports: [{ port: 80, nodePort: 30100 }] }))).status).toBe(201);
  });

  it('keeps addresses across an update that omits them, allocates on a type change and releases on the way back', async () => {
    h = await startApiServer();
    const created = (await h.json('POST', SVCS, service('a'))).body;
    const toNodePort = await h.json('PATCH', `${SVCS}/a`, { spec: { type: 'NodePort' } }, { 'content-type': 'application/merge-patch+json' });
    expect(toNodePort.status).toBe(200);
    expect(toNodePort.body.spec.clusterIP).toBe(created.spec.clusterIP);
    const nodePort = toNodePort.body.spec.ports[0].nodePort as number;
    expect(await h.store.get(`${NODE_PORT_PREFIX}${nodePort}`)).toBeDefined();
    const replaced = await h.json('PUT', `${SVCS}/a`, { ...toNodePort.body, spec: { ...toNodePort.body.spec, clusterIP: undefined, clusterIPs: undefined, ports: [{ port: 80 }] } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.spec.clusterIP).toBe(created.spec.clusterIP);
    expect(replaced.body.spec.ports[0].nodePort).toBe(nodePort);
    const back = await h.json('PATCH', `${SVCS}/a`, { spec: { type: 'ClusterIP', ports: [{ port: 80, nodePort: null }] } }, { 'content-type': 'application/merge-patch+json' });
    expect(back.status).toBe(200);
    expect(await h.store.get(`${NODE_PORT_PREFIX}${nodePort}`)).toBeUndefined();
  });

  it('creates the kubernetes Service on the first address with endpoints at the advertised address', async () => {
    h = await startApiServer({ advertise: { ip: '192.0.2.10', port: 6443 } });
    const svc = await h.json('GET', `${SVCS}/kubernetes`);
    expect(svc.body.spec).toMatchObject({ clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] });
    const ep = await h.json('GET', '/api/v1/namespaces/default/endpoints/kubernetes');
    expect(ep.body.subsets).toEqual([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
    const slice = await h.json('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
    expect(slice.body.endpoints).toEqual([{ addresses: ['192.0.2.10'], conditions: { ready: true } }]);
  });

  it('repairs: allocates what a Service holds without an allocation and releases leaked allocations past the grace', async () => {
    h = await startApiServer();
    const svc = (await h.json('POST', SVCS, service('a', { clusterIP: '10.96.0.30' }))).body;
    await h.store.delete(`${IP_PREFIX}10.96.0.30`);
    await h.store.create(`${IP_PREFIX}10.96.0.31`, { kind: 'IPAddress', metadata: { name: '10.96.0.31', creationTimestamp: '2020-01-01T00:00:00Z' }, spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'gone' } } });
    await h.store.create(`${IP_PREFIX}10.96.0.32`, { kind: 'IPAddress', metadata: { name: '10.96.0.32', creationTimestamp: new Date().toISOString() }, spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'inflight' } } });
    const report = await repairAllocations(h.store, serviceCIDRRange('10.96.0.0/12'), true);
    expect(report).toEqual({ allocated: ['10.96.0.30'], released: ['10.96.0.31'], conflicts: [] });
    expect(svc.spec.clusterIP).toBe('10.96.0.30');
    expect(await h.store.get(`${IP_PREFIX}10.96.0.32`)).toBeDefined();
  });
});
