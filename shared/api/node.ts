/**
 * Node spec rules for pod CIDRs, as upstream's: v1's `spec.podCIDR` is `spec.podCIDRs[0]` (the
 * v1 ⇄ internal conversion: podCIDRs win when both are given), each entry is a CIDR, at most one
 * per IP family, and once set they never change (`node updates may not change podCIDR except from
 * "" to valid`): that last rule is what lets concurrent allocators race safely, as only the first
 * patch that sets them is accepted.
 */
import { isIP } from 'node:net';
import { isRecord, type KubeObject } from './objects.js';
import type { StatusCause } from './status.js';

/** podCIDRsOf reads a Node's pod CIDRs (podCIDRs, else podCIDR; empty when it has none). */
export function podCIDRsOf(node: Readonly<KubeObject>): string[] {
  const spec = isRecord(node.spec) ? node.spec : {};
  if (Array.isArray(spec.podCIDRs) && spec.podCIDRs.length > 0) return spec.podCIDRs.filter((c): c is string => typeof c === 'string');
  return typeof spec.podCIDR === 'string' && spec.podCIDR !== '' ? [spec.podCIDR] : [];
}

/** defaultNode makes `spec.podCIDR` and `spec.podCIDRs` agree (the v1 conversion's rule: podCIDRs win). */
export function defaultNode(node: KubeObject): void {
  if (!isRecord(node.spec)) return;
  const cidrs = podCIDRsOf(node);
  if (cidrs.length === 0) return;
  node.spec.podCIDRs = cidrs;
  node.spec.podCIDR = cidrs[0];
}

/** cidrFamily is 4 or 6 for a CIDR (`10.244.1.0/24`), 0 when it is not one. */
export function cidrFamily(cidr: string): 0 | 4 | 6 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const family = m ? isIP(m[1]) : 0;
  if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) return 0;
  return family as 4 | 6;
}

/** validateNodeSpec lists the problems of a Node's pod CIDRs. */
export function validateNodeSpec(node: Readonly<KubeObject>): StatusCause[] {
  const causes: StatusCause[] = [];
  const families = new Set<number>();
  podCIDRsOf(node).forEach((cidr, i) => {
    const family = cidrFamily(cidr);
    if (family === 0) causes.push({ reason: 'FieldValueInvalid', field: `spec.podCIDRs[${i}]`, message: `Invalid value: "${cidr}": invalid CIDR address: ${cidr}` });
    else if (families.has(family)) causes.push({ reason: 'FieldValueInvalid', field: 'spec.podCIDRs', message: `Invalid value: ${JSON.stringify(podCIDRsOf(node))}: may specify no more than one CIDR for each IP family` });
    families.add(family);
  });
  return causes;
}

/** nodeUpdateCauses refuses a change of pod CIDRs once they are set (an allocator may set them once). */
export function nodeUpdateCauses(node: Readonly<KubeObject>, old: Readonly<KubeObject>): StatusCause[] {
  const before = podCIDRsOf(old);
  const after = podCIDRsOf(node);
  if (before.length === 0 || (before.length === after.length && before.every((c, i) => c === after[i]))) return [];
  return [{ reason: 'FieldValueForbidden', field: 'spec.podCIDRs', message: 'Forbidden: node updates may not change podCIDR except from "" to valid' }];
}
