/**
 * Filter plugins: each tells whether a pod may go on a node, and if not, why, in kube-scheduler's
 * words. `unresolvable` marks failures preemption could not fix (kube-scheduler's
 * UnschedulableAndUnresolvable), which the "preemption:" part of the message reports.
 */
import { inForbiddenDomain, type AntiAffinityDomains } from './antiaffinity.js';
import { matchesNodeSelector, matchesRequiredNodeAffinity } from './nodeaffinity.js';
import type { NodeInfo, Taint } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';
import { firstUntoleratedTaint, formatTaint, isTolerated } from './taints.js';

/** FilterFailure is why a node was rejected. */
export interface FilterFailure {
  reasons: string[];
  unresolvable: boolean;
}

/** FilterContext is what filters may read besides the pod and the node (computed once per pod). */
export interface FilterContext {
  antiAffinity: AntiAffinityDomains;
}

/** Filter is one filter plugin: undefined when the pod fits, else the failure. */
export type Filter = (pod: PodInfo, node: NodeInfo, ctx: FilterContext) => FilterFailure | undefined;

/** NOT_READY_TAINT and UNSCHEDULABLE_TAINT are the taints Kubernetes puts on not-ready and cordoned nodes (what a pod tolerates to ignore them). */
export const NOT_READY_TAINT: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
export const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** REASONS are the failure messages, as kube-scheduler words them. */
export const REASONS = {
  unschedulable: 'node(s) were unschedulable',
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  antiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
  tooManyPods: 'Too many pods',
  insufficient: (resource: string) => `Insufficient ${resource}`,
  untoleratedTaint: (taint: Taint) => `node(s) had untolerated taint ${formatTaint(taint)}`,
} as const;

const unresolvable = (reason: string): FilterFailure => ({ reasons: [reason], unresolvable: true });

/**
 * nodeReady rejects a node whose Ready condition is not True, unless the pod tolerates the
 * not-ready taint (which the node lifecycle controller would put there).
 */
export const nodeReady: Filter = (pod, node) =>
  node.ready || isTolerated(pod.tolerations, NOT_READY_TAINT) ? undefined : unresolvable(REASONS.untoleratedTaint(NOT_READY_TAINT));

/** nodeUnschedulable rejects a cordoned node (`spec.unschedulable`) unless the pod tolerates the unschedulable taint. */
export const nodeUnschedulable: Filter = (pod, node) =>
  !node.unschedulable || isTolerated(pod.tolerations, UNSCHEDULABLE_TAINT) ? undefined : unresolvable(REASONS.unschedulable);

/** taintToleration rejects a node with a NoSchedule or NoExecute taint the pod does not tolerate. */
export const taintToleration: Filter = (pod, node) => {
  if (node.taints.length === 0) return undefined;
  const taint = firstUntoleratedTaint(node.taints, pod.tolerations, ['NoSchedule', 'NoExecute']);
  return taint ? unresolvable(REASONS.untoleratedTaint(taint)) : undefined;
};

/** nodeAffinity rejects a node that misses the pod's nodeSelector or its required node affinity. */
export const nodeAffinity: Filter = (pod, node) =>
  matchesNodeSelector(pod, node) && matchesRequiredNodeAffinity(pod, node) ? undefined : unresolvable(REASONS.nodeAffinity);

/** resourcesFit rejects a node whose allocatable, less what is placed on it, cannot hold the pod's requests. */
export const resourcesFit: Filter = (pod, node) => {
  const reasons: string[] = [];
  const { allocatable: a, requested: r } = node;
  if (r.pods + 1 > a.pods) reasons.push(REASONS.tooManyPods);
  if (pod.requests.milliCpu > 0 && r.milliCpu + pod.requests.milliCpu > a.milliCpu) reasons.push(REASONS.insufficient('cpu'));
  if (pod.requests.memory > 0 && r.memory + pod.requests.memory > a.memory) reasons.push(REASONS.insufficient('memory'));
  return reasons.length ? { reasons, unresolvable: false } : undefined;
};

/** podAntiAffinity rejects a node in a topology domain closed by the pod's anti-affinity or by a placed pod's. */
export const podAntiAffinity: Filter = (_pod, node, ctx) => {
  // kube-scheduler checks the pod's own terms first, then the placed pods' terms.
  if (inForbiddenDomain(ctx.antiAffinity.own, node)) return { reasons: [REASONS.antiAffinity], unresolvable: false };
  if (inForbiddenDomain(ctx.antiAffinity.existing, node)) return { reasons: [REASONS.existingAntiAffinity], unresolvable: false };
  return undefined;
};

/** FILTERS run in this order; the first failure decides a node's reasons (as kube-scheduler's default). */
export const FILTERS: readonly Filter[] = [nodeReady, nodeUnschedulable, taintToleration, nodeAffinity, resourcesFit, podAntiAffinity];

/** runFilters returns the first failure of `filters` for the pod on the node, or undefined when it fits. */
export function runFilters(pod: PodInfo, node: NodeInfo, ctx: FilterContext, filters: readonly Filter[] = FILTERS): FilterFailure | undefined {
  for (const filter of filters) {
    const failure = filter(pod, node, ctx);
    if (failure) return failure;
  }
  return undefined;
}
