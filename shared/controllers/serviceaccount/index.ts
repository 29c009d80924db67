/**
 * The ServiceAccount controller (upstream's serviceaccounts-controller): every active namespace has
 * a ServiceAccount named `default`, created when the namespace appears and again if it is deleted.
 * Keys are namespace names.
 */
import type { Controller } from '../controller.js';
import { namespaceNames, perNamespaceObjectKeys } from '../pernamespace.js';
import { DEFAULT_SERVICE_ACCOUNT, reconcileServiceAccounts } from './reconcile.js';

/** serviceAccountKeys maps a change to the namespace to look at: a namespace written, or a `default` ServiceAccount deleted. */
export const serviceAccountKeys = perNamespaceObjectKeys('ServiceAccount', DEFAULT_SERVICE_ACCOUNT, ['delete']);

/** serviceAccountController keeps a `default` ServiceAccount in every namespace. */
export const serviceAccountController: Controller = {
  name: 'serviceaccount',
  kinds: ['Namespace', 'ServiceAccount'],
  keysFor: serviceAccountKeys,
  reconcile: reconcileServiceAccounts,
  resync: namespaceNames,
};
