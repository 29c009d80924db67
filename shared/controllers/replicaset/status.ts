/**
 * The ReplicaSet's status as Kubernetes' calculateStatus computes it, from the ReplicaSet and its
 * active pods: pure, so the reconcile only decides whether to write it.
 */
import { deepEqual, isRecord, readMetadata, rfc3339Now, type KubeObject } from '../../api/objects.js';
import { matchesLabels, type LabelRequirement } from '../../api/selectors.js';
import { availableInMs, isPodReady } from './pods.js';

/** REPLICA_FAILURE is the condition type set while pods cannot be created or deleted. */
export const REPLICA_FAILURE = 'ReplicaFailure';

/** ManageFailure is what went wrong while creating or deleting pods (absent when nothing did). */
export interface ManageFailure {
  reason: 'FailedCreate' | 'FailedDelete';
  message: string;
}

/** ReplicaSetStatusResult is the status to hold, and when to look again for pods about to become available. */
export interface ReplicaSetStatusResult {
  status: Record<string, unknown>;
  /** Milliseconds until the next ready pod passes minReadySeconds (absent when none waits). */
  availableInMs?: number;
}

function specOf(rs: Readonly<KubeObject>): Record<string, unknown> {
  return isRecord(rs.spec) ? rs.spec : {};
}

/** minReadySecondsOf is `spec.minReadySeconds` (0 when unset). */
export function minReadySecondsOf(rs: Readonly<KubeObject>): number {
  const v = specOf(rs).minReadySeconds;
  return typeof v === 'number' && v > 0 ? v : 0;
}

/** templateLabelsOf is `spec.template.metadata.labels` (empty when unset). */
export function templateLabelsOf(rs: Readonly<KubeObject>): Record<string, string> {
  const template = isRecord(specOf(rs).template) ? (specOf(rs).template as Record<string, unknown>) : {};
  const meta = isRecord(template.metadata) ? template.metadata : {};
  return isRecord(meta.labels) ? (meta.labels as Record<string, string>) : {};
}

function conditionsOf(status: Readonly<Record<string, unknown>>): Record<string, unknown>[] {
  return Array.isArray(status.conditions) ? status.conditions.filter(isRecord) : [];
}

/**
 * replicaSetStatus computes the status for `rs` with `activePods` (FilterActivePods' result):
 * replicas, fullyLabeledReplicas (labels carry every template label), readyReplicas,
 * availableReplicas (ready for minReadySeconds), observedGeneration, and the ReplicaFailure
 * condition: set from `failure` (keeping an existing one as it is), removed when nothing failed.
 */
export function replicaSetStatus(rs: Readonly<KubeObject>, activePods: readonly Readonly<KubeObject>[], failure: ManageFailure | undefined, now: Date): ReplicaSetStatusResult {
  const previous = isRecord(rs.status) ? rs.status : {};
  const templateSelector: LabelRequirement[] = Object.entries(templateLabelsOf(rs)).map(([key, value]) => ({ key, operator: 'in', values: [value] }));
  const minReadySeconds = minReadySecondsOf(rs);
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  let nextAvailable: number | undefined;
  for (const pod of activePods) {
    if (matchesLabels(templateSelector, readMetadata(pod).labels)) fullyLabeled++;
    if (isPodReady(pod)) ready++;
    const wait = availableInMs(pod, minReadySeconds, now.getTime());
    if (wait === 0) available++;
    else if (wait !== undefined) nextAvailable = Math.min(nextAvailable ?? wait, wait);
  }
  let conditions = conditionsOf(previous);
  const existing = conditions.find((c) => c.type === REPLICA_FAILURE);
  if (failure && !existing) {
    conditions = [...conditions, { type: REPLICA_FAILURE, status: 'True', lastTransitionTime: rfc3339Now(now), reason: failure.reason, message: failure.message }];
  } else if (!failure && existing) {
    conditions = conditions.filter((c) => c.type !== REPLICA_FAILURE);
  }
  const status: Record<string, unknown> = {
    replicas: activePods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
  };
  const generation = readMetadata(rs).generation;
  if (generation !== undefined) status.observedGeneration = generation;
  else if (previous.observedGeneration !== undefined) status.observedGeneration = previous.observedGeneration;
  if (conditions.length > 0) status.conditions = conditions;
  return nextAvailable === undefined ? { status } : { status, availableInMs: nextAvailable };
}

/** statusChanged tells whether writing `next` would change the ReplicaSet's status (absent counters read as 0). */
export function statusChanged(rs: Readonly<KubeObject>, next: Readonly<Record<string, unknown>>): boolean {
  const previous = isRecord(rs.status) ? rs.status : {};
  const counters = ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'];
  if (counters.some((k) => (previous[k] ?? 0) !== (next[k] ?? 0))) return true;
  if (previous.observedGeneration !== next.observedGeneration) return true;
  return !deepEqual(conditionsOf(previous), conditionsOf(next));
}
