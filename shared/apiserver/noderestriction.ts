/**
 * NodeRestriction admission (plugin/pkg/admission/noderestriction): what a node identity may put
 * in the objects it writes, which the authorizer cannot see. A node may create or update only its
 * own Node (name = the `<name>` of its user `system:node:<name>`) and only its own Lease in
 * `kube-node-lease`; it may not add, change or remove labels under kubernetes.io / k8s.io other
 * than the kubelet's own (kubernetes.io/hostname, os, arch, instance type, zone and region, and
 * the kubelet.kubernetes.io/ and node.kubernetes.io/ prefixes), nor any under
 * node-restriction.kubernetes.io — so no `node-role.kubernetes.io/*`; and, stricter than upstream,
 * its `kubernetes.io/hostname` label must be its own name, so it cannot pose as another node
 * to a hostname-keyed selector or spread constraint. Once created, its taints are the control
 * plane's: a node may not change them. Refusals are 403 Forbidden, worded as upstream's.
 */
import { ApiError, qualifiedResource } from '../api/status.js';
import { deepEqual, isRecord, readMetadata } from '../api/objects.js';
import type { Admission, HandlerContext } from './context.js';
import { NODE_LEASE_NAMESPACE, nodeNameOf } from './authorize.js';

/** KUBELET_LABELS are the kubernetes.io labels a kubelet may set on its Node (k8s.io/kubelet/pkg/apis). */
const KUBELET_LABELS: ReadonlySet<string> = new Set([
  'kubernetes.io/hostname', 'kubernetes.io/os', 'kubernetes.io/arch',
  'beta.kubernetes.io/os', 'beta.kubernetes.io/arch', 'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region', 'topology.kubernetes.io/zone',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];
const NODE_RESTRICTION_NAMESPACE = 'node-restriction.kubernetes.io';
/** HOSTNAME_LABEL names the node a Node is; Coracle holds a node to its own name there. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

const labelNamespace = (label: string): string => (label.includes('/') ? label.slice(0, label.indexOf('/')) : '');
const under = (ns: string, domain: string): boolean => ns === domain || ns.endsWith(`.${domain}`);

/** isKubeletLabel: a kubernetes.io / k8s.io label the kubelet may set (upstream's IsKubeletLabel). */
export function isKubeletLabel(label: string): boolean {
  const ns = labelNamespace(label);
  return KUBELET_LABELS.has(label) || KUBELET_LABEL_NAMESPACES.some((allowed) => under(ns, allowed));
}

/** forbiddenNodeLabels lists the labels of `modified` a node may not set (upstream's getForbiddenLabels). */
export function forbiddenNodeLabels(modified: Iterable<string>): string[] {
  const forbidden: string[] = [];
  for (const label of modified) {
    const ns = labelNamespace(label);
    const kubernetesLabel = under(ns, 'kubernetes.io') || under(ns, 'k8s.io');
    if (under(ns, NODE_RESTRICTION_NAMESPACE) || (kubernetesLabel && !isKubeletLabel(label))) forbidden.push(label);
  }
  return forbidden.sort();
}

type Labels = Readonly<Record<string, unknown>>;
const labelsOf = (obj: Readonly<Record<string, unknown>> | undefined): Labels => {
  const labels = obj ? readMetadata(obj as Record<string, unknown>).labels : undefined;
  return isRecord(labels) ? labels : {};
};

/** modifiedLabels: labels added, removed or changed between `old` and `next`. */
function modifiedLabels(old: Labels, next: Labels): string[] {
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  return [...keys].filter((k) => old[k] !== next[k]);
}

function refuse(ctx: HandlerContext, name: string, why: string): ApiError {
  const { group, plural } = ctx.info.resource;
  return new ApiError(403, 'Forbidden', `${qualifiedResource(group, plural)} "${name}" is forbidden: ${why}`, { name, group: group || undefined, kind: plural });
}

function admitNode(ctx: HandlerContext, node: string, obj: Readonly<Record<string, unknown>>, old: Readonly<Record<string, unknown>> | undefined): ApiError | undefined {
  const name = String(readMetadata(obj as Record<string, unknown>).name ?? '');
  if (name !== node) return refuse(ctx, name, `node "${node}" is not allowed to modify node "${name}"`);
  const labels = labelsOf(obj);
  const changed = old ? modifiedLabels(labelsOf(old), labels) : Object.keys(labels);
  const forbidden = forbiddenNodeLabels(changed);
  if (forbidden.length > 0) {
    const verb = old ? 'modify labels' : 'set the following labels';
    return refuse(ctx, name, `is not allowed to ${verb}: ${forbidden.join(', ')}`);
  }
  if (changed.includes(HOSTNAME_LABEL) && labels[HOSTNAME_LABEL] !== undefined && labels[HOSTNAME_LABEL] !== node) {
    return refuse(ctx, name, `node "${node}" is not allowed to set label ${HOSTNAME_LABEL} to "${String(labels[HOSTNAME_LABEL])}": it names another node`);
  }
  if (old) {
    const taints = (o: Readonly<Record<string, unknown>>) => (isRecord(o.spec) ? o.spec.taints ?? [] : []);
    if (!deepEqual(taints(old), taints(obj))) return refuse(ctx, name, `node "${node}" is not allowed to modify taints`);
  }
  return undefined;
}

function admitLease(ctx: HandlerContext, node: string, obj: Readonly<Record<string, unknown>>): ApiError | undefined {
  const meta = readMetadata(obj as Record<string, unknown>);
  const name = String(meta.name ?? '');
  if (meta.namespace !== NODE_LEASE_NAMESPACE || name !== node) return refuse(ctx, name, 'can only access node lease with the same name as the requesting node');
  return undefined;
}

/**
 * createNodeRestriction returns the `admit` hook: it checks the Nodes and node Leases written by
 * node identities (see the file comment); every other write, and every write by a user that is
 * not a node, passes.
 */
export function createNodeRestriction(): Admission {
  return (ctx, obj, old) => {
    const node = nodeNameOf(ctx.user);
    if (node === undefined) return undefined;
    const { group, plural } = ctx.info.resource;
    if (group === '' && plural === 'nodes') return admitNode(ctx, node, obj, old);
    if (group === 'coordination.k8s.io' && plural === 'leases') return admitLease(ctx, node, obj);
    return undefined;
  };
}
