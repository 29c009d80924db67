/**
 * The root CA publisher (upstream's root-ca-cert-publisher): every active namespace has a
 * ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, which pods' projected
 * ServiceAccount volumes mount to verify the API server. Made again if deleted, put back if
 * changed. Keys are namespace names.
 */
import { readMetadata } from '../../api/objects.js';
import type { Change } from '../change.js';
import { resourceFor } from '../client.js';
import type { Controller } from '../controller.js';
import { ROOT_CA_CONFIGMAP } from '../../rbac/podserviceaccount.js';
import { reconcileRootCaConfigMap } from './reconcile.js';

/** rootCaKeys maps a change to the namespace to look at: a namespace written, or its `kube-root-ca.crt` written or deleted. */
export function rootCaKeys(change: Change): string[] {
  const meta = readMetadata(change.value);
  if (change.value.kind === 'Namespace') return change.type === 'put' && meta.name ? [String(meta.name)] : [];
  if (change.value.kind === 'ConfigMap' && meta.name === ROOT_CA_CONFIGMAP && meta.namespace) return [String(meta.namespace)];
  return [];
}

/** rootCaCertPublisher keeps `kube-root-ca.crt` in every namespace. */
export const rootCaCertPublisher: Controller = {
  name: 'root-ca-cert-publisher',
  kinds: ['Namespace', 'ConfigMap'],
  keysFor: rootCaKeys,
  reconcile: reconcileRootCaConfigMap,
  async resync(ctx) {
    if (!ctx.clusterCaPem) return [];
    return (await ctx.client.listAll(resourceFor('v1', 'Namespace'))).map((ns) => String(readMetadata(ns).name));
  },
};
