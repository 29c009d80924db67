/** The namespace controller's descriptor: keys are namespace names (see reconcile.ts). */
import { readMetadata } from '../../api/objects.js';
import type { Change } from '../change.js';
import { resourceFor } from '../client.js';
import type { Controller } from '../controller.js';
import { reconcileNamespace } from './reconcile.js';

/**
 * namespaceKeys maps a change to the namespace to look at: a namespace being deleted, or the
 * namespace of an object that was deleted or is being deleted (its namespace may be waiting for it).
 */
export function namespaceKeys(change: Change): string[] {
  const meta = readMetadata(change.value);
  const deleting = change.type === 'delete' || meta.deletionTimestamp !== undefined;
  if (!deleting) return [];
  if (change.value.kind === 'Namespace') return change.type === 'put' && meta.name ? [meta.name] : [];
  return meta.namespace ? [meta.namespace] : [];
}

/** namespaceController empties terminating namespaces and finalizes them. */
export const namespaceController: Controller = {
  name: 'namespace',
  kinds: '*',
  keysFor: namespaceKeys,
  reconcile: reconcileNamespace,
  async resync(ctx) {
    const namespaces = await ctx.client.listAll(resourceFor('v1', 'Namespace'));
    return namespaces.filter((ns) => readMetadata(ns).deletionTimestamp !== undefined).map((ns) => String(readMetadata(ns).name));
  },
};
