/**
 * Replication as a durable orchestration: registers the reconcile orchestration `replicaset`
 * (one eternal instance per ReplicaSet, `replicaset:<namespace>/<name>`, see orchestration.ts)
 * whose activity runs reconcileReplicaSet against the API in-process, under the controllers'
 * identity. The change feed starts or signals the instances when the registry lists
 * `replicaSetOrchestration`; with `replicaSetController` there instead, the same reconcile runs
 * in the change feed's in-process queue and this registration stays idle.
 */
import { REPLICASET_CONTROLLER } from '../shared/controllers/replicaset/index.js';
import { reconcileReplicaSet } from '../shared/controllers/replicaset/reconcile.js';
import { registerReconcileOrchestration } from './orchestration.js';
import { controllerContext } from './api.js';


registerReconcileOrchestration({
  name: REPLICASET_CONTROLLER,
  reconcile: async (key) => reconcileReplicaSet(key, await controllerContext('coracle-replicaset-controller')),
});
