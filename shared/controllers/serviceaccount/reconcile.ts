/** The ServiceAccount controller's reconcile: keys are namespace names (see index.ts). */
import { isApiError } from '../../api/status.js';
import { readMetadata } from '../../api/objects.js';
import { resourceFor } from '../client.js';
import type { ControllerContext } from '../controller.js';

/** DEFAULT_SERVICE_ACCOUNT is the ServiceAccount every namespace gets (and pods use when they name none). */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

const NAMESPACES = resourceFor('v1', 'Namespace');
const SERVICE_ACCOUNTS = resourceFor('v1', 'ServiceAccount');

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

