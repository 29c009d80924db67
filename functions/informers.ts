/**
 * The runtime's shared informers: one watch-fed cache per resource for every controller of this
 * process (client-go's shared informer factory), over one in-process API client under the
 * controllers' identity. The scheduler and the ReplicaSet controller read pods from the same
 * cache instead of each listing them (ControllerContext.informer).
 */
import type { ApiClient } from '../shared/controllers/client.js';
import { controllerContext, INFORMERS_COMPONENT } from './api.js';

export { logInformerError } from './api.js';

/** informerClient is the API client the current runtime's shared informers read through (built on first use). */
export async function informerClient(): Promise<ApiClient> {
  return (await controllerContext(INFORMERS_COMPONENT)).client;
}
