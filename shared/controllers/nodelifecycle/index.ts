/**
 * Node lifecycle: the node monitor (monitor.ts: Unknown conditions for silent nodes, condition
 * taints, taint-based eviction; run by functions/nodelifecycle.ts as a reconcile orchestration
 * woken by Node and node Lease changes and by a durable timer at its next deadline) and the
 * pod garbage collector for pods on deleted nodes (podgc.ts) and the condition-taint controller
 * reacting to Node changes (taints.ts), both in-process controllers of the change feed.
 */
export { DEFAULT_NODE_MONITOR_GRACE_MS, monitorNodes, nextPassDelayMs, NODE_LEASE_NAMESPACE, type NodeMonitorReport, type NodeMonitorSettings } from './monitor.js';
import type { Change } from '../change.js';
import type { OrchestratedController } from '../controller.js';
import { readMetadata } from '../../api/objects.js';
import { NODE_LEASE_NAMESPACE } from './monitor.js';
export { POD_GC_CONTROLLER, podGcController } from './podgc.js';
export { NODE_TAINT_CONTROLLER, nodeTaintController } from './taints.js';
export {
  TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, NODE_STATUS_UNKNOWN_MESSAGE, HeartbeatObserver,
} from './health.js';

/** NODE_LIFECYCLE_CONTROLLER is the node monitor's name (its timer function's, and its events' component). */
export const NODE_LIFECYCLE_CONTROLLER = 'node-controller';

/** NODE_MONITOR is the monitor's reconcile orchestration; it has one key, NODE_MONITOR_KEY (a pass covers every node). */
export const NODE_MONITOR = 'node-monitor';
/** NODE_MONITOR_KEY is the monitor's only key. */
export const NODE_MONITOR_KEY = 'nodes';

/**
 * nodeMonitorKeys wakes the monitor on a change of any Node and of any Lease in kube-node-lease
 * (a node's heartbeat): node health rides on those changes, and between them on the timer the
 * pass asks for (nextPassDelayMs), so an idle cluster with no nodes has nothing firing at all.
 */
export function nodeMonitorKeys(change: Change): string[] {
  if (change.value.kind === 'Node') return [NODE_MONITOR_KEY];
  if (change.value.kind === 'Lease' && readMetadata(change.value).namespace === NODE_LEASE_NAMESPACE) return [NODE_MONITOR_KEY];
  return [];
}

/** nodeMonitorOrchestration is the monitor's descriptor for the change feed (registry.ts). */
export const nodeMonitorOrchestration: OrchestratedController = {
  name: NODE_MONITOR,
  kinds: ['Node', 'Lease'],
  keysFor: nodeMonitorKeys,
  orchestration: NODE_MONITOR,
  // After a restart one pass runs, which sets the next timer.
  resync: async () => [NODE_MONITOR_KEY],
};
