/**
 * The node monitor as a reconcile orchestration (functions/orchestration.ts) with one key: one
 * stateless pass of monitorNodes — silent nodes turn Unknown and get the unreachable taints,
 * taints follow conditions, NoExecute taints evict pods once their tolerations run out, returning
 * nodes lose their taints.
 *
 * What wakes it: every change of a Node or of a node's Lease (the change feed signals the
 * orchestration; signals that arrive during a pass coalesce into one more pass), and a durable
 * timer set by each pass at its next deadline — when the first node that is heard from now would
 * turn silent, or the first eviction falls due (nextPassDelayMs). With no nodes there is no
 * deadline and nothing fires until a change, or the hourly resync: an idle control plane can
 * scale to zero. (It was a 5-second timer trigger, kube-controller-manager's nodeMonitorPeriod,
 * which kept an instance running forever.) One orchestration instance means one pass at a time,
 * the single writer the monitor wants.
 *
 * A pass may run at any moment (another node's renewal wakes it), so a node is declared silent
 * only grace + 5 s (upstream's nodeMonitorPeriod) after it was last heard from, the latest moment
 * kube-controller-manager's 5 s loop would: a renewal a few milliseconds late never counts.
 *
 * Only when each heartbeat was seen to change is kept in memory between passes (as
 * kube-controller-manager does, so that a node's clock cannot keep it Ready); since Lease changes
 * wake a pass, a renewal is seen within a pass's time of being written.
 *
 * Settings: `CORACLE_NODE_MONITOR_GRACE_SECONDS` (default 40): how long a node's agent may be
 * silent before the node is Unknown. The pods' default toleration of unreachable / not-ready
 * nodes is the API server's setting (`CORACLE_DEFAULT_TOLERATION_SECONDS`, functions/apiserver.ts).
 */
import type { ControllerContext } from '../shared/controllers/controller.js';
import { EventRecorder } from '../shared/controllers/events.js';
import { HeartbeatObserver, monitorNodes, nextPassDelayMs, NODE_LIFECYCLE_CONTROLLER, NODE_MONITOR } from '../shared/controllers/nodelifecycle/index.js';
import { controllerContext } from './api.js';
import { getAppContext, type AppContext } from './runtime.js';
import { registerReconcileOrchestration, type ReconcileResult } from './orchestration.js';

/** NODE_MONITOR_PERIOD_MS is kube-controller-manager's nodeMonitorPeriod, kept as slack on the grace period (see NodeMonitorSettings.monitorPeriodMs). */
export const NODE_MONITOR_PERIOD_MS = 5_000;
/** NODE_MONITOR_RESYNC_MS is how long the monitor sleeps with no deadline ahead and no change (1 hour). */
export const NODE_MONITOR_RESYNC_MS = 60 * 60_000;

interface Monitor {
  ctx: ControllerContext;
  recorder: EventRecorder;
  /** When each node's heartbeat was seen to change, on this process's clock (kept across passes). */
  observer: HeartbeatObserver;
}
const monitors = new WeakMap<AppContext, Monitor>();

async function monitor(): Promise<Monitor> {
  const runtime = await getAppContext();
  let m = monitors.get(runtime);
  if (!m) {
    const ctx = await controllerContext('coracle-node-lifecycle-controller');
    monitors.set(runtime, (m = { ctx, recorder: new EventRecorder(ctx.client, { component: NODE_LIFECYCLE_CONTROLLER, now: ctx.now }), observer: new HeartbeatObserver() }));
  }
  return m;
}

/** runNodeMonitor is one pass, logged when it changed something; it answers when to look again without a change. */
export async function runNodeMonitor(): Promise<ReconcileResult> {
  const { ctx, recorder, observer } = await monitor();
  const report = await monitorNodes(ctx, { gracePeriodMs: (await getAppContext()).config.nodeMonitorGraceMs, monitorPeriodMs: NODE_MONITOR_PERIOD_MS, observer }, recorder);
  if (report.markedUnknown.length + report.taintsChanged.length + report.evicted.length > 0) {
    console.info(`node monitor: unknown [${report.markedUnknown.join(', ')}] taints changed [${report.taintsChanged.join(', ')}] evicted [${report.evicted.join(', ')}]`);
  }
  return { requeueAfterMs: nextPassDelayMs(report, ctx.now()) };
}

registerReconcileOrchestration({ name: NODE_MONITOR, reconcile: runNodeMonitor, resyncAfterMs: NODE_MONITOR_RESYNC_MS });
