/**
 * Pure pod predicates and orderings the ReplicaSet controller decides with, as Kubernetes'
 * pkg/controller/controller_utils.go and pkg/api/v1/pod define them: which pods are active,
 * ready and available, and which pods go first on a scale-down.
 */
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';

/** PodCondition is the part of a pod condition these decisions read. */
interface PodCondition {
  type?: string;
  status?: string;
  lastTransitionTime?: string;
}

function statusOf(pod: Readonly<KubeObject>): Record<string, unknown> {
  return isRecord(pod.status) ? pod.status : {};
}

/** podPhase is `status.phase` ('' when the pod has none yet). */
export function podPhase(pod: Readonly<KubeObject>): string {
  return typeof statusOf(pod).phase === 'string' ? (statusOf(pod).phase as string) : '';
}

/** podNodeName is `spec.nodeName` ('' while the pod is unscheduled). */
export function podNodeName(pod: Readonly<KubeObject>): string {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  return typeof spec.nodeName === 'string' ? spec.nodeName : '';
}

/** isPodActive is FilterActivePods' test: not Succeeded, not Failed, not being deleted. */
export function isPodActive(pod: Readonly<KubeObject>): boolean {
  const phase = podPhase(pod);
  return phase !== 'Succeeded' && phase !== 'Failed' && readMetadata(pod).deletionTimestamp === undefined;
}

function readyCondition(pod: Readonly<KubeObject>): PodCondition | undefined {
  const conditions = statusOf(pod).conditions;
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((c): c is PodCondition => isRecord(c) && c.type === 'Ready');
}

/** isPodReady tells whether the pod's Ready condition is True. */
export function isPodReady(pod: Readonly<KubeObject>): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** readySinceMs is when a ready pod became ready (its Ready condition's lastTransitionTime), in ms; undefined when not ready or unknown. */
export function readySinceMs(pod: Readonly<KubeObject>): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  const ms = Date.parse(c.lastTransitionTime);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * availableInMs tells how long until a pod counts as available (IsPodAvailable): 0 when it is
 * available now, a positive number of ms while it is ready but not yet for `minReadySeconds`,
 * undefined when it is not ready. A ready pod without a transition time is available only when
 * `minReadySeconds` is 0, as in Kubernetes.
 */
export function availableInMs(pod: Readonly<KubeObject>, minReadySeconds: number, nowMs: number): number | undefined {
  if (!isPodReady(pod)) return undefined;
  if (minReadySeconds <= 0) return 0;
  const since = readySinceMs(pod);
  if (since === undefined) return undefined;
  // Kubernetes: available when lastTransitionTime + minReadySeconds is strictly before now.
  const availableAt = since + minReadySeconds * 1000;
  return availableAt < nowMs ? 0 : availableAt - nowMs + 1;
}

/** maxContainerRestarts is the highest restartCount among the pod's containers. */
export function maxContainerRestarts(pod: Readonly<KubeObject>): number {
  const statuses = statusOf(pod).containerStatuses;
  if (!Array.isArray(statuses)) return 0;
  return statuses.reduce((max: number, s) => Math.max(max, isRecord(s) && typeof s.restartCount === 'number' ? s.restartCount : 0), 0);
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
/** POD_DELETION_COST is the annotation by which users ask that a pod go earlier (lower) or later (higher). */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: Readonly<KubeObject>): number {
  const raw = readMetadata(pod).annotations?.[POD_DELETION_COST];
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(n) ? n : 0;
}

function createdMs(pod: Readonly<KubeObject>): number | undefined {
  const t = readMetadata(pod).creationTimestamp;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/** RankedPod is a pod with its rank: how many of the controller's active pods share its node. */
export interface RankedPod {
  pod: Readonly<KubeObject>;
  rank: number;
}

/**
 * compareForDeletion orders pods as Kubernetes' ActivePodsWithRanks does: a negative result means
 * `a` is deleted before `b`. Unscheduled before scheduled; Pending, then Unknown, then Running;
 * not ready before ready; lower pod-deletion-cost first; more pods on the same node first; ready
 * more recently first; more restarts first; newer before older.
 */
export function compareForDeletion(a: RankedPod, b: RankedPod): number {
  const aNode = podNodeName(a.pod) !== '';
  const bNode = podNodeName(b.pod) !== '';
  if (aNode !== bNode) return aNode ? 1 : -1;
  const aPhase = PHASE_RANK[podPhase(a.pod)] ?? -1;
  const bPhase = PHASE_RANK[podPhase(b.pod)] ?? -1;
  if (aPhase !== bPhase) return aPhase - bPhase;
  const aReady = isPodReady(a.pod);
  const bReady = isPodReady(b.pod);
  if (aReady !== bReady) return aReady ? 1 : -1;
  const cost = deletionCost(a.pod) - deletionCost(b.pod);
  if (cost !== 0) return cost;
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (aReady && bReady) {
    const since = compareNewerFirst(readySinceMs(a.pod), readySinceMs(b.pod));
    if (since !== 0) return since;
  }
  const restarts = maxContainerRestarts(b.pod) - maxContainerRestarts(a.pod);
  if (restarts !== 0) return restarts;
  return compareNewerFirst(createdMs(a.pod), createdMs(b.pod));
}

/** compareNewerFirst puts an unknown time first, then later times before earlier ones. */
function compareNewerFirst(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return b - a;
}

/**
 * podsToDelete picks the `count` pods to delete first from a controller's active `pods`, ranked by
 * how many of those pods share each pod's node (getPodsRankedByRelatedPodsOnSameNode).
 */
export function podsToDelete(pods: readonly Readonly<KubeObject>[], count: number): Readonly<KubeObject>[] {
  if (count <= 0) return [];
  const perNode = new Map<string, number>();
  for (const pod of pods) perNode.set(podNodeName(pod), (perNode.get(podNodeName(pod)) ?? 0) + 1);
  const ranked = pods.map((pod) => ({ pod, rank: podNodeName(pod) === '' ? 0 : perNode.get(podNodeName(pod))! }));
  return ranked.sort(compareForDeletion).slice(0, count).map((r) => r.pod);
}

/**
 * slowStartBatches splits `count` operations into batches of 1, 2, 4, … (Kubernetes'
 * slowStartBatch with SlowStartInitialBatchSize 1): a caller stops at the first batch with a
 * failure, so a create that keeps failing costs a handful of calls, not `count`.
 */
export function slowStartBatches(count: number, initial = 1): number[] {
  const batches: number[] = [];
  let size = Math.max(1, initial);
  for (let left = count; left > 0; left -= batches[batches.length - 1]!) {
    batches.push(Math.min(size, left));
    size *= 2;
  }
  return batches;
}
