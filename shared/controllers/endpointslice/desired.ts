/**
 * What a Service's endpoints should be, computed from the Service and its pods (pure functions):
 * the EndpointSlice endpoints grouped by resolved ports (upstream's endpointslice reconciler, one
 * slice per distinct port mapping, at most MAX_ENDPOINTS_PER_SLICE endpoints each) and the
 * legacy Endpoints subsets (upstream's endpoints controller). Conditions follow
 * pkg/controller/util/endpointslice: `serving` is the pod's readiness, `terminating` its
 * deletionTimestamp, `ready` is serving and not terminating; publishNotReadyAddresses makes both
 * ready and serving true.
 */
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';

/** MAX_ENDPOINTS_PER_SLICE is kube-controller-manager's default `--max-endpoints-per-slice`. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** MANAGED_BY is the value of `endpointslice.kubernetes.io/managed-by` on the slices this controller owns. */
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
/** SERVICE_NAME_LABEL ties a slice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** MANAGED_BY_LABEL says which controller owns a slice. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** HEADLESS_LABEL marks the slices and Endpoints of a Service without a cluster IP. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** SlicePort is one EndpointSlice port. */
export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** SliceEndpoint is one EndpointSlice endpoint. */
export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

/** PortGroup is a set of endpoints sharing one port mapping. */
export interface PortGroup {
  ports: SlicePort[];
  endpoints: SliceEndpoint[];
}

type Loose = Record<string, unknown>;

function isPodReady(pod: Readonly<KubeObject>): boolean {
  const conditions = isRecord(pod.status) && Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  return conditions.some((c) => isRecord(c) && c.type === 'Ready' && c.status === 'True');
}

function podIP(pod: Readonly<KubeObject>): string | undefined {
  const status = isRecord(pod.status) ? pod.status : {};
  return typeof status.podIP === 'string' && status.podIP !== '' ? status.podIP : undefined;
}

/** shouldPodBeInEndpoints is upstream's ShouldPodBeInEndpoints: a pod with an IP, not finished, and (for Endpoints) not terminating unless asked. */
export function shouldPodBeInEndpoints(pod: Readonly<KubeObject>, includeTerminating: boolean): boolean {
  const phase = isRecord(pod.status) ? pod.status.phase : undefined;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!podIP(pod)) return false;
  if (!includeTerminating && readMetadata(pod).deletionTimestamp !== undefined) return false;
  return true;
}

/** findPort resolves a Service port's targetPort in a pod: a number as is, a name through the pod's container ports. */
export function findPort(pod: Readonly<KubeObject>, servicePort: Loose): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  const asNumber = Number(target);
  if (typeof target === 'string' && /^\d+$/.test(target)) return asNumber;
  const protocol = servicePort.protocol ?? 'TCP';
  const containers = isRecord(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers.filter(isRecord) : [];
  for (const c of containers) {
    for (const p of Array.isArray(c.ports) ? c.ports.filter(isRecord) : []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol && typeof p.containerPort === 'number') return p.containerPort;
    }
  }
  return undefined;
}

function endpointOf(service: Readonly<KubeObject>, pod: Readonly<KubeObject>): SliceEndpoint {
  const spec = isRecord(service.spec) ? service.spec : {};
  const podSpec = isRecord(pod.spec) ? pod.spec : {};
  const meta = readMetadata(pod);
  const publish = spec.publishNotReadyAddresses === true;
  const terminating = meta.deletionTimestamp !== undefined;
  const serving = publish || isPodReady(pod);
  const endpoint: SliceEndpoint = {
    addresses: [podIP(pod)!],
    conditions: { ready: serving && (publish || !terminating), serving, terminating },
    targetRef: { kind: 'Pod', namespace: String(meta.namespace), name: String(meta.name), uid: String(meta.uid) },
  };
  if (typeof podSpec.hostname === 'string' && podSpec.subdomain === readMetadata(service).name) endpoint.hostname = podSpec.hostname;
  if (typeof podSpec.nodeName === 'string') endpoint.nodeName = podSpec.nodeName;
  return endpoint;
}

/** portsFor resolves every Service port for one pod (a named port the pod lacks is left out, as upstream). */
function portsFor(service: Readonly<KubeObject>, pod: Readonly<KubeObject>): SlicePort[] {
  const spec = isRecord(service.spec) ? service.spec : {};
  const ports: SlicePort[] = [];
  for (const sp of Array.isArray(spec.ports) ? spec.ports.filter(isRecord) : []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: typeof sp.name === 'string' ? sp.name : '', port, protocol: String(sp.protocol ?? 'TCP') };
    if (typeof sp.appProtocol === 'string') p.appProtocol = sp.appProtocol;
    ports.push(p);
  }
  return ports;
}

/** portsKey identifies a port mapping (order-independent). */
export function portsKey(ports: readonly SlicePort[]): string {
  return JSON.stringify([...ports].map((p) => [p.name, p.port, p.protocol, p.appProtocol ?? '']).sort());
}

/**
 * desiredGroups computes a Service's slice contents: pods grouped by resolved ports, sorted by
 * pod name, in chunks of at most MAX_ENDPOINTS_PER_SLICE. Terminating pods stay (with their
 * conditions) as upstream's slices keep them.
 */
export function desiredGroups(service: Readonly<KubeObject>, pods: readonly Readonly<KubeObject>[]): PortGroup[] {
  const groups = new Map<string, PortGroup>();
  const sorted = [...pods].filter((p) => shouldPodBeInEndpoints(p, true)).sort((a, b) => String(readMetadata(a).name).localeCompare(String(readMetadata(b).name)));
  for (const pod of sorted) {
    const ports = portsFor(service, pod);
    const key = portsKey(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports, endpoints: [] }));
    group.endpoints.push(endpointOf(service, pod));
  }
  const chunks: PortGroup[] = [];
  for (const g of groups.values()) {
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) chunks.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  return chunks;
}

/**
 * desiredSubsets computes the legacy Endpoints' subsets: ready addresses and notReadyAddresses per
 * port mapping, terminating pods left out (unless publishNotReadyAddresses), sorted by IP.
 */
export function desiredSubsets(service: Readonly<KubeObject>, pods: readonly Readonly<KubeObject>[]): Loose[] {
  const spec = isRecord(service.spec) ? service.spec : {};
  const publish = spec.publishNotReadyAddresses === true;
  const subsets = new Map<string, { ports: SlicePort[]; addresses: Loose[]; notReadyAddresses: Loose[] }>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publish)) continue;
    const ports = portsFor(service, pod);
    const key = portsKey(ports);
    let subset = subsets.get(key);
    if (!subset) subsets.set(key, (subset = { ports, addresses: [], notReadyAddresses: [] }));
    const e = endpointOf(service, pod);
    const address: Loose = { ip: e.addresses[0], ...(e.hostname ? { hostname: e.hostname } : {}), ...(e.nodeName ? { nodeName: e.nodeName } : {}), targetRef: e.targetRef };
    (publish || isPodReady(pod) ? subset.addresses : subset.notReadyAddresses).push(address);
  }
  const byIP = (a: Loose, b: Loose) => String(a.ip).localeCompare(String(b.ip), undefined, { numeric: true });
  return [...subsets.values()].map((s) => {
    const out: Loose = {};
    if (s.addresses.length) out.addresses = s.addresses.sort(byIP);
    if (s.notReadyAddresses.length) out.notReadyAddresses = s.notReadyAddresses.sort(byIP);
    if (s.ports.length) out.ports = s.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
    return out;
  });
}
