/**
 * Node lifecycle: the periodic node monitor (monitor.ts: Unknown conditions for silent nodes,
 * condition taints, taint-based eviction; run by functions/nodelifecycle.ts on a timer) and the
 * pod garbage collector for pods on deleted nodes (podgc.ts) and the condition-taint controller
 * reacting to Node changes (taints.ts), both in-process controllers of the change feed.
 */
export { DEFAULT_NODE_MONITOR_GRACE_MS, monitorNodes, NODE_LEASE_NAMESPACE, type NodeMonitorReport, type NodeMonitorSettings } from './monitor.js';
export { POD_GC_CONTROLLER, podGcController } from './podgc.js';
export { NODE_TAINT_CONTROLLER, nodeTaintController } from './taints.js';
export {
  TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, NODE_STATUS_UNKNOWN_MESSAGE, HeartbeatObserver,
} from './health.js';

/** NODE_LIFECYCLE_CONTROLLER is the node monitor's name (its timer function's, and its events' component). */
export const NODE_LIFECYCLE_CONTROLLER = 'node-controller';
