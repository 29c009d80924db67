/**
 * Replication as a durable orchestration: registers the reconcile orchestration `replicaset`
 * (one eternal instance per ReplicaSet, `replicaset:<namespace>/<name>`, see orchestration.ts)
 * whose activity runs reconcileReplicaSet against the API in-process, under the controllers'
 * identity. The change feed starts or signals the instances when the registry lists
 * `replicaSetOrchestration`; with `replicaSetController` there instead, the same reconcile runs
 * in the change feed's in-process queue and this registration stays idle.
 */
import { createApiServer } from '../shared/apiserver/index.js';
import { ApiClient } from '../shared/controllers/client.js';
import type { ControllerContext } from '../shared/controllers/controller.js';
import { REPLICASET_CONTROLLER } from '../shared/controllers/replicaset/index.js';
import { reconcileReplicaSet } from '../shared/controllers/replicaset/reconcile.js';
import { registerReconcileOrchestration } from './orchestration.js';
import { getRuntime, type Runtime } from './runtime.js';

// One context (one client, hence one event recorder) per runtime: identical events count up.
const contexts = new WeakMap<Runtime, ControllerContext>();

/** controllerContext is the reconcile's API client on the current runtime (built on first use). */
async function controllerContext(): Promise<ControllerContext> {
  const runtime = await getRuntime();
  let ctx = contexts.get(runtime);
  if (!ctx) {
    const handler = createApiServer({ store: runtime.store, tokens: runtime.tokens });
    const client = new ApiClient(handler, { baseUrl: 'http://in-process', token: runtime.controllerToken, userAgent: 'coracle-replicaset-controller' });
    contexts.set(runtime, (ctx = { client, now: () => new Date() }));
  }
  return ctx;
}

registerReconcileOrchestration({
  name: REPLICASET_CONTROLLER,
  reconcile: async (key) => reconcileReplicaSet(key, await controllerContext()),
});
