/**
 * Pure accessors and arithmetic the Deployment controller decides with, as Kubernetes'
 * pkg/controller/deployment/util/deployment_util.go defines them: annotation keys, replica
 * counts over sets of ReplicaSets, orderings, and maxSurge/maxUnavailable resolution
 * (`ResolveFenceposts`: surge rounds up, unavailable rounds down, both 0 means 1 unavailable).
 *
 * Objects are plain JSON (`KubeObject`) read through these accessors; nothing here writes.
 */
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';

/** REVISION_ANNOTATION is the rollout revision a ReplicaSet (and its Deployment) carries. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** REVISION_HISTORY_ANNOTATION lists the revisions a reused ReplicaSet had before (rollbacks). */
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
/** DESIRED_REPLICAS_ANNOTATION is the Deployment's replicas when the ReplicaSet was last scaled. */
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
/** MAX_REPLICAS_ANNOTATION is replicas + maxSurge when the ReplicaSet was last scaled (proportional scaling). */
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** POD_TEMPLATE_HASH_LABEL tells the pods of one ReplicaSet of a Deployment apart. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** CHANGE_CAUSE_ANNOTATION is what `kubectl rollout history` prints per revision. */
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** LAST_APPLIED_ANNOTATION is kubectl apply's record, never copied to ReplicaSets. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Limit of the revision-history annotation (kube-controller-manager's default). */
export const MAX_REVISION_HISTORY_CHARS = 2000;

type Obj = Record<string, unknown>;

function rec(value: unknown): Obj {
  return isRecord(value) ? value : {};
}

function int(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
}

/** specOf is `obj.spec` (an empty object when absent). */
export function specOf(obj: Readonly<KubeObject>): Readonly<Obj> {
  return rec(obj.spec);
}

/** statusOf is `obj.status` (an empty object when absent). */
export function statusOf(obj: Readonly<KubeObject>): Readonly<Obj> {
  return rec(obj.status);
}

/** specReplicas is `spec.replicas` (Deployment or ReplicaSet; absent counts as 1 as the API defaults it, except null). */
export function specReplicas(obj: Readonly<KubeObject>): number {
  return int(specOf(obj).replicas, 1);
}

/** statusReplicas, readyReplicas, availableReplicas read the ReplicaSet's (or Deployment's) status counts. */
export function statusReplicas(obj: Readonly<KubeObject>): number {
  return int(statusOf(obj).replicas);
}
export function readyReplicas(obj: Readonly<KubeObject>): number {
  return int(statusOf(obj).readyReplicas);
}
export function availableReplicas(obj: Readonly<KubeObject>): number {
  return int(statusOf(obj).availableReplicas);
}

/** annotationsOf returns the object's annotations (empty when none). */
export function annotationsOf(obj: Readonly<KubeObject>): Readonly<Record<string, string>> {
  return readMetadata(obj).annotations ?? {};
}

/** revisionOf is the ReplicaSet's revision annotation as a number (0 when absent or malformed). */
export function revisionOf(obj: Readonly<KubeObject>): number {
  const n = Number(annotationsOf(obj)[REVISION_ANNOTATION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** maxRevision is the highest revision among `replicaSets` (0 when none has one). */
export function maxRevision(replicaSets: readonly Readonly<KubeObject>[]): number {
  return replicaSets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** intAnnotation reads an integer annotation (undefined when absent or not an integer). */
export function intAnnotation(obj: Readonly<KubeObject>, key: string): number | undefined {
  const raw = annotationsOf(obj)[key];
  if (raw === undefined || !/^-?\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/** sumReplicas is GetReplicaCountForReplicaSets: the sum of `spec.replicas`. */
export function sumReplicas(replicaSets: readonly Readonly<KubeObject>[], replicas: (rs: Readonly<KubeObject>) => number = specReplicas): number {
  return replicaSets.reduce((sum, rs) => sum + replicas(rs), 0);
}

/** filterActive is FilterActiveReplicaSets: those with `spec.replicas` > 0. */
export function filterActive<T extends Readonly<KubeObject>>(replicaSets: readonly T[]): T[] {
  return replicaSets.filter((rs) => specReplicas(rs) > 0);
}

function created(obj: Readonly<KubeObject>): number {
  const ms = Date.parse(readMetadata(obj).creationTimestamp ?? '');
  return Number.isNaN(ms) ? 0 : ms;
}

/** byCreation is ReplicaSetsByCreationTimestamp: oldest first, ties by name. */
export function byCreation(a: Readonly<KubeObject>, b: Readonly<KubeObject>): number {
  return created(a) - created(b) || String(readMetadata(a).name).localeCompare(String(readMetadata(b).name));
}

/** byRevision is ReplicaSetsByRevision: lowest revision first, ties by creation. */
export function byRevision(a: Readonly<KubeObject>, b: Readonly<KubeObject>): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** bySizeNewer is ReplicaSetsBySizeNewer: largest first, ties newest first (scaling up). */
export function bySizeNewer(a: Readonly<KubeObject>, b: Readonly<KubeObject>): number {
  return specReplicas(b) - specReplicas(a) || byCreation(b, a);
}

/** bySizeOlder is ReplicaSetsBySizeOlder: largest first, ties oldest first (scaling down). */
export function bySizeOlder(a: Readonly<KubeObject>, b: Readonly<KubeObject>): number {
  return specReplicas(b) - specReplicas(a) || byCreation(a, b);
}

/** IntOrString is a Kubernetes IntOrString value. */
export type IntOrString = number | string;

/**
 * scaledValue is intstr.GetScaledValueFromIntOrPercent: an int as is, `N%` of `total` rounded up
 * or down. Throws on anything else (validation should have refused it).
 */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return Math.trunc(value);
  const m = /^(\d+)%$/.exec(value);
  if (!m) {
    if (/^\d+$/.test(value)) return Number(value);
    throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(value)}`);
  }
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** isRollingUpdate tells whether the Deployment's strategy is RollingUpdate (the default). */
export function isRollingUpdate(d: Readonly<KubeObject>): boolean {
  const type = rec(specOf(d).strategy).type;
  return type === undefined || type === 'RollingUpdate';
}

/** isRecreate tells whether the Deployment's strategy is Recreate. */
export function isRecreate(d: Readonly<KubeObject>): boolean {
  return rec(specOf(d).strategy).type === 'Recreate';
}

/**
 * resolveFenceposts is ResolveFenceposts: maxSurge (rounded up) and maxUnavailable (rounded down)
 * of `desired`; when both resolve to 0, maxUnavailable is 1 (validation forbids both 0 as given,
 * but rounding down can still reach it).
 */
export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function fenceposts(d: Readonly<KubeObject>): { surge: number; unavailable: number } {
  const ru = rec(rec(specOf(d).strategy).rollingUpdate);
  return resolveFenceposts(ru.maxSurge as IntOrString | undefined, ru.maxUnavailable as IntOrString | undefined, specReplicas(d));
}

/** maxSurge is MaxSurge: 0 unless RollingUpdate. */
export function maxSurge(d: Readonly<KubeObject>): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/** maxUnavailable is MaxUnavailable: 0 unless RollingUpdate with replicas; never more than replicas. */
export function maxUnavailable(d: Readonly<KubeObject>): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}

/** minReadySecondsOf is `spec.minReadySeconds` (0 when absent). */
export function minReadySecondsOf(obj: Readonly<KubeObject>): number {
  return int(specOf(obj).minReadySeconds);
}

/** progressDeadlineOf is `spec.progressDeadlineSeconds`, or undefined when there is none (absent or MaxInt32). */
export function progressDeadlineOf(d: Readonly<KubeObject>): number | undefined {
  const v = specOf(d).progressDeadlineSeconds;
  return typeof v === 'number' && v !== 2147483647 ? v : undefined;
}

/** revisionHistoryLimitOf is `spec.revisionHistoryLimit`, undefined when unset (keep everything). */
export function revisionHistoryLimitOf(d: Readonly<KubeObject>): number | undefined {
  const v = specOf(d).revisionHistoryLimit;
  return typeof v === 'number' ? v : undefined;
}

/** isPaused is `spec.paused`. */
export function isPaused(d: Readonly<KubeObject>): boolean {
  return specOf(d).paused === true;
}

/** generationOf and observedGenerationOf read the generation pair. */
export function generationOf(obj: Readonly<KubeObject>): number {
  return int(readMetadata(obj).generation);
}
export function observedGenerationOf(obj: Readonly<KubeObject>): number {
  return int(statusOf(obj).observedGeneration);
}

/** nameOf is `metadata.name`. */
export function nameOf(obj: Readonly<KubeObject>): string {
  return String(readMetadata(obj).name ?? '');
}
