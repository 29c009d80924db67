/**
 * Service addresses: a cluster IP from the service CIDR (default 10.96.0.0/12; the first address
 * belongs to the `kubernetes` Service) and node ports from 30000–32767, taken through the store
 * allocators (allocator.ts) when a Service is created, kept or adjusted on update, released on
 * delete. Errors are upstream's (pkg/registry/core/service/storage/alloc.go): a taken or
 * out-of-range cluster IP is `spec.clusterIPs: Invalid value: [...]: failed to allocate IP <ip>:
 * provided IP is already allocated`, a node port `spec.ports[i].nodePort: Invalid value: <port>:
 * provided port is already allocated`.
 */
import { internalError, invalid } from '../api/status.js';
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import type { Store } from '../store/store.js';
import {
  allocateNext, allocateValue, AllocationError, nodePortRange, releaseValue, serviceCIDRRange, type Owner, type Range,
} from './allocator.js';

/** ServiceNetwork is the cluster's service address configuration. */
export interface ServiceNetwork {
  serviceCIDR: Range;
  nodePorts: Range;
}

/** DEFAULT_SERVICE_CIDR is kube-apiserver's usual `--service-cluster-ip-range`. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

/** serviceNetwork builds the configuration (defaults: 10.96.0.0/12 and 30000-32767); throws on malformed settings. */
export function serviceNetwork(options: { serviceCIDR?: string; nodePortRange?: string } = {}): ServiceNetwork {
  return { serviceCIDR: serviceCIDRRange(options.serviceCIDR || DEFAULT_SERVICE_CIDR), nodePorts: nodePortRange(options.nodePortRange || undefined) };
}

/** kubernetesServiceIP is the first address of the service CIDR (the `default/kubernetes` Service's). */
export function kubernetesServiceIP(net: ServiceNetwork): string {
  return net.serviceCIDR.render(net.serviceCIDR.first);
}

type Port = Record<string, unknown>;

function specOf(svc: KubeObject): Record<string, unknown> {
  return isRecord(svc.spec) ? svc.spec : (svc.spec = {});
}

function portsOf(spec: Record<string, unknown>): Port[] {
  return Array.isArray(spec.ports) ? spec.ports.filter(isRecord) : [];
}

function ownerOfService(svc: Readonly<KubeObject>): Owner {
  const meta = readMetadata(svc);
  return { group: '', resource: 'services', namespace: String(meta.namespace ?? ''), name: String(meta.name ?? '') };
}

function wantsNodePorts(spec: Record<string, unknown>): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

/** clusterIPOf is the Service's allocatable cluster IP (none for headless and ExternalName Services). */
function clusterIPOf(svc: Readonly<KubeObject>): string | undefined {
  const spec = isRecord(svc.spec) ? svc.spec : {};
  const ip = typeof spec.clusterIP === 'string' ? spec.clusterIP : undefined;
  return spec.type === 'ExternalName' || !ip || ip === 'None' ? undefined : ip;
}

function nodePortsOf(svc: Readonly<KubeObject>): number[] {
  const spec = isRecord(svc.spec) ? svc.spec : {};
  return wantsNodePorts(spec) ? portsOf(spec).map((p) => p.nodePort).filter((n): n is number => typeof n === 'number' && n > 0) : [];
}

function ipError(svc: KubeObject, ip: string, err: AllocationError) {
  const spec = specOf(svc);
  return invalid('', 'Service', String(readMetadata(svc).name ?? ''), [{
    reason: 'FieldValueInvalid', field: 'spec.clusterIPs',
    message: `Invalid value: ${JSON.stringify(spec.clusterIPs ?? [ip])}: failed to allocate IP ${ip}: ${err.message}`,
  }]);
}

function portError(svc: KubeObject, index: number, port: number, err: AllocationError) {
  return invalid('', 'Service', String(readMetadata(svc).name ?? ''), [{
    reason: 'FieldValueInvalid', field: `spec.ports[${index}].nodePort`, message: `Invalid value: ${port}: ${err.message}`,
  }]);
}

/** Undo releases what an allocation took (after a failed store write). */
export type Undo = () => Promise<void>;

async function allocateClusterIP(store: Store, net: ServiceNetwork, svc: KubeObject, owner: Owner, dryRun: boolean, taken: Array<() => Promise<void>>): Promise<void> {
  const spec = specOf(svc);
  if (spec.type === 'ExternalName') return;
  if ((spec.clusterIP === undefined || spec.clusterIP === '') && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string') spec.clusterIP = spec.clusterIPs[0];
  if (spec.clusterIP === 'None') {
    spec.clusterIPs = ['None'];
    return;
  }
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    try {
      spec.clusterIP = await allocateNext(store, net.serviceCIDR, owner, { dryRun });
    } catch (err) {
      if (err instanceof AllocationError) throw internalError(new Error(`failed to allocate a serviceIP: ${err.message}`));
      throw err;
    }
  } else {
    const ip = String(spec.clusterIP);
    try {
      await allocateValue(store, net.serviceCIDR, ip, owner, { dryRun });
    } catch (err) {
      if (err instanceof AllocationError) throw ipError(svc, ip, err);
      throw err;
    }
  }
  spec.clusterIPs = [spec.clusterIP];
  const ip = String(spec.clusterIP);
  if (!dryRun) taken.push(() => releaseValue(store, net.serviceCIDR, ip, owner));
}

async function allocateNodePorts(
  store: Store, net: ServiceNetwork, svc: KubeObject, owner: Owner, dryRun: boolean, taken: Array<() => Promise<void>>, held: ReadonlySet<number> = new Set(),
): Promise<void> {
  const spec = specOf(svc);
  if (!wantsNodePorts(spec)) return;
  const ports = portsOf(spec);
  for (const [i, p] of ports.entries()) {
    const given = typeof p.nodePort === 'number' && p.nodePort > 0 ? p.nodePort : undefined;
    if (given !== undefined && held.has(given)) continue;
    try {
      if (given !== undefined) await allocateValue(store, net.nodePorts, String(given), owner, { dryRun });
      else p.nodePort = Number(await allocateNext(store, net.nodePorts, owner, { dryRun }));
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      if (given === undefined) throw internalError(new Error(`failed to allocate a nodePort: ${err.message}`));
      throw portError(svc, i, given, err);
    }
    const port = String(p.nodePort);
    if (!dryRun) taken.push(() => releaseValue(store, net.nodePorts, port, owner));
  }
}

/**
 * allocateServiceAddresses fills and takes the Service's cluster IP and node ports (the ones the
 * client gave, or free ones). Mutates `svc`. Returns an Undo for when storing the Service fails;
 * on its own failure it has already released what it took. `dryRun` checks without taking.
 */
export async function allocateServiceAddresses(store: Store, net: ServiceNetwork, svc: KubeObject, options: { dryRun?: boolean } = {}): Promise<Undo> {
  const owner = ownerOfService(svc);
  const taken: Array<() => Promise<void>> = [];
  const undo: Undo = async () => {
    for (const release of taken) await release();
  };
  try {
    await allocateClusterIP(store, net, svc, owner, options.dryRun ?? false, taken);
    await allocateNodePorts(store, net, svc, owner, options.dryRun ?? false, taken);
  } catch (err) {
    await undo();
    throw err;
  }
  return undo;
}

/** releaseServiceAddresses frees the Service's cluster IP and node ports (idempotent). */
export async function releaseServiceAddresses(store: Store, net: ServiceNetwork, svc: Readonly<KubeObject>): Promise<void> {
  const owner = ownerOfService(svc);
  const ip = clusterIPOf(svc);
  if (ip) await releaseValue(store, net.serviceCIDR, ip, owner);
  for (const port of nodePortsOf(svc)) await releaseValue(store, net.nodePorts, String(port), owner);
}

/**
 * carryAllocatedValues keeps, on update, the cluster IP and the node ports the client left out
 * (upstream's patchAllocatedValues): a port keeps its node port when its name (or, unnamed, its
 * port number and protocol) matches. Mutates `next`.
 */
export function carryAllocatedValues(current: Readonly<KubeObject>, next: KubeObject): void {
  const spec = specOf(next);
  const old = isRecord(current.spec) ? current.spec : {};
  if ((spec.clusterIP === undefined || spec.clusterIP === '') && spec.type !== 'ExternalName' && typeof old.clusterIP === 'string') {
    spec.clusterIP = old.clusterIP;
    if (Array.isArray(old.clusterIPs)) spec.clusterIPs = [...old.clusterIPs];
  }
  if (!wantsNodePorts(spec) || !wantsNodePorts(old)) return;
  const oldPorts = portsOf(old);
  for (const p of portsOf(spec)) {
    if (typeof p.nodePort === 'number' && p.nodePort > 0) continue;
    const match = oldPorts.find((o) => (p.name ? o.name === p.name : o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP')));
    if (match && typeof match.nodePort === 'number') p.nodePort = match.nodePort;
  }
}

/**
 * updateServiceAddresses takes what `next` holds that `current` did not (a new node port, a type
 * change to NodePort) before the write; the returned `commit` releases what `next` no longer holds,
 * to run once the write succeeded, and `undo` releases the new ones if it failed.
 */
export async function updateServiceAddresses(store: Store, net: ServiceNetwork, current: Readonly<KubeObject>, next: KubeObject, options: { dryRun?: boolean } = {}): Promise<{ undo: Undo; commit: Undo }> {
  const owner = ownerOfService(next);
  const taken: Array<() => Promise<void>> = [];
  const dryRun = options.dryRun ?? false;
  const undo: Undo = async () => {
    for (const release of taken) await release();
  };
  try {
    if (clusterIPOf(next) !== clusterIPOf(current)) await allocateClusterIP(store, net, next, owner, dryRun, taken);
    await allocateNodePorts(store, net, next, owner, dryRun, taken, new Set(nodePortsOf(current)));
  } catch (err) {
    await undo();
    throw err;
  }
  const commit: Undo = async () => {
    if (dryRun) return;
    const keepIP = clusterIPOf(next);
    const oldIP = clusterIPOf(current);
    if (oldIP && oldIP !== keepIP) await releaseValue(store, net.serviceCIDR, oldIP, owner);
    const keep = new Set(nodePortsOf(next));
    for (const port of nodePortsOf(current)) if (!keep.has(port)) await releaseValue(store, net.nodePorts, String(port), owner);
  };
  return { undo, commit };
}
