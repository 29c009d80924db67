/**
 * Rollouts as durable orchestrations: registers the reconcile orchestration `deployment` (one
 * eternal instance per Deployment, `deployment:<namespace>/<name>`, see orchestration.ts) whose
 * activity runs reconcileDeployment against the API in-process, under the controllers'
 * identity. The change feed starts or signals the instances (the registry lists
 * `deploymentOrchestration`); a reconcile's requeueAfterMs (the progress deadline, a Recreate
 * waiting for old pods) becomes the instance's durable timer, so a rollout resumes where it was
 * after the host is killed.
 */
import { DEPLOYMENT_CONTROLLER } from '../shared/controllers/deployment/index.js';
import { reconcileDeployment } from '../shared/controllers/deployment/reconcile.js';
import { registerReconcileOrchestration } from './orchestration.js';
import { controllerContext } from './api.js';


registerReconcileOrchestration({
  name: DEPLOYMENT_CONTROLLER,
  reconcile: async (key) => reconcileDeployment(key, await controllerContext('coracle-deployment-controller')),
  // Conflicts are answered with a short requeue; a real failure retries sooner than the default.
  retry: { firstRetryIntervalMs: 250, maxNumberOfAttempts: 5, backoffCoefficient: 2, maxRetryIntervalMs: 10_000 },
});
