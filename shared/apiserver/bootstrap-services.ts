/**
 * What the API server keeps of Services on its own, once per process before it serves: the
 * `default/kubernetes` Service (the first address of the service CIDR, port 443 named `https`)
 * with its Endpoints and EndpointSlice pointing at this API server (kube-apiserver's bootstrap
 * controller), and the repair of the address allocations (upstream's ipallocator and
 * portallocator repair loops): a Service's address with no allocation gets one, and an allocation
 * whose Service is gone or holds another value is released.
 */
import { findResourceByKind, storageKey } from '../api/resources.js';
import { applyDefaults } from '../api/defaults.js';
import { isRecord, newUid, readMetadata, rfc3339Now, type KubeObject } from '../api/objects.js';
import { isStoreError, type Store } from '../store/store.js';
import { allocateValue, AllocationError, repairRange, type Range, type RepairReport } from './allocator.js';
import { kubernetesServiceIP, type ServiceNetwork } from './services.js';

const SERVICES = findResourceByKind('v1', 'Service')!;
const ENDPOINTS = findResourceByKind('v1', 'Endpoints')!;
const SLICES = findResourceByKind('discovery.k8s.io/v1', 'EndpointSlice')!;

/** Advertise is where pods and nodes reach this API server. */
export interface Advertise {
  ip: string;
  port: number;
}

async function createIfAbsent(store: Store, key: string, value: Record<string, unknown>): Promise<void> {
  try {
    await store.create(key, value);
  } catch (err) {
    if (!isStoreError(err, 'AlreadyExists')) throw err;
  }
}

/** putIfChanged writes `value` under `key` unless the stored subset (`compare`) already equals it. */
async function putIfChanged(store: Store, key: string, value: Record<string, unknown>, compare: (v: Record<string, unknown>) => unknown): Promise<void> {
  const kv = await store.get(key);
  if (!kv) return createIfAbsent(store, key, value);
  if (JSON.stringify(compare(kv.value)) === JSON.stringify(compare(value))) return;
  const next = { ...value, metadata: { ...(kv.value.metadata as object), ...(value.metadata as object), uid: readMetadata(kv.value).uid, creationTimestamp: readMetadata(kv.value).creationTimestamp } };
  try {
    await store.update(key, next, kv.modRevision);
  } catch (err) {
    if (!isStoreError(err, 'Conflict')) throw err;
  }
}

function kubernetesEndpoints(advertise: Advertise, now: Date): { endpoints: KubeObject; slice: KubeObject } {
  const meta = { namespace: 'default', uid: newUid(), creationTimestamp: rfc3339Now(now) };
  const endpoints: KubeObject = {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { ...meta, name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: advertise.ip }], ports: [{ name: 'https', port: advertise.port, protocol: 'TCP' }] }],
  };
  const slice: KubeObject = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { ...meta, uid: newUid(), name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' }, generation: 1 },
    addressType: 'IPv4',
    endpoints: [{ addresses: [advertise.ip], conditions: { ready: true } }],
    ports: [{ name: 'https', port: advertise.port, protocol: 'TCP' }],
  };
  return { endpoints, slice };
}

/** ensureKubernetesService creates `default/kubernetes` (and, with `advertise`, keeps its endpoints on it). Safe to race. */
export async function ensureKubernetesService(store: Store, net: ServiceNetwork, advertise: Advertise | undefined, now = new Date()): Promise<void> {
  const key = storageKey(SERVICES, 'default', 'kubernetes');
  if (!(await store.get(key))) {
    const ip = kubernetesServiceIP(net);
    const owner = { group: '', resource: 'services', namespace: 'default', name: 'kubernetes' };
    try {
      await allocateValue(store, net.serviceCIDR, ip, owner, { now });
    } catch (err) {
      // Someone else's: repair reports it; the Service is still created (as upstream, which logs and goes on).
      if (!(err instanceof AllocationError)) throw err;
    }
    const svc: KubeObject = {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', uid: newUid(), creationTimestamp: rfc3339Now(now), labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: advertise?.port ?? 443 }], sessionAffinity: 'None' },
    };
    applyDefaults('Service', svc);
    await createIfAbsent(store, key, svc);
  }
  if (!advertise) return;
  const { endpoints, slice } = kubernetesEndpoints(advertise, now);
  await putIfChanged(store, storageKey(ENDPOINTS, 'default', 'kubernetes'), endpoints, (v) => v.subsets);
  await putIfChanged(store, storageKey(SLICES, 'default', 'kubernetes'), slice, (v) => [v.endpoints, v.ports]);
}

function heldValues(svc: Readonly<KubeObject>, range: Range, isIP: boolean): string[] {
  const spec = isRecord(svc.spec) ? svc.spec : {};
  if (isIP) {
    const ip = spec.clusterIP;
    return spec.type !== 'ExternalName' && typeof ip === 'string' && ip !== '' && ip !== 'None' ? [ip] : [];
  }
  if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') return [];
  const ports = Array.isArray(spec.ports) ? spec.ports.filter(isRecord) : [];
  return ports.map((p) => p.nodePort).filter((n) => typeof n === 'number' && n >= range.first && n <= range.last).map(String);
}

/**
 * repairAllocations reconciles one range with the Services (allocator.ts `repairRange`): what a
 * Service holds without an allocation is allocated, allocations no Service holds are released.
 */
export async function repairAllocations(store: Store, range: Range, isIP: boolean, now = new Date()): Promise<RepairReport> {
  const services = (await store.list(storageKey(SERVICES))).items.map((kv) => kv.value as KubeObject);
  const held = services.flatMap((svc) => {
    const { namespace, name } = readMetadata(svc);
    const owner = { group: '', resource: 'services', namespace: String(namespace), name: String(name) };
    return heldValues(svc, range, isIP).map((value) => ({ value, owner }));
  });
  return repairRange(store, range, held, now);
}

/** bootstrapServices runs at API server start: the kubernetes Service, then both repairs. */
export async function bootstrapServices(store: Store, net: ServiceNetwork, advertise: Advertise | undefined, now = new Date()): Promise<void> {
  await ensureKubernetesService(store, net, advertise, now);
  await repairAllocations(store, net.serviceCIDR, true, now);
  await repairAllocations(store, net.nodePorts, false, now);
}
