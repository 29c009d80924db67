/**
 * Namespaces as the API server needs them: the four that always exist, and the lifecycle
 * admission checks (NamespaceLifecycle): a create in a missing namespace is 404, in a
 * Terminating one 403.
 */
import { RESOURCES, storageKey } from '../api/resources.js';
import { applyDefaults } from '../api/defaults.js';
import { forbidden, notFound } from '../api/status.js';
import { newUid, readMetadata, rfc3339Now } from '../api/objects.js';
import { isStoreError, type Store } from '../store/store.js';
import { decode } from './storage.js';

/** SYSTEM_NAMESPACES exist from the start and cannot be deleted. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

const NAMESPACES = RESOURCES.find((r) => r.plural === 'namespaces')!;

/** namespaceKey is where a namespace lives in the store. */
export function namespaceKey(name: string): string {
  return storageKey(NAMESPACES, undefined, name);
}

/** ensureSystemNamespaces creates the system namespaces that are missing (idempotent; safe to race). */
export async function ensureSystemNamespaces(store: Store, now = new Date()): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    if (await store.get(namespaceKey(name))) continue;
    const ns: Record<string, unknown> = {
      apiVersion: 'v1', kind: 'Namespace',
      metadata: { name, uid: newUid(), creationTimestamp: rfc3339Now(now) },
    };
    applyDefaults('Namespace', ns);
    try {
      await store.create(namespaceKey(name), ns);
    } catch (err) {
      if (!isStoreError(err, 'AlreadyExists')) throw err;
    }
  }
}

/**
 * assertNamespaceWritable refuses creating `plural`/`name` in namespace `ns` when it does not
 * exist (404 NotFound on the namespace, as Kubernetes) or is terminating (403 Forbidden).
 */
export async function assertNamespaceWritable(store: Store, ns: string, group: string, plural: string, name: string): Promise<void> {
  const kv = await store.get(namespaceKey(ns));
  if (!kv) throw notFound('', 'namespaces', ns);
  const obj = decode(kv);
  const phase = (obj.status as { phase?: string } | undefined)?.phase;
  if (readMetadata(obj).deletionTimestamp !== undefined || phase === 'Terminating') {
    throw forbidden(group, plural, name, `unable to create new content in namespace ${ns} because it is being terminated`, {
      reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace',
    });
  }
}
