/**
 * Service address allocation: a cluster IP from the service CIDR (10.96.0.0/12; .1 is reserved
 * for the `kubernetes` service) and node ports from 30000–32767, picked at random. Collisions
 * are possible but rare (about 1 in a million per pair); a real allocator (a bitmap in the store)
 * is left for when services route traffic.
 */
import { isRecord, type KubeObject } from '../api/objects.js';

function randomClusterIP(): string {
  // 10.96.0.0/12 spans 10.96.0.0–10.111.255.255; skip network, .1 and broadcast.
  const offset = 2 + Math.floor(Math.random() * (2 ** 20 - 3));
  return `10.${96 + (offset >> 16)}.${(offset >> 8) & 255}.${offset & 255}`;
}

/** allocateServiceAddresses fills spec.clusterIP(s) and node ports the client left empty. Mutates `svc`. */
export function allocateServiceAddresses(svc: KubeObject): void {
  const spec = isRecord(svc.spec) ? svc.spec : (svc.spec = {});
  if (spec.type === 'ExternalName') return;
  if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = randomClusterIP();
  if (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0) spec.clusterIPs = [spec.clusterIP];
  if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && Array.isArray(spec.ports)) {
    for (const p of spec.ports) if (isRecord(p) && !p.nodePort) p.nodePort = 30000 + Math.floor(Math.random() * 2768);
  }
}
