/**
 * The controllers the change feed runs, wired in one place (kube-controller-manager's list of
 * `{name, start}` descriptors). Adding a controller is adding it here.
 */
import type { ControllerDescriptor } from './controller.js';
import { deploymentOrchestration } from './deployment/index.js';
import { disruptionController } from './disruption/index.js';
import { endpointSliceController } from './endpointslice/index.js';
import { eventTtlOrchestration } from './eventttl.js';
import { garbageCollector } from './garbagecollector/index.js';
import { namespaceController } from './namespace/index.js';
import { nodeMonitorOrchestration, nodeTaintController, podGcController } from './nodelifecycle/index.js';
import { replicaSetOrchestration } from './replicaset/index.js';
import { schedulerOrchestration } from './scheduler/index.js';
import { upgradeOrchestration } from './upgrade.js';
import { autoUpgradeOrchestration } from './autoupgrade.js';
import { nodePoolStatusController } from './nodepool/index.js';
import { clusterStorageController } from './clusterstatus/index.js';
import { serviceAccountController } from './serviceaccount/index.js';
import { rootCaCertPublisher } from './rootcacert/index.js';

/**
 * CONTROLLERS are every controller the change feed drives, in no particular order: in-process
 * ones (a reconcile function, run by the ControllerManager) and orchestrated ones (an
 * `orchestration` name, started or signalled per key through the durable client).
 */
export const CONTROLLERS: readonly ControllerDescriptor[] = [garbageCollector, namespaceController, replicaSetOrchestration, schedulerOrchestration, deploymentOrchestration, disruptionController, podGcController, nodeTaintController, nodeMonitorOrchestration, eventTtlOrchestration, endpointSliceController, upgradeOrchestration, autoUpgradeOrchestration, nodePoolStatusController, clusterStorageController, serviceAccountController, rootCaCertPublisher];
