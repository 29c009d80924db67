/**
 * The ServiceAccount controller (upstream's serviceaccounts-controller): every active namespace has
 * a ServiceAccount named `default`, created when the namespace appears and again if it is deleted.
 * Keys are namespace names.
 */
import { isApiError } from '../../api/status.js';
import { readMetadata } from '../../api/objects.js';
import type { Change } from '../change.js';
import { resourceFor } from '../client.js';
import type { Controller, ControllerContext } from '../controller.js';

/** DEFAULT_SERVICE_ACCOUNT is the ServiceAccount every namespace gets (and pods use when they name none). */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

const NAMESPACES = resourceFor('v1', 'Namespace');
const SERVICE_ACCOUNTS = resourceFor('v1', 'ServiceAccount');

/** serviceAccountKeys maps a change to the namespace to look at: a namespace written, or a `default` ServiceAccount deleted. */
export function serviceAccountKeys(change: Change): string[] {
  const meta = readMetadata(change.value);
  if (change.value.kind === 'Namespace') return change.type === 'put' && meta.name ? [String(meta.name)] : [];
  if (change.value.kind === 'ServiceAccount' && change.type === 'delete' && meta.name === DEFAULT_SERVICE_ACCOUNT && meta.namespace) return [String(meta.namespace)];
  return [];
}

/**
 * reconcileServiceAccounts creates the `default` ServiceAccount of namespace `key` when it is
 * missing and the namespace is active. A namespace that is gone or terminating returns quietly.
 */
export async function reconcileServiceAccounts(key: string, ctx: ControllerContext): Promise<void> {
  const ns = await ctx.client.getOrUndefined(NAMESPACES, { name: key });
  if (!ns || readMetadata(ns).deletionTimestamp !== undefined) return;
  if (await ctx.client.getOrUndefined(SERVICE_ACCOUNTS, { namespace: key, name: DEFAULT_SERVICE_ACCOUNT })) return;
  try {
    await ctx.client.create(SERVICE_ACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace: key } }, { namespace: key });
  } catch (err) {
    // Created meanwhile, or the namespace began terminating (403): nothing to do either way.
    if (isApiError(err) && (err.code === 409 || err.code === 403)) return;
    throw err;
  }
}

/** serviceAccountController keeps a `default` ServiceAccount in every namespace. */
export const serviceAccountController: Controller = {
  name: 'serviceaccount',
  kinds: ['Namespace', 'ServiceAccount'],
  keysFor: serviceAccountKeys,
  reconcile: reconcileServiceAccounts,
  async resync(ctx) {
    return (await ctx.client.listAll(NAMESPACES)).map((ns) => String(readMetadata(ns).name));
  },
};
