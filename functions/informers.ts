/**
 * The runtime's shared informers: one watch-fed cache per resource for every controller of this
 * process (client-go's shared informer factory), over one in-process API client under the
 * controllers' identity. The scheduler and the ReplicaSet controller read pods from the same
 * cache instead of each listing them.
 */
import { createApiServer } from '../shared/apiserver/index.js';
import { ApiClient } from '../shared/controllers/client.js';
import { getRuntime, type Runtime } from './runtime.js';

const clients = new WeakMap<Runtime, ApiClient>();

/** informerClient is the API client the current runtime's shared informers read through (built on first use). */
export async function informerClient(): Promise<ApiClient> {
  const runtime = await getRuntime();
  let client = clients.get(runtime);
  if (!client) {
    const handler = createApiServer({ store: runtime.store, tokens: runtime.tokens });
    clients.set(runtime, (client = new ApiClient(handler, { baseUrl: 'http://in-process', token: runtime.controllerToken, userAgent: 'coracle-informers' })));
  }
  return client;
}

/** logInformerError reports a failed list or watch (the informer retries by itself). */
export function logInformerError(err: unknown): void {
  console.warn(`informer: ${(err as Error).message}`);
}
