/**
 * The node monitor: one level-triggered pass over every node (kube-controller-manager's node
 * lifecycle controller, `monitorNodeHealth` every nodeMonitorPeriod, plus its NoExecute taint
 * manager). Per node:
 * 1. a node whose agent is silent past the grace period gets its conditions Unknown (a
 *    compare-and-swap on the status, so an agent posting at that moment wins: the next pass
 *    looks again), and its pods' Ready condition turns False (they are not known to serve);
 * 2. its controller-owned taints follow its conditions (unreachable / not-ready, NoSchedule and
 *    NoExecute; pressure; unschedulable when cordoned) — a node that came back loses them;
 * 3. pods on a node with NoExecute taints are deleted once their tolerations run out. The delete
 *    is graceful: on an unreachable node they stay Terminating until the agent returns (or the
 *    node is deleted: pod GC), and their ReplicaSet replaces them meanwhile, elsewhere, since
 *    the scheduler keeps pods off tainted nodes.
 * It keeps no state between passes: everything is read back from the API.
 */
import { findResourceByKind } from '../../api/resources.js';
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../../api/objects.js';
import type { ControllerContext } from '../controller.js';
import type { EventRecorder } from '../events.js';
import { ignoreNotFound, updateWithRetry } from '../update.js';
import { forEachLimited } from '../scheduler/reconcile.js';
import { conditionsOf, HeartbeatObserver, isSilent, nextTaints, readyStatus, taintsOf, unknownConditions, wantedTaints } from './health.js';
import { planNoExecuteEvictions } from './noexecute.js';

const NODES = findResourceByKind('v1', 'Node')!;
const PODS = findResourceByKind('v1', 'Pod')!;
const LEASES = findResourceByKind('coordination.k8s.io/v1', 'Lease')!;

/** NODE_LEASE_NAMESPACE holds one Lease per node, named after it. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** DEFAULT_NODE_MONITOR_GRACE_MS is how long an agent may be silent before its node is Unknown (40 s, as upstream). */
export const DEFAULT_NODE_MONITOR_GRACE_MS = 40_000;

/** NodeMonitorSettings tune the monitor. */
export interface NodeMonitorSettings {
  /** How long an agent may stay silent (no Lease renewal, no status) before its node turns Unknown. */
  gracePeriodMs: number;
  /**
   * Slack added to the grace period (default 0). kube-controller-manager checks every
   * nodeMonitorPeriod (5 s), so a node is declared between grace and grace + 5 s after it was last
   * heard from, and a renewal a little late never counts. A monitor woken by every change (any
   * node's Lease renewal) checks at arbitrary moments instead, so it takes the same slack
   * explicitly: a node turns silent at grace + monitorPeriodMs.
   */
  monitorPeriodMs?: number;
  /** Nodes handled at once (default 8). */
  concurrency?: number;
  /**
   * When the monitor observed each node's heartbeat change: keep one across passes so that node
   * health runs on the server's clock (see HeartbeatObserver). Absent: a fresh one per pass.
   */
  observer?: HeartbeatObserver;
}

/** NodeMonitorReport says what one pass did (names), for logs and tests. */
export interface NodeMonitorReport {
  nodes: number;
  markedUnknown: string[];
  taintsChanged: string[];
  /** `<namespace>/<name>` of the pods marked for deletion by NoExecute taints. */
  evicted: string[];
  /** The earliest later eviction deadline (ms since the epoch), if any. */
  nextEvictionAt?: number;
  /** The earliest time a node that is heard from now turns silent if it stays quiet (ms since the epoch), if any. */
  nextSilentAt?: number;
}

/**
 * nextPassDelayMs is how long the monitor may sleep after a pass when nothing changes: until the
 * first node could turn silent or the first eviction falls due (at least `minMs`), or undefined
 * when no deadline is ahead (no nodes, or every one already handled): then only a change wakes it.
 */
export function nextPassDelayMs(report: Pick<NodeMonitorReport, 'nextEvictionAt' | 'nextSilentAt'>, now: Date, minMs = 1000): number | undefined {
  const at = Math.min(report.nextEvictionAt ?? Infinity, report.nextSilentAt ?? Infinity);
  return at === Infinity ? undefined : Math.max(minMs, at - now.getTime());
}

/** monitorNodes runs one pass over every node (see the file comment); a failure on one node does not stop the others. */
export async function monitorNodes(ctx: ControllerContext, settings: NodeMonitorSettings, recorder?: EventRecorder): Promise<NodeMonitorReport> {
  const [nodes, leases] = await Promise.all([ctx.client.listAll(NODES), ctx.client.listAll(LEASES, { namespace: NODE_LEASE_NAMESPACE })]);
  const leaseOf = new Map(leases.map((l) => [String(readMetadata(l).name), l]));
  const observer = settings.observer ?? new HeartbeatObserver();
  observer.retain(new Set(nodes.map((n) => String(readMetadata(n).name))));
  settings = { ...settings, observer };
  const report: NodeMonitorReport = { nodes: nodes.length, markedUnknown: [], taintsChanged: [], evicted: [] };
  const failures: Error[] = [];
  await forEachLimited(nodes, settings.concurrency ?? 8, async (node) => {
    try {
      await monitorNode(ctx, settings, node, leaseOf.get(String(readMetadata(node).name)), report, recorder);
    } catch (err) {
      failures.push(err as Error);
    }
  });
  if (failures.length > 0) throw new AggregateError(failures, `node monitor: ${failures.length} node(s) failed: ${failures[0]!.message}`);
  return report;
}

async function monitorNode(
  ctx: ControllerContext, settings: NodeMonitorSettings, listed: KubeObject, lease: KubeObject | undefined,
  report: NodeMonitorReport, recorder?: EventRecorder,
): Promise<void> {
  const name = String(readMetadata(listed).name);
  let node: KubeObject | undefined = listed;
  const graceMs = settings.gracePeriodMs + (settings.monitorPeriodMs ?? 0);
  const silent = isSilent(listed, lease, ctx.now(), graceMs, settings.observer);
  // One millisecond past the grace period: isSilent is strict (silent only after it).
  if (!silent && settings.observer) report.nextSilentAt = Math.min(report.nextSilentAt ?? Infinity, settings.observer.observedAt(listed, lease, ctx.now()) + graceMs + 1);
  if (silent && unknownConditions(conditionsOf(listed), ctx.now())) {
    const wasReady = readyStatus(listed) === 'True';
    node = await updateWithRetry(ctx.client, NODES, { name }, (n) => {
      // Re-checked on the fresh copy: the agent may just have posted.
      const next = isSilent(n, lease, ctx.now(), graceMs, settings.observer) ? unknownConditions(conditionsOf(n), ctx.now()) : undefined;
      if (!next) return false;
      (n.status as Record<string, unknown>).conditions = next;
      return true;
    }, 'status');
    if (!node) return;
    if (readyStatus(node) === 'Unknown') {
      report.markedUnknown.push(name);
      if (wasReady) await recorder?.normal(node, 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
  }
  node = await syncTaints(ctx, node, report, recorder);
  if (!node) return;
  const taints = taintsOf(node);
  const noExecute = taints.some((t) => t.effect === 'NoExecute');
  if (!silent && !noExecute) return;
  const pods = await ctx.client.listAll(PODS, { fieldSelector: `spec.nodeName=${name}` });
  if (silent) await markPodsNotReady(ctx, pods);
  const plan = planNoExecuteEvictions(pods, taints, ctx.now());
  if (plan.nextAt !== undefined) report.nextEvictionAt = Math.min(report.nextEvictionAt ?? Infinity, plan.nextAt);
  for (const pod of plan.evict) {
    const meta = readMetadata(pod);
    await ignoreNotFound(ctx.client.delete(PODS, { namespace: meta.namespace, name: String(meta.name) }, { preconditions: { uid: meta.uid } }));
    report.evicted.push(`${meta.namespace}/${meta.name}`);
    await recorder?.normal(pod, 'TaintManagerEviction', `Marking for deletion Pod ${meta.namespace}/${meta.name}`);
  }
}

/**
 * syncTaints makes the node's controller-owned taints follow its conditions (a read-modify-write
 * retried on conflict); answers the node as written (or as given when nothing changed), or
 * undefined when the node is gone. `report` (optional) collects the node's name when it wrote.
 */
export async function syncTaints(ctx: ControllerContext, node: KubeObject, report?: NodeMonitorReport, recorder?: EventRecorder): Promise<KubeObject | undefined> {
  if (!nextTaints(taintsOf(node), wantedTaints(node), ctx.now())) return node;
  const name = String(readMetadata(node).name);
  const wasTaintedUnreachable = readyStatus(node) !== 'True';
  const written = await updateWithRetry(ctx.client, NODES, { name }, (n) => {
    const next = nextTaints(taintsOf(n), wantedTaints(n), ctx.now());
    if (!next) return false;
    if (!isRecord(n.spec)) n.spec = {};
    (n.spec as Record<string, unknown>).taints = next;
    if (next.length === 0) delete (n.spec as Record<string, unknown>).taints;
    return true;
  });
  if (written) {
    report?.taintsChanged.push(name);
    if (wasTaintedUnreachable && readyStatus(written) === 'True') await recorder?.normal(written, 'NodeReady', `Node ${name} status is now: NodeReady`);
  }
  return written;
}

/** markPodsNotReady turns Ready False on the pods of a silent node (upstream's MarkPodsNotReady). */
async function markPodsNotReady(ctx: ControllerContext, pods: readonly KubeObject[]): Promise<void> {
  const stamp = rfc3339Now(ctx.now());
  for (const pod of pods) {
    if (!conditionsOf(pod).some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const meta = readMetadata(pod);
    await updateWithRetry(ctx.client, PODS, { namespace: meta.namespace, name: String(meta.name) }, (p) => {
      const status = isRecord(p.status) ? p.status : (p.status = {});
      const conditions = conditionsOf(p);
      if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
      status.conditions = conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: stamp } : c));
      return true;
    }, 'status');
  }
}
