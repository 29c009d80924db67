/**
 * PodDisruptionBudget math, pure (kube-controller-manager's disruption controller:
 * getExpectedPodCount, countHealthyPods, buildDisruptedPodMap, updatePdbStatus).
 *
 * - minAvailable as an integer: desiredHealthy is it, expectedPods the number of matching pods.
 * - minAvailable as a percentage, or maxUnavailable (either form): expectedPods is the scale of
 *   the pods' controllers (their spec.replicas, summed once per controller), and the percentage
 *   rounds up (`GetScaledValueFromIntOrPercent(…, roundUp=true)`); desiredHealthy is
 *   minAvailable, or expectedPods − maxUnavailable (never below 0).
 * - currentHealthy counts Ready pods, not terminating, not in disruptedPods (evictions the API
 *   server admitted that the pod list may not show yet).
 * - disruptionsAllowed = currentHealthy − desiredHealthy, at least 0, and 0 when expectedPods is 0.
 * - disruptedPods entries go when their pod is gone or terminating, or after DELETION_TIMEOUT_MS.
 */
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../../api/objects.js';
import { fromLabelSelectorObject, matchesLabels, type LabelSelector } from '../../api/selectors.js';

/** DELETION_TIMEOUT_MS is how long an admitted eviction counts before the controller forgets it (upstream's DeletionTimeout, 2 minutes). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

/** BudgetStatus is policy/v1 PodDisruptionBudgetStatus. */
export interface BudgetStatus {
  observedGeneration: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions: Record<string, unknown>[];
}

/** InvalidBudgetError says a budget's minAvailable/maxUnavailable cannot be read (the budget then fails safe). */
export class InvalidBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBudgetError';
  }
}

/** scaledValue reads an IntOrString (`3` or `"30%"`) against `total` as upstream does; a bad value throws. */
export function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    const m = /^(\d+)%$/.exec(value);
    if (m) {
      const scaled = (Number(m[1]) * total) / 100;
      return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
    }
    if (/^\d+$/.test(value)) return Number(value);
  }
  throw new InvalidBudgetError(`invalid value for IntOrString: invalid value ${JSON.stringify(value)}`);
}

const isPercent = (value: unknown): boolean => typeof value === 'string' && value.endsWith('%');
const specOf = (pdb: Readonly<KubeObject>): Record<string, unknown> => (isRecord(pdb.spec) ? pdb.spec : {});

/** budgetNeedsScale tells whether the budget needs the controllers' scale (maxUnavailable, or a minAvailable percentage). */
export function budgetNeedsScale(pdb: Readonly<KubeObject>): boolean {
  const spec = specOf(pdb);
  return spec.maxUnavailable !== undefined || isPercent(spec.minAvailable);
}

/** budgetSelector is the PDB's selector: undefined (absent) matches no pod, empty matches every pod of its namespace. */
export function budgetSelector(pdb: Readonly<KubeObject>): LabelSelector | undefined {
  return fromLabelSelectorObject(specOf(pdb).selector);
}

/** budgetCovers tells whether `pdb` covers `pod` (same namespace, selector matches). */
export function budgetCovers(pdb: Readonly<KubeObject>, pod: Readonly<KubeObject>): boolean {
  const selector = budgetSelector(pdb);
  return selector !== undefined && readMetadata(pdb).namespace === readMetadata(pod).namespace && matchesLabels(selector, readMetadata(pod).labels);
}

/** isPodReady tells whether the pod's Ready condition is True (upstream's IsPodReady, what "healthy" means here). */
export function isPodReady(pod: Readonly<KubeObject>): boolean {
  const status = isRecord(pod.status) ? pod.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  return conditions.some((c) => isRecord(c) && c.type === 'Ready' && c.status === 'True');
}

/** expectedCounts are expectedPods and desiredHealthy; `scale` is the controllers' replicas (needed when budgetNeedsScale). */
export function expectedCounts(pdb: Readonly<KubeObject>, podCount: number, scale?: number): { expectedPods: number; desiredHealthy: number } {
  const spec = specOf(pdb);
  if (spec.maxUnavailable !== undefined) {
    const expectedPods = scale ?? 0;
    const maxUnavailable = scaledValue(spec.maxUnavailable, expectedPods, true);
    return { expectedPods, desiredHealthy: Math.max(0, expectedPods - maxUnavailable) };
  }
  if (spec.minAvailable !== undefined) {
    if (isPercent(spec.minAvailable)) {
      const expectedPods = scale ?? 0;
      return { expectedPods, desiredHealthy: scaledValue(spec.minAvailable, expectedPods, true) };
    }
    return { expectedPods: podCount, desiredHealthy: scaledValue(spec.minAvailable, podCount, true) };
  }
  return { expectedPods: 0, desiredHealthy: 0 };
}

/** prunedDisruptedPods keeps the admitted evictions still pending at `now`, and says when the oldest expires. */
export function prunedDisruptedPods(
  pods: readonly Readonly<KubeObject>[], disrupted: Readonly<Record<string, string>>, now: Date,
): { disruptedPods: Record<string, string>; recheckAt?: number } {
  const live = new Map(pods.map((p) => [String(readMetadata(p).name), p]));
  const kept: Record<string, string> = {};
  let recheckAt: number | undefined;
  for (const [name, stamp] of Object.entries(disrupted)) {
    const pod = live.get(name);
    if (!pod || readMetadata(pod).deletionTimestamp !== undefined) continue;
    const expires = Date.parse(stamp) + DELETION_TIMEOUT_MS;
    if (Number.isNaN(expires) || expires < now.getTime()) continue;
    kept[name] = stamp;
    recheckAt = Math.min(recheckAt ?? Infinity, expires);
  }
  return { disruptedPods: kept, recheckAt };
}

/** countHealthy counts Ready pods that are not terminating and not in `disrupted`. */
export function countHealthy(pods: readonly Readonly<KubeObject>[], disrupted: Readonly<Record<string, string>>): number {
  return pods.filter((p) => readMetadata(p).deletionTimestamp === undefined && !Object.hasOwn(disrupted, String(readMetadata(p).name)) && isPodReady(p)).length;
}

/**
 * withAllowedCondition sets the DisruptionAllowed condition from disruptionsAllowed (reasons
 * SufficientPods / InsufficientPods, or SyncFailed with `failure`), keeping lastTransitionTime
 * while the status holds (meta.SetStatusCondition).
 */
export function withAllowedCondition(status: Omit<BudgetStatus, 'conditions'> & { conditions?: readonly Record<string, unknown>[] }, now: Date, failure?: string): BudgetStatus {
  const allowed = failure === undefined && status.disruptionsAllowed > 0;
  const wanted = { type: 'DisruptionAllowed', status: allowed ? 'True' : 'False', reason: failure !== undefined ? 'SyncFailed' : allowed ? 'SufficientPods' : 'InsufficientPods', message: failure ?? '' };
  const previous = (status.conditions ?? []).find((c) => c.type === 'DisruptionAllowed');
  const since = previous && previous.status === wanted.status && typeof previous.lastTransitionTime === 'string' ? previous.lastTransitionTime : rfc3339Now(now);
  const others = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed');
  return { ...status, conditions: [...others, { ...wanted, observedGeneration: status.observedGeneration, lastTransitionTime: since }] };
}

/** statusOf reads a PDB's status (zeros when absent). */
export function statusOf(pdb: Readonly<KubeObject>): BudgetStatus {
  const s = isRecord(pdb.status) ? pdb.status : {};
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  return {
    observedGeneration: n(s.observedGeneration), disruptionsAllowed: n(s.disruptionsAllowed), currentHealthy: n(s.currentHealthy),
    desiredHealthy: n(s.desiredHealthy), expectedPods: n(s.expectedPods),
    ...(isRecord(s.disruptedPods) ? { disruptedPods: s.disruptedPods as Record<string, string> } : {}),
    conditions: Array.isArray(s.conditions) ? s.conditions.filter(isRecord) : [],
  };
}

/**
 * budgetStatus computes the whole status of `pdb` over its matching `pods` at `now` (`scale`:
 * the controllers' replicas, when budgetNeedsScale). `recheckAt` is when a disruptedPods entry
 * expires (reconcile again then).
 */
export function budgetStatus(pdb: Readonly<KubeObject>, pods: readonly Readonly<KubeObject>[], now: Date, scale?: number): { status: BudgetStatus; recheckAt?: number } {
  const previous = statusOf(pdb);
  const { expectedPods, desiredHealthy } = expectedCounts(pdb, pods.length, scale);
  const { disruptedPods, recheckAt } = prunedDisruptedPods(pods, previous.disruptedPods ?? {}, now);
  const currentHealthy = countHealthy(pods, disruptedPods);
  const disruptionsAllowed = expectedPods <= 0 ? 0 : Math.max(0, currentHealthy - desiredHealthy);
  const status = withAllowedCondition({
    observedGeneration: Number(readMetadata(pdb).generation ?? 1),
    ...(Object.keys(disruptedPods).length > 0 ? { disruptedPods } : {}),
    disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods, conditions: previous.conditions,
  }, now);
  return { status, recheckAt };
}

/** failSafeStatus is the status when the budget cannot be computed: no disruptions, DisruptionAllowed False / SyncFailed (upstream's failSafe). */
export function failSafeStatus(pdb: Readonly<KubeObject>, message: string, now: Date): BudgetStatus {
  const previous = statusOf(pdb);
  return withAllowedCondition({ ...previous, disruptionsAllowed: 0, observedGeneration: Number(readMetadata(pdb).generation ?? 1) }, now, message);
}
