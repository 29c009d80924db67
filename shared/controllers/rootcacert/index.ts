/**
 * The root CA publisher (upstream's root-ca-cert-publisher): every active namespace has a
 * ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, which pods' projected
 * ServiceAccount volumes mount to verify the API server. Made again if deleted, put back if
 * changed. Keys are namespace names.
 */
import type { Controller } from '../controller.js';
import { namespaceNames, perNamespaceObjectKeys } from '../pernamespace.js';
import { ROOT_CA_CONFIGMAP } from '../../rbac/podserviceaccount.js';
import { reconcileRootCaConfigMap } from './reconcile.js';

/** rootCaKeys maps a change to the namespace to look at: a namespace written, or its `kube-root-ca.crt` written or deleted. */
export const rootCaKeys = perNamespaceObjectKeys('ConfigMap', ROOT_CA_CONFIGMAP, ['put', 'delete']);

/** rootCaCertPublisher keeps `kube-root-ca.crt` in every namespace. */
export const rootCaCertPublisher: Controller = {
  name: 'root-ca-cert-publisher',
  kinds: ['Namespace', 'ConfigMap'],
  keysFor: rootCaKeys,
  reconcile: reconcileRootCaConfigMap,
  async resync(ctx) {
    return ctx.clusterCaPem ? namespaceNames(ctx) : [];
  },
};
