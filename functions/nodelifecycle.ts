/**
 * The node monitor as a timer-triggered function: every 5 seconds (kube-controller-manager's
 * nodeMonitorPeriod) one stateless pass of monitorNodes — silent nodes turn Unknown and get the
 * unreachable taints, taints follow conditions, NoExecute taints evict pods once their
 * tolerations run out, returning nodes lose their taints.
 *
 * Why a timer trigger rather than an eternal orchestration with timers: the monitor keeps no
 * state between passes but one (everything, down to when a taint was added, is read back from the
 * API; only when each heartbeat was seen to change is kept in memory, as kube-controller-manager
 * does, so that a node's clock cannot keep it Ready),
 * so the durable engine would only add history writes every few seconds for nothing to replay.
 * The Functions host already runs a timer trigger as a singleton (one instance at a time, never
 * overlapping itself; a pass still running when the next tick comes skips that tick), which is
 * exactly the single-writer guarantee the monitor wants. Its event-driven twin, pod GC for
 * deleted nodes, runs from the change feed (registry: podGcController).
 *
 * Settings: `CORACLE_NODE_MONITOR_GRACE_SECONDS` (default 40): how long a node's agent may be
 * silent before the node is Unknown. The pods' default toleration of unreachable / not-ready
 * nodes is the API server's setting (`CORACLE_DEFAULT_TOLERATION_SECONDS`, functions/apiserver.ts).
 */
import { app, type InvocationContext } from '@azure/functions';
import type { ControllerContext } from '../shared/controllers/controller.js';
import { EventRecorder } from '../shared/controllers/events.js';
import { HeartbeatObserver, monitorNodes, NODE_LIFECYCLE_CONTROLLER } from '../shared/controllers/nodelifecycle/index.js';
import { controllerContext } from './api.js';
import { getAppContext, type AppContext } from './runtime.js';

/** NODE_MONITOR_SCHEDULE is the monitor's NCRONTAB schedule: every 5 seconds. */
export const NODE_MONITOR_SCHEDULE = '*/5 * * * * *';

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

/** runNodeMonitor is the timer's handler: one pass, logged when it changed something. */
export async function runNodeMonitor(_timer: unknown, context: InvocationContext): Promise<void> {
  const { ctx, recorder, observer } = await monitor();
  const report = await monitorNodes(ctx, { gracePeriodMs: (await getAppContext()).config.nodeMonitorGraceMs, observer }, recorder);
  if (report.markedUnknown.length + report.taintsChanged.length + report.evicted.length > 0) {
    context.log(`node monitor: unknown [${report.markedUnknown.join(', ')}] taints changed [${report.taintsChanged.join(', ')}] evicted [${report.evicted.join(', ')}]`);
  }
}

app.timer(NODE_LIFECYCLE_CONTROLLER, { schedule: NODE_MONITOR_SCHEDULE, handler: runNodeMonitor });
