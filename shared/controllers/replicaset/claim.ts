/**
 * Pod ownership for one ReplicaSet, as Kubernetes' PodControllerRefManager.ClaimPods decides it:
 * an orphan that matches the selector is adopted (a controller reference is added), an owned pod
 * that no longer matches is released (the reference is removed), pods of other controllers are
 * left alone. Both writes are merge patches carrying the pod's resourceVersion, so a pod changed
 * meanwhile fails with Conflict and the reconcile retries on fresh state.
 */
import { readMetadata, type KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import { matchesLabels, type LabelSelector } from '../../api/selectors.js';
import type { ApiClient } from '../client.js';
import { ignoreNotFound } from '../update.js';
import { controllerRefOf } from './keys.js';

const PODS = findResourceByKind('v1', 'Pod')!;

/** controllerRefFor is the ownerReference a ReplicaSet's pods carry. */
export function controllerRefFor(rs: Readonly<KubeObject>): Record<string, unknown> {
  const meta = readMetadata(rs);
  return { apiVersion: String(rs.apiVersion ?? 'apps/v1'), kind: 'ReplicaSet', name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true };
}

/** ClaimDecision splits listed pods by what the ReplicaSet does with them. */
export interface ClaimDecision {
  /** Pods the ReplicaSet controls and that match its selector (kept as they are). */
  owned: Readonly<KubeObject>[];
  /** Orphans matching the selector, to adopt. */
  adopt: Readonly<KubeObject>[];
  /** Pods the ReplicaSet controls that no longer match, to release. */
  release: Readonly<KubeObject>[];
}

/**
 * decideClaims sorts `pods` (of the ReplicaSet's namespace) for `rs`. Orphans being deleted are
 * not adopted, and nothing is adopted when `mayAdopt` is false (the ReplicaSet is being deleted).
 */
export function decideClaims(rs: Readonly<KubeObject>, selector: LabelSelector, pods: readonly Readonly<KubeObject>[], mayAdopt: boolean): ClaimDecision {
  const uid = readMetadata(rs).uid;
  const decision: ClaimDecision = { owned: [], adopt: [], release: [] };
  for (const pod of pods) {
    const meta = readMetadata(pod);
    const matches = matchesLabels(selector, meta.labels);
    const ref = controllerRefOf(pod);
    if (ref) {
      if (ref.uid !== uid) continue;
      (matches ? decision.owned : decision.release).push(pod);
    } else if (matches && mayAdopt && meta.deletionTimestamp === undefined) {
      decision.adopt.push(pod);
    }
  }
  return decision;
}

function ownerReferences(pod: Readonly<KubeObject>): Record<string, unknown>[] {
  return (readMetadata(pod).ownerReferences ?? []).map((r) => ({ ...r }));
}

/** adoptPod adds `rs`'s controller reference to an orphan; resolves to the pod as written, or undefined when it is gone. */
export function adoptPod(client: ApiClient, rs: Readonly<KubeObject>, pod: Readonly<KubeObject>): Promise<KubeObject | undefined> {
  const meta = readMetadata(pod);
  const refs = [...ownerReferences(pod), controllerRefFor(rs)];
  return ignoreNotFound(client.patch(PODS, { namespace: meta.namespace, name: String(meta.name) },
    { metadata: { resourceVersion: meta.resourceVersion, ownerReferences: refs } }, 'merge'));
}

/** releasePod removes `rs`'s reference from a pod; resolves to the pod as written, or undefined when it is gone. */
export function releasePod(client: ApiClient, rs: Readonly<KubeObject>, pod: Readonly<KubeObject>): Promise<KubeObject | undefined> {
  const meta = readMetadata(pod);
  const uid = readMetadata(rs).uid;
  const refs = ownerReferences(pod).filter((r) => r.uid !== uid);
  return ignoreNotFound(client.patch(PODS, { namespace: meta.namespace, name: String(meta.name) },
    { metadata: { resourceVersion: meta.resourceVersion, ownerReferences: refs.length > 0 ? refs : null } }, 'merge'));
}
