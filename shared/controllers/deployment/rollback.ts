/**
 * Automatic rollback, beyond Kubernetes (as Docker Swarm's `--update-failure-action rollback`
 * and Nomad's `auto_revert`): a Deployment annotated `coracle.io/auto-rollback: "true"` whose
 * rollout passed its progress deadline (Progressing=False, ProgressDeadlineExceeded) goes back
 * to the last ReplicaSet that was fully available — as `kubectl rollout undo` would, by putting
 * that ReplicaSet's template back into the Deployment — and says why (annotations, an event,
 * the Progressing condition).
 *
 * The last fully available ReplicaSet is recorded on the Deployment (`coracle.io/last-available-
 * replicaset`) each time a rollout completes. A rollout away from that ReplicaSet is the only
 * one that may be rolled back, so there is no loop: after rolling back, the new ReplicaSet *is*
 * the recorded one, and if it too fails to progress, nothing further happens automatically.
 */
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { templateWithoutHash } from './hash.js';
import { getCondition, PROGRESSING, REPLICA_FAILURE, TIMED_OUT_REASON, type DeploymentStatus } from './status.js';
import { annotationsOf, CHANGE_CAUSE_ANNOTATION, isPaused, nameOf, revisionOf } from './util.js';

/** AUTO_ROLLBACK_ANNOTATION opts a Deployment in (value "true"). */
export const AUTO_ROLLBACK_ANNOTATION = 'coracle.io/auto-rollback';
/** LAST_AVAILABLE_ANNOTATION names the ReplicaSet of the Deployment's last complete rollout. */
export const LAST_AVAILABLE_ANNOTATION = 'coracle.io/last-available-replicaset';
/** ROLLED_BACK_FROM_ANNOTATION is the revision an automatic rollback left. */
export const ROLLED_BACK_FROM_ANNOTATION = 'coracle.io/rolled-back-from';
/** ROLLED_BACK_TO_ANNOTATION is the revision it went back to (as numbered before the rollback). */
export const ROLLED_BACK_TO_ANNOTATION = 'coracle.io/rolled-back-to';
/** ROLLBACK_REASON_ANNOTATION says why. */
export const ROLLBACK_REASON_ANNOTATION = 'coracle.io/rollback-reason';
/** ROLLED_BACK_REASON is the event's and the Progressing condition's reason. */
export const ROLLED_BACK_REASON = 'RolledBack';

type RS = Readonly<KubeObject>;

/** AutoRollback is a decided rollback: from the failed ReplicaSet to the last available one. */
export interface AutoRollback {
  from: RS;
  to: RS;
  fromRevision: number;
  toRevision: number;
  /** Why, in words (the timed-out condition's message, plus a replica failure's if any). */
  reason: string;
  /** The message of the event and of the Progressing condition. */
  message: string;
}

/**
 * decideAutoRollback tells whether (and where to) `d` rolls back, given the status just computed
 * (see the file comment). `oldReplicaSets` are the Deployment's other ReplicaSets.
 */
export function decideAutoRollback(d: Readonly<KubeObject>, status: Readonly<DeploymentStatus>, newRS: RS | undefined, oldReplicaSets: readonly RS[]): AutoRollback | undefined {
  const annotations = annotationsOf(d);
  if (annotations[AUTO_ROLLBACK_ANNOTATION] !== 'true' || isPaused(d) || !newRS) return undefined;
  const progressing = getCondition(status, PROGRESSING);
  if (progressing?.status !== 'False' || progressing.reason !== TIMED_OUT_REASON) return undefined;
  const lastAvailable = annotations[LAST_AVAILABLE_ANNOTATION];
  if (!lastAvailable || lastAvailable === nameOf(newRS)) return undefined;
  const to = oldReplicaSets.find((rs) => nameOf(rs) === lastAvailable && readMetadata(rs).deletionTimestamp === undefined);
  if (!to) return undefined;
  const failure = getCondition(status, REPLICA_FAILURE);
  const reason = [progressing.message, failure?.message].filter(Boolean).join(' ');
  const fromRevision = revisionOf(newRS);
  const toRevision = revisionOf(to);
  const message = `Rolled back from revision ${fromRevision} to revision ${toRevision} (replica set ${nameOf(to)}): ${reason}`;
  return { from: newRS, to, fromRevision, toRevision, reason, message };
}

/**
 * applyRollback edits a fresh copy of the Deployment in place for `rollback`: the target's
 * template (without its hash label), its change-cause, and the rolled-back-* annotations.
 * Returns false (change nothing) when the copy is no longer the Deployment that was decided on.
 */
export function applyRollback(copy: KubeObject, rollback: AutoRollback, expectedUid: string | undefined): boolean {
  const meta = readMetadata(copy);
  if (meta.uid !== expectedUid || !isRecord(copy.spec)) return false;
  copy.spec.template = templateWithoutHash((rollback.to.spec as Record<string, unknown> | undefined)?.template);
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  const cause = annotationsOf(rollback.to)[CHANGE_CAUSE_ANNOTATION];
  if (cause === undefined) delete annotations[CHANGE_CAUSE_ANNOTATION];
  else annotations[CHANGE_CAUSE_ANNOTATION] = cause;
  annotations[ROLLED_BACK_FROM_ANNOTATION] = String(rollback.fromRevision);
  annotations[ROLLED_BACK_TO_ANNOTATION] = String(rollback.toRevision);
  annotations[ROLLBACK_REASON_ANNOTATION] = rollback.reason;
  (copy.metadata as Record<string, unknown>).annotations = annotations;
  return true;
}
