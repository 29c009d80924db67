/**
 * Taint-based eviction, pure (kube-controller-manager's NoExecuteTaintManager): when a pod on a
 * node with NoExecute taints must be deleted.
 *
 * For each NoExecute taint, the pod's tolerations that tolerate it decide: none → the pod goes
 * at once; else the smallest `tolerationSeconds` among them counts from the taint's `timeAdded`
 * (a toleration without `tolerationSeconds` tolerates forever, unless another matching one sets
 * a limit; a negative value means at once). The pod goes at the earliest of those deadlines.
 * Upstream counts from when its in-memory manager first saw the taint; counting from
 * `timeAdded` gives the same answer without state, so the monitor can run anywhere. A taint
 * without `timeAdded` is read as "added long ago".
 */
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { tolerates } from '../../scheduler/taints.js';
import type { Toleration } from '../../scheduler/podinfo.js';
import type { NodeTaint } from './health.js';

/** NoExecuteToleration is a Toleration with its `tolerationSeconds`. */
export interface NoExecuteToleration extends Toleration {
  tolerationSeconds?: number;
}

/** tolerationsOf reads a pod's `spec.tolerations`. */
export function tolerationsOf(pod: Readonly<KubeObject>): NoExecuteToleration[] {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  return Array.isArray(spec.tolerations) ? (spec.tolerations.filter(isRecord) as NoExecuteToleration[]) : [];
}

/**
 * evictionDeadline is when (ms since the epoch) a pod with `tolerations` must leave a node with
 * `taints`: 0 means at once, Infinity never. Only NoExecute taints count.
 */
export function evictionDeadline(tolerations: readonly NoExecuteToleration[], taints: readonly NodeTaint[]): number {
  let deadline = Infinity;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (matching.length === 0) return 0;
    const limits = matching.map((t) => t.tolerationSeconds).filter((s): s is number => typeof s === 'number');
    if (limits.length === 0) continue;
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : 0;
    const seconds = Math.max(0, Math.min(...limits));
    deadline = Math.min(deadline, (Number.isNaN(added) ? 0 : added) + seconds * 1000);
  }
  return deadline;
}

/** NoExecutePlan is what one pass over a node's pods decides. */
export interface NoExecutePlan {
  /** Pods whose deadline has passed (not already terminating): delete them now. */
  evict: Readonly<KubeObject>[];
  /** The earliest later deadline (ms since the epoch), if some pod has one. */
  nextAt?: number;
}

/** planNoExecuteEvictions decides, at `now`, which of a node's pods the taints evict and when to look again. */
export function planNoExecuteEvictions(pods: readonly Readonly<KubeObject>[], taints: readonly NodeTaint[], now: Date): NoExecutePlan {
  const plan: NoExecutePlan = { evict: [] };
  if (!taints.some((t) => t.effect === 'NoExecute')) return plan;
  for (const pod of pods) {
    if (readMetadata(pod).deletionTimestamp !== undefined) continue;
    const deadline = evictionDeadline(tolerationsOf(pod), taints);
    if (deadline <= now.getTime()) plan.evict.push(pod);
    else if (deadline !== Infinity) plan.nextAt = Math.min(plan.nextAt ?? Infinity, deadline);
  }
  return plan;
}
