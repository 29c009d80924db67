/**
 * The runtime's shared informers: one watch-fed cache per resource for every controller of this
 * process (client-go's shared informer factory), over one in-process API client under the
 * controllers' identity. The scheduler and the ReplicaSet controller read pods from the same
 * cache instead of each listing them.
 */
import type { ApiClient } from '../shared/controllers/client.js';
import { controllerContext } from './api.js';

/** informerClient is the API client the current runtime's shared informers read through (built on first use). */
export async function informerClient(): Promise<ApiClient> {
  return (await controllerContext('coracle-informers')).client;
}

/** logInformerError reports a failed list or watch (the informer retries by itself). */
export function logInformerError(err: unknown): void {
  console.warn(`informer: ${(err as Error).message}`);
}
