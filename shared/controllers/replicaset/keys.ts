/**
 * The ReplicaSet controller's keys (`<namespace>/<name>`) and how changes map to them, as
 * kube-controller-manager's replicaset event handlers do: a ReplicaSet change → its key; a pod
 * change → its controlling ReplicaSet; an orphan pod → every ReplicaSet whose selector matches
 * it (that ReplicaSet may adopt it).
 *
 * Finding the ReplicaSets that match an orphan takes a cache of selectors (Kubernetes reads its
 * informer's lister): SelectorIndex is that cache, fed by the ReplicaSet changes the controller
 * sees and by its resync. A miss (a change seen before the resync filled the index) is harmless:
 * the resync reconciles every ReplicaSet, and reconciling adopts matching orphans.
 */
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { fromLabelSelectorObject, matchesLabels, type LabelSelector } from '../../api/selectors.js';
import type { Change } from '../change.js';

/** ReplicaSetKey names one ReplicaSet. */
export interface ReplicaSetKey {
  namespace: string;
  name: string;
}

/** replicaSetKey renders `<namespace>/<name>`. */
export function replicaSetKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** parseReplicaSetKey reads a key back; undefined when malformed. */
export function parseReplicaSetKey(key: string): ReplicaSetKey | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1 || key.indexOf('/', slash + 1) >= 0) return undefined;
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** controllerRefOf returns the object's controlling ownerReference (`controller: true`), if any. */
export function controllerRefOf(obj: Readonly<KubeObject>): Record<string, unknown> | undefined {
  const refs = readMetadata(obj).ownerReferences;
  return Array.isArray(refs) ? refs.find((r) => isRecord(r) && r.controller === true) : undefined;
}

/** isReplicaSetRef tells whether an ownerReference names an apps ReplicaSet. */
export function isReplicaSetRef(ref: Readonly<Record<string, unknown>>): boolean {
  return ref.kind === 'ReplicaSet' && typeof ref.apiVersion === 'string' && ref.apiVersion.startsWith('apps/');
}

/** replicaSetSelector parses a ReplicaSet's `spec.selector`; an absent or empty one selects nothing (as Kubernetes treats it here). */
export function replicaSetSelector(rs: Readonly<KubeObject>): LabelSelector | undefined {
  const spec = isRecord(rs.spec) ? rs.spec : {};
  const selector = fromLabelSelectorObject(spec.selector);
  return selector && selector.length > 0 ? selector : undefined;
}

/** SelectorIndex caches the selector of every ReplicaSet, per namespace; see the file comment. */
export class SelectorIndex {
  private readonly byNamespace = new Map<string, Map<string, LabelSelector>>();

  /** observe records a ReplicaSet's selector (or forgets it when the ReplicaSet is gone). */
  observe(rs: Readonly<KubeObject>, gone = false): void {
    const meta = readMetadata(rs);
    if (!meta.namespace || !meta.name) return;
    const selector = replicaSetSelector(rs);
    let names = this.byNamespace.get(meta.namespace);
    if (gone || !selector) {
      names?.delete(meta.name);
      return;
    }
    if (!names) this.byNamespace.set(meta.namespace, (names = new Map()));
    names.set(meta.name, selector);
  }

  /** matching lists the names of the ReplicaSets in `namespace` whose selector matches `labels`. */
  matching(namespace: string, labels: Readonly<Record<string, string>> | undefined): string[] {
    const names = this.byNamespace.get(namespace);
    if (!names) return [];
    return [...names].filter(([, selector]) => matchesLabels(selector, labels)).map(([name]) => name);
  }
}

/** podKeys maps one pod version to ReplicaSet keys: its controller's, or the matching ones' when it is an orphan. */
function podKeys(pod: Readonly<KubeObject>, index: SelectorIndex, deleted: boolean): string[] {
  const meta = readMetadata(pod);
  if (!meta.namespace) return [];
  const ref = controllerRefOf(pod);
  if (ref) return isReplicaSetRef(ref) ? [replicaSetKey(meta.namespace, String(ref.name))] : [];
  // An orphan that is going away is nobody's business; a live one may be adopted.
  if (deleted || meta.deletionTimestamp !== undefined) return [];
  return index.matching(meta.namespace, meta.labels).map((name) => replicaSetKey(meta.namespace!, name));
}

/**
 * replicaSetKeys maps a change to the keys to reconcile, updating `index` from ReplicaSet
 * changes. For a pod update both versions count: a pod whose controller changed, or that lost
 * its labels, concerns its old ReplicaSet too.
 */
export function replicaSetKeys(change: Change, index: SelectorIndex): string[] {
  const { value } = change;
  if (value.kind === 'ReplicaSet') {
    index.observe(value, change.type === 'delete');
    const meta = readMetadata(value);
    return meta.namespace && meta.name ? [replicaSetKey(meta.namespace, meta.name)] : [];
  }
  if (value.kind !== 'Pod') return [];
  const keys = new Set(podKeys(value, index, change.type === 'delete'));
  if (change.prevValue) for (const k of podKeys(change.prevValue, index, false)) keys.add(k);
  return [...keys];
}
