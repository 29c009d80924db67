/**
 * The Deployment controller's keys (`<namespace>/<name>`) and how changes map to them, as
 * kube-controller-manager's deployment event handlers do: a Deployment change → its key; a
 * ReplicaSet change → its controlling Deployment, or, for an orphan, every Deployment whose
 * selector matches it (it may be adopted); a pod deletion → the Deployment of its ReplicaSet,
 * only for Recreate Deployments (the one strategy that waits for old pods to be gone: the
 * ReplicaSet's status stops counting a pod when it starts terminating, not when it is gone).
 *
 * The orphan and pod cases need caches (Kubernetes reads its informers' listers): the
 * Deployments' selectors, which Deployments use Recreate, and which Deployment controls each
 * ReplicaSet — all fed by the changes mapped here. A miss only delays: every reconcile adopts
 * orphans, and a Recreate rollout also polls while old pods terminate.
 */
import { readMetadata, type KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';
import { controllerRefOf, SelectorIndex } from '../replicaset/keys.js';
import { isRecreate } from './util.js';

/** deploymentKey renders `<namespace>/<name>`. */
export function deploymentKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function isDeploymentRef(ref: Readonly<Record<string, unknown>> | undefined): boolean {
  return ref?.kind === 'Deployment' && typeof ref.apiVersion === 'string' && ref.apiVersion.startsWith('apps/');
}

/** DeploymentIndex holds the caches described in the file comment. */
export class DeploymentIndex {
  /** Deployment selectors per namespace (the ReplicaSet controller's index works for any `spec.selector`). */
  readonly selectors = new SelectorIndex();
  private readonly recreate = new Set<string>();
  private readonly ownerOfReplicaSet = new Map<string, string>();

  /** observeDeployment records a Deployment version (or forgets it when gone). */
  observeDeployment(d: Readonly<KubeObject>, gone: boolean): void {
    this.selectors.observe(d, gone);
    const meta = readMetadata(d);
    const key = deploymentKey(String(meta.namespace), String(meta.name));
    if (!gone && isRecreate(d)) this.recreate.add(key);
    else this.recreate.delete(key);
  }

  /** observeReplicaSet records which Deployment controls a ReplicaSet. */
  observeReplicaSet(rs: Readonly<KubeObject>, gone: boolean): void {
    const meta = readMetadata(rs);
    const rsKey = deploymentKey(String(meta.namespace), String(meta.name));
    const ref = controllerRefOf(rs);
    if (gone || !isDeploymentRef(ref)) this.ownerOfReplicaSet.delete(rsKey);
    else this.ownerOfReplicaSet.set(rsKey, deploymentKey(String(meta.namespace), String(ref!.name)));
  }

  /** recreateOwnerOf is the key of the Recreate Deployment controlling ReplicaSet `namespace/name`, if known. */
  recreateOwnerOf(namespace: string, name: string): string | undefined {
    const owner = this.ownerOfReplicaSet.get(deploymentKey(namespace, name));
    return owner !== undefined && this.recreate.has(owner) ? owner : undefined;
  }
}

function replicaSetKeys(rs: Readonly<KubeObject>, index: DeploymentIndex, deleted: boolean): string[] {
  const meta = readMetadata(rs);
  if (!meta.namespace) return [];
  const ref = controllerRefOf(rs);
  if (ref) return isDeploymentRef(ref) ? [deploymentKey(meta.namespace, String(ref.name))] : [];
  if (deleted || meta.deletionTimestamp !== undefined) return [];
  return index.selectors.matching(meta.namespace, meta.labels).map((name) => deploymentKey(meta.namespace!, name));
}

/**
 * deploymentKeys maps a change to the keys to reconcile, updating `index`. For a ReplicaSet
 * update both versions count: one whose controller changed concerns its old Deployment too.
 */
export function deploymentKeys(change: Change, index: DeploymentIndex): string[] {
  const { value } = change;
  const meta = readMetadata(value);
  if (!meta.namespace || !meta.name) return [];
  const deleted = change.type === 'delete';
  if (value.kind === 'Deployment') {
    index.observeDeployment(value, deleted);
    return [deploymentKey(meta.namespace, meta.name)];
  }
  if (value.kind === 'ReplicaSet') {
    index.observeReplicaSet(value, deleted);
    const keys = new Set(replicaSetKeys(value, index, deleted));
    if (change.prevValue) for (const k of replicaSetKeys(change.prevValue, index, false)) keys.add(k);
    return [...keys];
  }
  if (value.kind === 'Pod' && deleted) {
    const ref = controllerRefOf(value);
    const owner = ref?.kind === 'ReplicaSet' ? index.recreateOwnerOf(meta.namespace, String(ref.name)) : undefined;
    return owner ? [owner] : [];
  }
  return [];
}
