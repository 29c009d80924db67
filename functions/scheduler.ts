/**
 * Scheduling as a durable orchestration: registers the reconcile orchestration `scheduler`, whose
 * one instance `scheduler:default` (a singleton: one scheduler per cluster, as kube-scheduler's
 * leader election) runs the scheduling pass against the API in-process, under the controllers'
 * identity, from a watch-fed SchedulerCache, and comes back after UNSCHEDULABLE_RETRY_MS while
 * pods stay unschedulable. The change feed signals it when the registry lists
 * `schedulerOrchestration`; with `schedulerController` there instead, passes run in the change
 * feed's process and this registration stays idle.
 */
import { createApiServer } from '../shared/apiserver/index.js';
import { ApiClient } from '../shared/controllers/client.js';
import type { ControllerContext } from '../shared/controllers/controller.js';
import { SCHEDULER_CONTROLLER } from '../shared/controllers/scheduler/index.js';
import { schedulerCacheFor } from '../shared/controllers/scheduler/cache.js';
import { reconcileScheduling } from '../shared/controllers/scheduler/reconcile.js';
import { registerReconcileOrchestration } from './orchestration.js';
import { informerClient, logInformerError } from './informers.js';
import { getRuntime, type Runtime } from './runtime.js';

// One context (one client, hence one event recorder) per runtime: repeated FailedScheduling events count up.
const contexts = new WeakMap<Runtime, ControllerContext>();

/** controllerContext is the pass's API client on the current runtime (built on first use). */
async function controllerContext(): Promise<ControllerContext> {
  const runtime = await getRuntime();
  let ctx = contexts.get(runtime);
  if (!ctx) {
    const handler = createApiServer({ store: runtime.store, tokens: runtime.tokens });
    const client = new ApiClient(handler, { baseUrl: 'http://in-process', token: runtime.controllerToken, userAgent: 'coracle-scheduler' });
    contexts.set(runtime, (ctx = { client, now: () => new Date() }));
  }
  return ctx;
}

registerReconcileOrchestration({
  name: SCHEDULER_CONTROLLER,
  reconcile: async (key) => {
    const ctx = await controllerContext();
    // The watch-fed cache (shared pod and node informers, assumed bindings) lives as long as the runtime.
    const cache = await schedulerCacheFor(await informerClient(), logInformerError);
    return reconcileScheduling(key, ctx, cache);
  },
});
