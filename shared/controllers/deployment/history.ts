/**
 * Revisions and annotations: which ReplicaSet is new and which are old (FindNewReplicaSet /
 * FindOldReplicaSets), what a new ReplicaSet looks like, the annotations a Deployment passes to
 * its ReplicaSets (SetNewReplicaSetAnnotations, SetReplicasAnnotations), and which old
 * ReplicaSets revisionHistoryLimit removes (cleanupDeployment). Pure.
 */
import { clone, isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { equalIgnoreHash, podTemplateHash } from './hash.js';
import {
  annotationsOf, byCreation, byRevision, DESIRED_REPLICAS_ANNOTATION, LAST_APPLIED_ANNOTATION, MAX_REPLICAS_ANNOTATION,
  MAX_REVISION_HISTORY_CHARS, maxSurge, minReadySecondsOf, POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION, revisionHistoryLimitOf, specOf, specReplicas, statusOf, statusReplicas,
} from './util.js';

type RS = Readonly<KubeObject>;

/** CORACLE_PRIVATE_PREFIXES are Deployment annotations about the Deployment itself, never copied to ReplicaSets. */
const PRIVATE_PREFIXES = ['coracle.io/rolled-back-', 'coracle.io/rollback-', 'coracle.io/last-available-'];

/** SKIPPED_ANNOTATIONS are the Deployment annotations not copied to ReplicaSets (annotationsToSkip). */
export const SKIPPED_ANNOTATIONS: ReadonlySet<string> = new Set([
  LAST_APPLIED_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

/** isCopiedAnnotation tells whether a Deployment annotation goes to its ReplicaSets. */
export function isCopiedAnnotation(key: string): boolean {
  return !SKIPPED_ANNOTATIONS.has(key) && !PRIVATE_PREFIXES.some((p) => key.startsWith(p));
}

/** templateOf is the Deployment's (or ReplicaSet's) `spec.template`. */
export function templateOf(obj: Readonly<KubeObject>): KubeObject {
  return isRecord(specOf(obj).template) ? (specOf(obj).template as KubeObject) : {};
}

/** findNewReplicaSet is FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's (but for the hash label). */
export function findNewReplicaSet(d: Readonly<KubeObject>, replicaSets: readonly RS[]): RS | undefined {
  const template = templateOf(d);
  return [...replicaSets].sort(byCreation).find((rs) => equalIgnoreHash(templateOf(rs), template));
}

/** splitReplicaSets is FindNewReplicaSet + FindOldReplicaSets: the new one and every other (allOldRSs). */
export function splitReplicaSets(d: Readonly<KubeObject>, replicaSets: readonly RS[]): { newRS?: RS; old: RS[] } {
  const newRS = findNewReplicaSet(d, replicaSets);
  const newUid = newRS ? readMetadata(newRS).uid : undefined;
  return { newRS, old: replicaSets.filter((rs) => readMetadata(rs).uid !== newUid) };
}

/** collisionCountOf is `status.collisionCount` (undefined when unset). */
export function collisionCountOf(d: Readonly<KubeObject>): number | undefined {
  const v = statusOf(d).collisionCount;
  return typeof v === 'number' ? v : undefined;
}

/**
 * copyAnnotations is copyDeploymentAnnotationsToReplicaSet: the Deployment's copied annotations
 * (change-cause and the user's own) set on `annotations` in place; tells whether any changed.
 */
export function copyAnnotations(d: Readonly<KubeObject>, annotations: Record<string, string>): boolean {
  let changed = false;
  for (const [k, v] of Object.entries(annotationsOf(d))) {
    if (!isCopiedAnnotation(k) || annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
  return changed;
}

/** replicasAnnotations are the desired/max-replicas annotations for the Deployment's size now. */
export function replicasAnnotations(d: Readonly<KubeObject>): Record<string, string> {
  const replicas = specReplicas(d);
  return { [DESIRED_REPLICAS_ANNOTATION]: String(replicas), [MAX_REPLICAS_ANNOTATION]: String(replicas + maxSurge(d)) };
}

/** replicasAnnotationsNeedUpdate is ReplicasAnnotationsNeedUpdate. */
export function replicasAnnotationsNeedUpdate(rs: RS, d: Readonly<KubeObject>): boolean {
  const want = replicasAnnotations(d);
  return Object.entries(want).some(([k, v]) => annotationsOf(rs)[k] !== v);
}

/**
 * setNewReplicaSetAnnotations is SetNewReplicaSetAnnotations on `annotations` (in place): copy
 * the Deployment's annotations, raise the revision to `newRevision` when lower (keeping the
 * revisions it had in revision-history: that is a rollback to it), and the replicas annotations
 * for a ReplicaSet about to be created. Tells whether anything changed.
 */
export function setNewReplicaSetAnnotations(d: Readonly<KubeObject>, annotations: Record<string, string>, newRevision: number, exists: boolean): boolean {
  let changed = copyAnnotations(d, annotations);
  const oldText = annotations[REVISION_ANNOTATION];
  const old = oldText === undefined ? 0 : Number(oldText);
  if (!Number.isInteger(old)) return changed;
  if (old < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (oldText !== undefined) {
      const history = (annotations[REVISION_HISTORY_ANNOTATION] ?? '').split(',').filter((r) => r !== '');
      history.push(oldText);
      while (history.join(',').length > MAX_REVISION_HISTORY_CHARS && history.length > 1) history.shift();
      annotations[REVISION_HISTORY_ANNOTATION] = history.join(',');
    }
  }
  if (!exists) {
    for (const [k, v] of Object.entries(replicasAnnotations(d))) {
      if (annotations[k] !== v) changed = true;
      annotations[k] = v;
    }
  }
  return changed;
}

/**
 * newReplicaSetFor builds the Deployment's new ReplicaSet (getNewReplicaSet's create path):
 * named `<deployment>-<hash>`, the hash label on its selector, template and labels, controlled
 * by the Deployment, with `replicas` and the revision annotations.
 */
export function newReplicaSetFor(d: Readonly<KubeObject>, replicas: number, revision: number): KubeObject {
  const meta = readMetadata(d);
  const template = clone(templateOf(d));
  const hash = podTemplateHash(template, collisionCountOf(d));
  const tmeta = isRecord(template.metadata) ? template.metadata : (template.metadata = {});
  tmeta.labels = { ...(isRecord(tmeta.labels) ? tmeta.labels : {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const selector = clone(isRecord(specOf(d).selector) ? specOf(d).selector as Record<string, unknown> : {});
  selector.matchLabels = { ...(isRecord(selector.matchLabels) ? selector.matchLabels : {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const annotations: Record<string, string> = {};
  setNewReplicaSetAnnotations(d, annotations, revision, false);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${meta.name}-${hash}`,
      namespace: meta.namespace,
      labels: { ...(tmeta.labels as Record<string, string>) },
      annotations,
      ownerReferences: [controllerRefFor(d)],
    },
    spec: { replicas, minReadySeconds: minReadySecondsOf(d), selector, template },
  };
}

/** controllerRefFor is the ownerReference a Deployment's ReplicaSets carry. */
export function controllerRefFor(d: Readonly<KubeObject>): Record<string, unknown> {
  const meta = readMetadata(d);
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true };
}

/**
 * replicaSetsToClean is cleanupDeployment's choice: the oldest revisions beyond
 * revisionHistoryLimit among old ReplicaSets not being deleted, skipping any that still has
 * replicas (in spec or status) or whose status lags its spec.
 */
export function replicaSetsToClean(d: Readonly<KubeObject>, oldReplicaSets: readonly RS[]): RS[] {
  const limit = revisionHistoryLimitOf(d);
  if (limit === undefined) return [];
  const cleanable = oldReplicaSets.filter((rs) => readMetadata(rs).deletionTimestamp === undefined).sort(byRevision);
  const diff = cleanable.length - limit;
  if (diff <= 0) return [];
  return cleanable.slice(0, diff).filter((rs) => statusReplicas(rs) === 0 && specReplicas(rs) === 0
    && Number(readMetadata(rs).generation ?? 0) <= Number(statusOf(rs).observedGeneration ?? 0));
}

