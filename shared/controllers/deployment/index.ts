/**
 * The Deployment controller's descriptor: Deployment, ReplicaSet and Pod changes, keyed
 * `<namespace>/<name>` (keys.ts), reconciled by reconcileDeployment (reconcile.ts). Rollouts run
 * as durable orchestrations: the registry lists `deploymentOrchestration`, so the change feed
 * starts or signals `deployment:<namespace>/<name>`, which functions/deployment.ts registers.
 */
import type { Change } from '../change.js';
import type { OrchestratedController } from '../controller.js';
import { DeploymentIndex, deploymentKeys } from './keys.js';

/** DEPLOYMENT_CONTROLLER is the controller's name (and its orchestration's). */
export const DEPLOYMENT_CONTROLLER = 'deployment';

/** deploymentOrchestrationWith builds the orchestrated descriptor (its caches are its own). */
export function deploymentOrchestrationWith(orchestration: string): OrchestratedController {
  const index = new DeploymentIndex();
  return { name: DEPLOYMENT_CONTROLLER, kinds: ['Deployment', 'ReplicaSet', 'Pod'], keysFor: (change: Change) => deploymentKeys(change, index), orchestration };
}

/** deploymentOrchestration is the Deployment controller, one durable orchestration per Deployment. */
export const deploymentOrchestration: OrchestratedController = deploymentOrchestrationWith(DEPLOYMENT_CONTROLLER);
