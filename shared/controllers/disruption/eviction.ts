/**
 * The eviction admission decision, pure (the pods/eviction REST handler's PDB logic upstream,
 * pkg/registry/core/pod/storage/eviction.go): may `pod` be evicted now given the budgets that
 * cover it, and if so, what the budget's status becomes.
 *
 * - A pod already terminating, finished, or Pending is evicted without a budget check.
 * - No budget: evicted. More than one: 500, as upstream (the eviction API does not support it).
 * - A pod that is not Ready: with `unhealthyPodEvictionPolicy: AlwaysAllow`, evicted; by default
 *   (IfHealthyBudget) evicted when the budget is met (currentHealthy ≥ desiredHealthy > 0),
 *   without charging it; otherwise checked like a healthy pod.
 * - Checked: a status behind the spec (observedGeneration < generation) or no disruption left
 *   → 429 TooManyRequests; else disruptionsAllowed − 1 and `disruptedPods[pod] = now`. The
 *   caller writes that status with compare-and-swap before deleting the pod, so two concurrent
 *   evictions cannot both spend the last disruption: the loser re-reads and gets the 429.
 * - A pod already in disruptedPods (charged by an earlier attempt whose delete did not happen,
 *   e.g. a retried request) is not charged twice.
 */
import { ApiError, forbidden } from '../../api/status.js';
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../../api/objects.js';
import { isPodReady, statusOf, withAllowedCondition, type BudgetStatus } from './budget.js';

/** MAX_DISRUPTED_PODS bounds the disruptedPods map (upstream's MaxDisruptedPodSize). */
export const MAX_DISRUPTED_PODS = 2000;

/** EVICTION_REFUSED_MESSAGE is the 429's message, as kubectl prints it while it retries. */
export const EVICTION_REFUSED_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

/** EvictionVerdict: refused with an error, or allowed (with the budget's new status to write, when it is charged). */
export type EvictionVerdict =
  | { allowed: false; error: ApiError }
  | { allowed: true; charge?: { pdb: Readonly<KubeObject>; status: BudgetStatus } };

function tooManyRequests(cause: string): ApiError {
  return new ApiError(429, 'TooManyRequests', EVICTION_REFUSED_MESSAGE, { causes: [{ reason: 'DisruptionBudget', message: cause }] });
}

/** canIgnoreBudget tells whether the pod may go without a budget check (terminating, finished, or Pending). */
export function canIgnoreBudget(pod: Readonly<KubeObject>): boolean {
  const phase = isRecord(pod.status) ? pod.status.phase : undefined;
  return readMetadata(pod).deletionTimestamp !== undefined || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending';
}

/** decideEviction decides the eviction of `pod` covered by `budgets` at `now` (see the file comment). */
export function decideEviction(pod: Readonly<KubeObject>, budgets: readonly Readonly<KubeObject>[], now: Date, dryRun = false): EvictionVerdict {
  if (canIgnoreBudget(pod) || budgets.length === 0) return { allowed: true };
  if (budgets.length > 1) {
    return { allowed: false, error: new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.') };
  }
  const pdb = budgets[0]!;
  const name = String(readMetadata(pdb).name);
  const status = statusOf(pdb);
  const spec = isRecord(pdb.spec) ? pdb.spec : {};
  if (!isPodReady(pod)) {
    if (spec.unhealthyPodEvictionPolicy === 'AlwaysAllow') return { allowed: true };
    if (status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) return { allowed: true };
  }
  if (status.observedGeneration < Number(readMetadata(pdb).generation ?? 1)) {
    return { allowed: false, error: tooManyRequests(`The disruption budget ${name} is still being processed by the server.`) };
  }
  const podName = String(readMetadata(pod).name);
  if (status.disruptedPods && Object.hasOwn(status.disruptedPods, podName)) return { allowed: true };
  if (status.disruptionsAllowed < 0) return { allowed: false, error: forbidden('policy', 'poddisruptionbudget', name, 'pdb disruptions allowed is negative') };
  if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    return { allowed: false, error: forbidden('policy', 'poddisruptionbudget', name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller') };
  }
  if (status.disruptionsAllowed === 0) {
    return { allowed: false, error: tooManyRequests(`The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`) };
  }
  if (dryRun) return { allowed: true };
  const charged = withAllowedCondition({
    ...status, disruptionsAllowed: status.disruptionsAllowed - 1, disruptedPods: { ...status.disruptedPods, [podName]: rfc3339Now(now) },
  }, now);
  return { allowed: true, charge: { pdb, status: charged } };
}
