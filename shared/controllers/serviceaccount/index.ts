/**
 * The ServiceAccount controller (upstream's serviceaccounts-controller): every active namespace has
 * a ServiceAccount named `default`, created when the namespace appears and again if it is deleted.
 * Keys are namespace names.
 */
import { readMetadata } from '../../api/objects.js';
import type { Change } from '../change.js';
import { resourceFor } from '../client.js';
import type { Controller } from '../controller.js';
import { DEFAULT_SERVICE_ACCOUNT, reconcileServiceAccounts } from './reconcile.js';

/** serviceAccountKeys maps a change to the namespace to look at: a namespace written, or a `default` ServiceAccount deleted. */
export function serviceAccountKeys(change: Change): string[] {
  const meta = readMetadata(change.value);
  if (change.value.kind === 'Namespace') return change.type === 'put' && meta.name ? [String(meta.name)] : [];
  if (change.value.kind === 'ServiceAccount' && change.type === 'delete' && meta.name === DEFAULT_SERVICE_ACCOUNT && meta.namespace) return [String(meta.namespace)];
  return [];
}

/** serviceAccountController keeps a `default` ServiceAccount in every namespace. */
export const serviceAccountController: Controller = {
  name: 'serviceaccount',
  kinds: ['Namespace', 'ServiceAccount'],
  keysFor: serviceAccountKeys,
  reconcile: reconcileServiceAccounts,
  async resync(ctx) {
    return (await ctx.client.listAll(resourceFor('v1', 'Namespace'))).map((ns) => String(readMetadata(ns).name));
  },
};
