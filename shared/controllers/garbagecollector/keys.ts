/**
 * The garbage collector's keys: one per (possible) owner, `apiVersion|kind|namespace|name|uid`.
 * An owner is identified by uid: an object of the same name but another uid is a different owner.
 */
import { findResourceByKind } from '../../api/resources.js';
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';

/** OwnerIdentity names one owner exactly (namespace absent for cluster-scoped kinds). */
export interface OwnerIdentity {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
}

/** FOREGROUND and ORPHAN are the finalizers the API server adds for those propagation policies. */
export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

/** ownerKey renders an owner's key. */
export function ownerKey(o: OwnerIdentity): string {
  return [o.apiVersion, o.kind, o.namespace ?? '', o.name, o.uid].join('|');
}

/** parseOwnerKey reads a key back; undefined when malformed. */
export function parseOwnerKey(key: string): OwnerIdentity | undefined {
  const parts = key.split('|');
  if (parts.length !== 5 || parts.some((p, i) => p === '' && i !== 2)) return undefined;
  const [apiVersion, kind, namespace, name, uid] = parts as [string, string, string, string, string];
  return { apiVersion, kind, namespace: namespace || undefined, name, uid };
}

/** ownerReferencesOf returns an object's ownerReferences that name an apiVersion, kind, name and uid. */
export function ownerReferencesOf(obj: Readonly<KubeObject>): Array<Record<string, unknown>> {
  const refs = readMetadata(obj).ownerReferences;
  return Array.isArray(refs) ? refs.filter((r) => isRecord(r) && r.uid && r.name && r.kind && r.apiVersion) : [];
}

/** identityOfRef is the owner a reference of an object in `namespace` names; undefined for a kind the server does not serve. */
export function identityOfRef(ref: Record<string, unknown>, namespace: string | undefined): OwnerIdentity | undefined {
  const r = findResourceByKind(String(ref.apiVersion), String(ref.kind));
  if (!r) return undefined;
  return { apiVersion: String(ref.apiVersion), kind: String(ref.kind), namespace: r.namespaced ? namespace : undefined, name: String(ref.name), uid: String(ref.uid) };
}

/** identityOf is an object's own identity as an owner. */
export function identityOf(obj: Readonly<KubeObject>): OwnerIdentity | undefined {
  const meta = readMetadata(obj);
  if (!meta.uid || !meta.name || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return undefined;
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: meta.namespace, name: meta.name, uid: meta.uid };
}

/** waitsForCollector tells whether an object is being deleted with the collector's finalizers on it. */
export function waitsForCollector(obj: Readonly<KubeObject>): boolean {
  const meta = readMetadata(obj);
  return meta.deletionTimestamp !== undefined && (meta.finalizers ?? []).some((f) => f === FOREGROUND || f === ORPHAN);
}

/**
 * garbageCollectorKeys maps a change to the owners to look at: every owner the object references
 * (now or before the change: a removed reference may unblock a foreground deletion), and the
 * object itself when it is gone (its dependents may need deleting) or waits for the collector.
 */
export function garbageCollectorKeys(change: Change): string[] {
  const keys = new Set<string>();
  const namespace = readMetadata(change.value).namespace;
  for (const obj of [change.value, change.prevValue]) {
    if (!obj) continue;
    for (const ref of ownerReferencesOf(obj)) {
      const id = identityOfRef(ref, namespace);
      if (id) keys.add(ownerKey(id));
    }
  }
  const self = identityOf(change.value);
  if (self && (change.type === 'delete' || waitsForCollector(change.value))) keys.add(ownerKey(self));
  return [...keys];
}
