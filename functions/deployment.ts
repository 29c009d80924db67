/**
 * Rollouts as durable orchestrations: registers the reconcile orchestration `deployment` (one
 * eternal instance per Deployment, `deployment:<namespace>/<name>`, see orchestration.ts) whose
 * activity runs reconcileDeployment against the API in-process, under the controllers'
 * identity. The change feed starts or signals the instances (the registry lists
 * `deploymentOrchestration`); a reconcile's requeueAfterMs (the progress deadline, a Recreate
 * waiting for old pods) becomes the instance's durable timer, so a rollout resumes where it was
 * after the host is killed.
 */
import { createApiServer } from '../shared/apiserver/index.js';
import { ApiClient } from '../shared/controllers/client.js';
import type { ControllerContext } from '../shared/controllers/controller.js';
import { DEPLOYMENT_CONTROLLER } from '../shared/controllers/deployment/index.js';
import { reconcileDeployment } from '../shared/controllers/deployment/reconcile.js';
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
    const client = new ApiClient(handler, { baseUrl: 'http://in-process', token: runtime.controllerToken, userAgent: 'coracle-deployment-controller' });
    contexts.set(runtime, (ctx = { client, now: () => new Date() }));
  }
  return ctx;
}

registerReconcileOrchestration({
  name: DEPLOYMENT_CONTROLLER,
  reconcile: async (key) => reconcileDeployment(key, await controllerContext()),
  // Conflicts are answered with a short requeue; a real failure retries sooner than the default.
  retry: { firstRetryIntervalMs: 250, maxNumberOfAttempts: 5, backoffCoefficient: 2, maxRetryIntervalMs: 10_000 },
});
