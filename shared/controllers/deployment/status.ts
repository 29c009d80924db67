/**
 * A Deployment's status and conditions, as Kubernetes' deployment controller computes them
 * (sync.go calculateStatus / syncRolloutStatus, progress.go, util's condition helpers):
 * - counts summed over its ReplicaSets; Available when at least replicas − maxUnavailable are;
 * - Progressing: NewReplicaSetAvailable once complete, ReplicaSetUpdated (lastUpdateTime moves,
 *   lastTransitionTime kept) on any progress, ProgressDeadlineExceeded (False) when nothing
 *   progressed for progressDeadlineSeconds since lastUpdateTime; DeploymentPaused/Resumed
 *   (Unknown) when paused or resumed;
 * - ReplicaFailure copied from a ReplicaSet (the new one first).
 * All pure: `now` is given.
 */
import { clone, deepEqual, isRecord, rfc3339Now, type KubeObject } from '../../api/objects.js';
import {
  availableReplicas, generationOf, maxUnavailable, nameOf, progressDeadlineOf, readyReplicas, specReplicas, statusOf,
  statusReplicas, sumReplicas,
} from './util.js';

/** Condition is a DeploymentCondition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** DeploymentStatus is the part of a Deployment's status the controller owns. */
export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: Condition[];
  [field: string]: unknown;
}

/** Condition types and reasons (Kubernetes' deployment util constants). */
export const AVAILABLE = 'Available';
export const PROGRESSING = 'Progressing';
export const REPLICA_FAILURE = 'ReplicaFailure';
export const MINIMUM_REPLICAS_AVAILABLE = 'MinimumReplicasAvailable';
export const MINIMUM_REPLICAS_UNAVAILABLE = 'MinimumReplicasUnavailable';
export const NEW_RS_REASON = 'NewReplicaSetCreated';
export const FOUND_NEW_RS_REASON = 'FoundNewReplicaSet';
export const FAILED_RS_CREATE_REASON = 'ReplicaSetCreateError';
export const RS_UPDATED_REASON = 'ReplicaSetUpdated';
export const NEW_RS_AVAILABLE_REASON = 'NewReplicaSetAvailable';
export const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';
export const PAUSED_REASON = 'DeploymentPaused';
export const RESUMED_REASON = 'DeploymentResumed';

/** statusOfDeployment returns a copy of the Deployment's status. */
export function deploymentStatus(d: Readonly<KubeObject>): DeploymentStatus {
  return clone(statusOf(d)) as DeploymentStatus;
}

/** getCondition finds the condition of `type`. */
export function getCondition(status: Readonly<DeploymentStatus>, type: string): Condition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

/** newCondition is NewDeploymentCondition: both times set to `now`. */
export function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: Date): Condition {
  const t = rfc3339Now(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/**
 * setCondition is SetDeploymentCondition: nothing when a condition of the type already has this
 * status and reason; else it replaces it (moved last), keeping lastTransitionTime when the status
 * did not change.
 */
export function setCondition(status: DeploymentStatus, condition: Condition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

/** removeCondition drops the condition of `type`. */
export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/**
 * calculateStatus is calculateStatus: counts over `allReplicaSets`, updatedReplicas from the new
 * one, the Available condition, the other conditions carried over.
 */
export function calculateStatus(d: Readonly<KubeObject>, allReplicaSets: readonly Readonly<KubeObject>[], newRS: Readonly<KubeObject> | undefined, now: Date): DeploymentStatus {
  const previous = deploymentStatus(d);
  const available = sumReplicas(allReplicaSets, availableReplicas);
  const status: DeploymentStatus = {
    observedGeneration: generationOf(d),
    replicas: sumReplicas(allReplicaSets, statusReplicas),
    updatedReplicas: newRS ? statusReplicas(newRS) : 0,
    readyReplicas: sumReplicas(allReplicaSets, readyReplicas),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sumReplicas(allReplicaSets) - available),
  };
  if (previous.collisionCount !== undefined) status.collisionCount = previous.collisionCount;
  if (previous.conditions) status.conditions = previous.conditions.map((c) => ({ ...c }));
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition(AVAILABLE, 'True', MINIMUM_REPLICAS_AVAILABLE, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition(AVAILABLE, 'False', MINIMUM_REPLICAS_UNAVAILABLE, 'Deployment does not have minimum availability.', now));
  }
  return status;
}

/** deploymentComplete is DeploymentComplete: every replica updated, available, and no old ones, for the current generation. */
export function deploymentComplete(d: Readonly<KubeObject>, status: Readonly<DeploymentStatus>): boolean {
  const replicas = specReplicas(d);
  return status.updatedReplicas === replicas && status.replicas === replicas && status.availableReplicas === replicas
    && (status.observedGeneration ?? 0) >= generationOf(d);
}

/** deploymentProgressing is DeploymentProgressing: more updated, ready or available replicas, or fewer old ones, than the stored status. */
export function deploymentProgressing(d: Readonly<KubeObject>, status: Readonly<DeploymentStatus>): boolean {
  const old = deploymentStatus(d);
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld
    || (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** deploymentTimedOut is DeploymentTimedOut: no progress reported for progressDeadlineSeconds since the Progressing condition's lastUpdateTime. */
export function deploymentTimedOut(d: Readonly<KubeObject>, status: Readonly<DeploymentStatus>, now: Date): boolean {
  const deadline = progressDeadlineOf(d);
  if (deadline === undefined) return false;
  const condition = getCondition(status, PROGRESSING);
  if (!condition || condition.reason === NEW_RS_AVAILABLE_REASON) return false;
  if (condition.reason === TIMED_OUT_REASON) return true;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + deadline * 1000 < now.getTime();
}

/** replicaFailure is getReplicaFailures: the new ReplicaSet's ReplicaFailure condition, else an old one's, as a Deployment condition. */
function replicaFailure(allReplicaSets: readonly Readonly<KubeObject>[], newRS: Readonly<KubeObject> | undefined): Condition | undefined {
  const failureOf = (rs: Readonly<KubeObject>): Condition | undefined => {
    const c = (Array.isArray(statusOf(rs).conditions) ? statusOf(rs).conditions as unknown[] : [])
      .find((x): x is Record<string, unknown> => isRecord(x) && x.type === REPLICA_FAILURE);
    if (!c) return undefined;
    return { type: REPLICA_FAILURE, status: c.status as Condition['status'], lastUpdateTime: c.lastTransitionTime as string | undefined,
      lastTransitionTime: c.lastTransitionTime as string | undefined, reason: c.reason as string | undefined, message: c.message as string | undefined };
  };
  return (newRS && failureOf(newRS)) ?? allReplicaSets.map(failureOf).find((c) => c !== undefined);
}

/**
 * rolloutStatus is syncRolloutStatus's computation: calculateStatus, then the Progressing
 * condition (see the file comment) unless the rollout was already complete, then ReplicaFailure.
 */
export function rolloutStatus(d: Readonly<KubeObject>, allReplicaSets: readonly Readonly<KubeObject>[], newRS: Readonly<KubeObject> | undefined, now: Date): DeploymentStatus {
  const status = calculateStatus(d, allReplicaSets, newRS, now);
  const hasDeadline = progressDeadlineOf(d) !== undefined;
  if (!hasDeadline) removeCondition(status, PROGRESSING);
  const current = getCondition(deploymentStatus(d), PROGRESSING);
  const wasComplete = status.replicas === status.updatedReplicas && current?.reason === NEW_RS_AVAILABLE_REASON;
  if (hasDeadline && !wasComplete) {
    const subject = newRS ? `ReplicaSet "${nameOf(newRS)}"` : `Deployment "${nameOf(d)}"`;
    if (deploymentComplete(d, status)) {
      setCondition(status, newCondition(PROGRESSING, 'True', NEW_RS_AVAILABLE_REASON, `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(d, status)) {
      const condition = newCondition(PROGRESSING, 'True', RS_UPDATED_REASON, `${subject} is progressing.`, now);
      // Same reason, new lastUpdateTime: progress moves the deadline (SetDeploymentCondition would not).
      if (current?.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
      removeCondition(status, PROGRESSING);
      setCondition(status, condition);
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, newCondition(PROGRESSING, 'False', TIMED_OUT_REASON, `${subject} has timed out progressing.`, now));
    }
  }
  const failure = replicaFailure(allReplicaSets, newRS);
  if (failure) setCondition(status, failure);
  else removeCondition(status, REPLICA_FAILURE);
  return status;
}

/**
 * pausedCondition is checkPausedConditions: the Progressing condition to set when the Deployment
 * was paused or resumed (undefined when nothing changes; never over ProgressDeadlineExceeded).
 */
export function pausedCondition(d: Readonly<KubeObject>, paused: boolean, now: Date): Condition | undefined {
  if (progressDeadlineOf(d) === undefined) return undefined;
  const current = getCondition(deploymentStatus(d), PROGRESSING);
  if (current?.reason === TIMED_OUT_REASON) return undefined;
  const pausedNow = current?.reason === PAUSED_REASON;
  if (paused && !pausedNow) return newCondition(PROGRESSING, 'Unknown', PAUSED_REASON, 'Deployment is paused', now);
  if (!paused && pausedNow) return newCondition(PROGRESSING, 'Unknown', RESUMED_REASON, 'Deployment is resumed', now);
  return undefined;
}

/**
 * deadlineCheckInMs is requeueStuckDeployment: when to look again to see whether the rollout
 * passed its deadline (undefined when there is nothing to watch for).
 */
export function deadlineCheckInMs(d: Readonly<KubeObject>, status: Readonly<DeploymentStatus>, now: Date): number | undefined {
  const deadline = progressDeadlineOf(d);
  const condition = getCondition(status, PROGRESSING);
  if (deadline === undefined || !condition) return undefined;
  if (deploymentComplete(d, status) || condition.reason === TIMED_OUT_REASON) return undefined;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return undefined;
  // Past the deadline "strictly after" (DeploymentTimedOut uses Before): a little margin, never 0.
  return Math.max(from + deadline * 1000 - now.getTime() + 50, 250);
}

/** statusDiffers tells whether `next` would change the stored status. */
export function statusDiffers(d: Readonly<KubeObject>, next: Readonly<DeploymentStatus>): boolean {
  return !deepEqual(statusOf(d), next);
}
