/**
 * scheduleBatch: kube-scheduler's scheduling cycle for many pods at once, as a pure function.
 * Pods go one by one (higher priority first, then older first); each is filtered against the
 * nodes as the batch has filled them so far, scored, and placed on the best node, whose usage
 * grows before the next pod is looked at — so a batch never overcommits a node.
 *
 * Like kube-scheduler, a pod's search stops once enough feasible nodes were found
 * (`percentageOfNodesToScore`, adaptive by default) and the next pod starts where it stopped,
 * which keeps large clusters fast and rotates the nodes considered.
 */
import { readMetadata, type KubeObject } from '../api/objects.js';
import { antiAffinityDomains } from './antiaffinity.js';
import { clusterState, type ClusterState } from './cluster.js';
import { FILTERS, runFilters, type Filter, type FilterContext } from './filters.js';
import { failureMessage, type NodeFailures } from './messages.js';
import type { NodeInfo } from './nodeinfo.js';
import { podInfo, type PodInfo } from './podinfo.js';
import { SCORES, selectNode, type ScorePlugin } from './scores.js';

/** Assignment is a decision: bind `pod` to `nodeName`. */
export interface Assignment {
  pod: Readonly<KubeObject>;
  nodeName: string;
}

/** Unschedulable is a pod that fits no node, with kube-scheduler's message and the per-reason node counts. */
export interface Unschedulable {
  pod: Readonly<KubeObject>;
  message: string;
  /** reason → how many nodes failed for it. */
  reasons: Record<string, number>;
}

/** ScheduleResult is a batch's decisions, in the order they were made. */
export interface ScheduleResult {
  assignments: Assignment[];
  unschedulable: Unschedulable[];
}

/** ScheduleOptions tune the batch. */
export interface ScheduleOptions {
  /** Percentage of nodes to find feasible before scoring (1–100); default adaptive as kube-scheduler's. */
  percentageOfNodesToScore?: number;
  filters?: readonly Filter[];
  scores?: readonly ScorePlugin[];
}

/** MIN_FEASIBLE_NODES_TO_FIND is kube-scheduler's floor on the feasible nodes searched for. */
const MIN_FEASIBLE_NODES_TO_FIND = 100;

/** feasibleNodesToFind is how many feasible nodes to look for among `total` (kube-scheduler's numFeasibleNodesToFind). */
export function feasibleNodesToFind(total: number, percentage?: number): number {
  if (total < MIN_FEASIBLE_NODES_TO_FIND || percentage === 100) return total;
  // Adaptive: 50% of the nodes at 0, one percent less per 125 nodes, never under 5%.
  const pct = percentage ?? Math.max(5, 50 - Math.floor(total / 125));
  return Math.min(total, Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((total * pct) / 100)));
}

function priorityOf(pod: Readonly<KubeObject>): number {
  const p = (pod.spec as { priority?: unknown } | undefined)?.priority;
  return typeof p === 'number' ? p : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** queueOrder sorts pods as kube-scheduler's PrioritySort: higher priority first, then older first, then by name. */
export function queueOrder(a: Readonly<KubeObject>, b: Readonly<KubeObject>): number {
  const byPriority = priorityOf(b) - priorityOf(a);
  if (byPriority !== 0) return byPriority;
  const ma = readMetadata(a);
  const mb = readMetadata(b);
  const byTime = compareText(String(ma.creationTimestamp ?? ''), String(mb.creationTimestamp ?? ''));
  if (byTime !== 0) return byTime;
  return compareText(`${ma.namespace}/${ma.name}`, `${mb.namespace}/${mb.name}`);
}

/** Scheduler decides pods one at a time against a ClusterState it keeps up to date. */
class BatchScheduler {
  private nextStart = 0;

  constructor(
    private readonly cluster: ClusterState,
    private readonly options: ScheduleOptions,
  ) {}

  /** schedule places one pod, or answers why it fits nowhere. */
  schedule(pod: PodInfo): NodeInfo | NodeFailures {
    const nodes = this.cluster.nodes;
    const want = feasibleNodesToFind(nodes.length, this.options.percentageOfNodesToScore);
    const ctx: FilterContext = { antiAffinity: antiAffinityDomains(pod, this.cluster) };
    const filters = this.options.filters ?? FILTERS;
    const feasible: NodeInfo[] = [];
    const failures: NodeFailures = { total: nodes.length, failed: [] };
    let examined = 0;
    for (; examined < nodes.length && feasible.length < want; examined++) {
      const node = nodes[(this.nextStart + examined) % nodes.length];
      const failure = runFilters(pod, node, ctx, filters);
      if (failure) failures.failed.push(failure);
      else feasible.push(node);
    }
    if (nodes.length > 0) this.nextStart = (this.nextStart + examined) % nodes.length;
    if (feasible.length === 0) return failures;
    const chosen = selectNode(pod, feasible, this.cluster, this.options.scores ?? SCORES);
    this.cluster.assume(pod, chosen);
    return chosen;
  }
}

/**
 * scheduleBatch decides where each of `pendingPods` goes on `nodes`, given `boundPods` already
 * placed (finished pods and pods on unknown nodes hold nothing). Pure: inputs are not modified.
 */
export function scheduleBatch(
  pendingPods: readonly Readonly<KubeObject>[],
  nodes: readonly Readonly<KubeObject>[],
  boundPods: readonly Readonly<KubeObject>[],
  options: ScheduleOptions = {},
): ScheduleResult {
  const scheduler = new BatchScheduler(clusterState(nodes, boundPods), options);
  const result: ScheduleResult = { assignments: [], unschedulable: [] };
  for (const pod of [...pendingPods].sort(queueOrder)) {
    const outcome = scheduler.schedule(podInfo(pod));
    if ('failed' in outcome) {
      result.unschedulable.push({ pod, ...failureMessage(outcome) });
    } else {
      result.assignments.push({ pod, nodeName: outcome.name });
    }
  }
  return result;
}
