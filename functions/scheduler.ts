/**
 * Scheduling as a durable orchestration: registers the reconcile orchestration `scheduler`, whose
 * one instance `scheduler:default` (a singleton: one scheduler per cluster, as kube-scheduler's
 * leader election) runs the scheduling pass against the API in-process, under the controllers'
 * identity, from a watch-fed SchedulerCache, and comes back after UNSCHEDULABLE_RETRY_MS while
 * pods stay unschedulable. The change feed signals it when the registry lists
 * `schedulerOrchestration`; with `schedulerController` there instead, passes run in the change
 * feed's process and this registration stays idle.
 */
import { SCHEDULER_CONTROLLER } from '../shared/controllers/scheduler/index.js';
import { schedulerCacheFor } from '../shared/controllers/scheduler/cache.js';
import { reconcileScheduling } from '../shared/controllers/scheduler/reconcile.js';
import { registerReconcileOrchestration } from './orchestration.js';
import { informerClient, logInformerError } from './informers.js';
import { controllerContext } from './api.js';


registerReconcileOrchestration({
  name: SCHEDULER_CONTROLLER,
  reconcile: async (key) => {
    const ctx = await controllerContext('coracle-scheduler');
    // The watch-fed cache (shared pod and node informers, assumed bindings) lives as long as the runtime.
    const cache = await schedulerCacheFor(await informerClient(), logInformerError);
    return reconcileScheduling(key, ctx, cache);
  },
});
