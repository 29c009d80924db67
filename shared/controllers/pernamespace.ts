/**
 * Helpers of the controllers that keep one named object in every namespace (the `default`
 * ServiceAccount, the `kube-root-ca.crt` ConfigMap): their keys are namespace names.
 */
import { readMetadata } from '../api/objects.js';
import type { Change } from './change.js';
import { resourceFor } from './client.js';
import type { ControllerContext } from './controller.js';

/**
 * perNamespaceObjectKeys maps a change to the namespace to look at: a namespace written, or the
 * kept object (`kind` named `name`) changed in one of the ways in `on`.
 */
export function perNamespaceObjectKeys(kind: string, name: string, on: ReadonlyArray<Change['type']>): (change: Change) => string[] {
  return (change) => {
    const meta = readMetadata(change.value);
    if (change.value.kind === 'Namespace') return change.type === 'put' && meta.name ? [String(meta.name)] : [];
    if (change.value.kind === kind && on.includes(change.type) && meta.name === name && meta.namespace) return [String(meta.namespace)];
    return [];
  };
}

/** namespaceNames lists every namespace's name (the resync of a per-namespace controller). */
export async function namespaceNames(ctx: ControllerContext): Promise<string[]> {
  return (await ctx.client.listAll(resourceFor('v1', 'Namespace'))).map((ns) => String(readMetadata(ns).name));
}
