/**
 * OwnerIndex: the garbage collector's dependency graph, owner uid → the objects that reference
 * it, as kube-controller-manager's GraphBuilder keeps `uidToNode` from its informers. It is fed
 * by every change the collector sees (keysFor) and by its resync (which lists every kind once),
 * so a reconcile finds an owner's dependents in O(dependents) instead of listing every kind of
 * the namespace per owner (53k Events per pod delete, issue 15).
 *
 * The index only says where to look: a reconcile reads each candidate through the API and checks
 * its ownerReferences again, so a stale entry (a reference removed by a change not seen yet)
 * costs one GET and never a wrong delete. A missing entry cannot happen for a change the
 * collector saw: changes are mapped (and indexed) in order before their keys are reconciled,
 * and a dependent created later brings its owner's key back by its own change. Before the first
 * resync has filled it the index knows nothing (`synced` false) and the reconcile waits.
 */
import type { ResourceType } from '../../api/resources.js';
import { readMetadata, type KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';
import { resourceFor } from '../client.js';
import { ownerReferencesOf } from './keys.js';

/** DependentEntry is where to read one dependent: its resource, name and uid. */
export interface DependentEntry {
  resource: ResourceType;
  namespace?: string;
  name: string;
  uid: string;
}

/** OwnerIndex maps owner uids to their dependents; see the file comment. */
export class OwnerIndex {
  private readonly byOwner = new Map<string, Map<string, DependentEntry>>();
  /** The owner uids each indexed dependent references (to drop it when its references change). */
  private readonly ownersOf = new Map<string, readonly string[]>();
  private filled = false;

  /** synced tells whether a resync has filled the index (until then it may miss dependents). */
  get synced(): boolean {
    return this.filled;
  }

  /** markSynced records that a resync has observed every object. */
  markSynced(): void {
    this.filled = true;
  }

  /** observe applies one change: the object's current references replace the ones it had. */
  observe(change: Change): void {
    if (change.type === 'delete') this.forget(readMetadata(change.value).uid);
    else this.put(change.value);
  }

  /**
   * put indexes `obj` under every owner it references now (resync and puts). An object the index
   * already holds under more owners keeps them too when `merge` is set: a resync's list may be
   * older than a change seen meanwhile, and an extra candidate only costs a GET.
   */
  put(obj: Readonly<KubeObject>, merge = false): void {
    const meta = readMetadata(obj);
    if (!meta.uid || !meta.name || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return;
    const owners = ownerReferencesOf(obj).map((r) => String(r.uid));
    const before = this.ownersOf.get(meta.uid) ?? [];
    if (!merge) for (const uid of before) if (!owners.includes(uid)) this.unlink(uid, meta.uid);
    const all = merge ? [...new Set([...before, ...owners])] : owners;
    if (all.length === 0) {
      this.ownersOf.delete(meta.uid);
      return;
    }
    const entry: DependentEntry = { resource: resourceFor(obj.apiVersion, obj.kind), namespace: meta.namespace, name: meta.name, uid: meta.uid };
    for (const owner of owners) {
      let dependents = this.byOwner.get(owner);
      if (!dependents) this.byOwner.set(owner, (dependents = new Map()));
      dependents.set(meta.uid, entry);
    }
    this.ownersOf.set(meta.uid, all);
  }

  /** dependentsOf lists the objects indexed as referencing `ownerUid`. */
  dependentsOf(ownerUid: string): DependentEntry[] {
    return [...(this.byOwner.get(ownerUid)?.values() ?? [])];
  }

  /** size is how many dependents are indexed (for tests and metrics). */
  get size(): number {
    return this.ownersOf.size;
  }

  private forget(uid: string | undefined): void {
    if (!uid) return;
    for (const owner of this.ownersOf.get(uid) ?? []) this.unlink(owner, uid);
    this.ownersOf.delete(uid);
  }

  private unlink(owner: string, dependent: string): void {
    const dependents = this.byOwner.get(owner);
    dependents?.delete(dependent);
    if (dependents?.size === 0) this.byOwner.delete(owner);
  }
}
