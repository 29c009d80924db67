/**
 * planPoolUpgrade: the preview of a node pool's upgrade, a pure function of the pool, its nodes,
 * the cluster's pods and PodDisruptionBudgets, and the target release. It says, before anything
 * moves: the batches (each adds `surge` new nodes, then cordons and drains as many old nodes as
 * surge + maxUnavailable allow), which pods each drain evicts, every budget that would block a
 * drain for good (it never allows a disruption, even with every pod healthy) or holds it now, the
 * skew problem if any, whether surge capacity exists, and an estimate of the time.
 */
import { readMetadata, isRecord, type KubeObject } from '../api/objects.js';
import { budgetCovers, countHealthy, expectedCounts, statusOf } from '../controllers/disruption/budget.js';
import { poolSkewProblem } from '../release/version.js';
import { resolveUpgradeSettings, type ResolvedUpgradeSettings, type UpgradeSettings } from './settings.js';

/** PlanTimings are the waits the estimate assumes (seconds). */
export interface PlanTimings {
  /** From add to a new node's Ready (default 15). */
  nodeReadySeconds: number;
  /** From a pod's creation to its Ready on a new node (default 5). */
  podReadySeconds: number;
  /** From remove to the machine gone (default 5). */
  nodeRemoveSeconds: number;
}

/** DEFAULT_PLAN_TIMINGS are what a local node takes, roughly. */
export const DEFAULT_PLAN_TIMINGS: PlanTimings = { nodeReadySeconds: 15, podReadySeconds: 5, nodeRemoveSeconds: 5 };

/** PoolPlanInput is what the planner reads. Objects are read-only. */
export interface PoolPlanInput {
  pool: string;
  /** The pool's Nodes (Node objects): each reports its release as status.nodeInfo.kubeletVersion. */
  nodes: readonly Readonly<KubeObject>[];
  /** Every pod of the cluster (those bound to the pool's nodes get evicted). */
  pods: readonly Readonly<KubeObject>[];
  pdbs: readonly Readonly<KubeObject>[];
  settings?: UpgradeSettings;
  target: string;
  /** The control plane's version once its step is done (a pool may not pass it). */
  controlPlaneVersion: string;
  /** How many more nodes the provider can add now (undefined: no known limit). */
  surgeCapacity?: number;
  timings?: Partial<PlanTimings>;
}

/** PlannedEviction is one pod a drain will evict, and the budgets covering it. */
export interface PlannedEviction {
  namespace: string;
  name: string;
  budgets: string[];
  /** The pod's terminationGracePeriodSeconds (default 30). */
  gracePeriodSeconds: number;
}

/** PlannedNode is one old node of a batch and its evictions. */
export interface PlannedNode {
  name: string;
  version: string;
  evictions: PlannedEviction[];
}

/** BudgetFinding is a PodDisruptionBudget that stops (`blocks`) or slows (`holds`) a drain. */
export interface BudgetFinding {
  /** `namespace/name`. */
  budget: string;
  severity: 'blocks' | 'holds';
  reason: string;
  /** The old nodes holding pods it covers. */
  nodes: string[];
}

/** PoolPlan is the preview of one pool's upgrade. */
export interface PoolPlan {
  pool: string;
  target: string;
  settings: ResolvedUpgradeSettings;
  /** Nodes already at the target (left alone). */
  upToDate: string[];
  batches: PlannedNode[][];
  budgets: BudgetFinding[];
  /** Why the upgrade may not start (skew, capacity, blocking budgets); empty when it may. */
  problems: string[];
  surgeCapacityOk: boolean;
  /** The estimate of the whole pool's upgrade in seconds (a lower bound when budgets hold drains). */
  estimateSeconds: number;
}

const kubeletVersion = (node: Readonly<KubeObject>): string => {
  const status = isRecord(node.status) ? node.status : {};
  const info = isRecord(status.nodeInfo) ? status.nodeInfo : {};
  return typeof info.kubeletVersion === 'string' ? info.kubeletVersion : '';
};

const specOf = (obj: Readonly<KubeObject>): Record<string, unknown> => (isRecord(obj.spec) ? obj.spec : {});
const key = (obj: Readonly<KubeObject>): string => `${readMetadata(obj).namespace ?? ''}/${readMetadata(obj).name ?? ''}`;

/** evictable tells whether a drain evicts `pod`: bound, not finished, not already terminating. */
function evictable(pod: Readonly<KubeObject>): boolean {
  const phase = isRecord(pod.status) ? pod.status.phase : undefined;
  return phase !== 'Succeeded' && phase !== 'Failed' && readMetadata(pod).deletionTimestamp === undefined;
}

/** budgetFinding judges one budget against the pods it covers on the old nodes; undefined when it lets drains through. */
function budgetFinding(pdb: Readonly<KubeObject>, covered: readonly Readonly<KubeObject>[], oldNodes: ReadonlySet<string>): BudgetFinding | undefined {
  const onOld = covered.filter((p) => oldNodes.has(String(specOf(p).nodeName ?? '')));
  if (onOld.length === 0) return undefined;
  const spec = specOf(pdb);
  const status = statusOf(pdb);
  // Percentages and maxUnavailable count the controllers' scale, which the budget's status carries.
  const scale = status.expectedPods > 0 ? status.expectedPods : covered.length;
  const { expectedPods, desiredHealthy } = expectedCounts(pdb, covered.length, scale);
  const nodes = [...new Set(onOld.map((p) => String(specOf(p).nodeName)))].sort();
  const rule = spec.minAvailable !== undefined ? `minAvailable ${JSON.stringify(spec.minAvailable)}` : `maxUnavailable ${JSON.stringify(spec.maxUnavailable)}`;
  if (desiredHealthy >= expectedPods) {
    return { budget: key(pdb), severity: 'blocks', nodes, reason: `${rule} requires all ${expectedPods} pod(s) it covers to stay available: no eviction is ever allowed, so draining ${nodes.join(', ')} cannot finish` };
  }
  const healthy = countHealthy(covered, {});
  if (healthy - desiredHealthy <= 0) {
    return { budget: key(pdb), severity: 'holds', nodes, reason: `${rule}: ${healthy} of ${expectedPods} pod(s) healthy, ${desiredHealthy} needed; it allows no disruption until more are Ready` };
  }
  return undefined;
}

/** planPoolUpgrade previews one pool's upgrade to `target`; see the file comment. */
export function planPoolUpgrade(input: PoolPlanInput): PoolPlan {
  const timings = { ...DEFAULT_PLAN_TIMINGS, ...input.timings };
  const settings = resolveUpgradeSettings(input.settings, input.nodes.length);
  const problems: string[] = [];
  const skew = poolSkewProblem(input.controlPlaneVersion, input.target);
  if (skew) problems.push(skew);
  const sorted = [...input.nodes].sort((a, b) => String(readMetadata(a).name).localeCompare(String(readMetadata(b).name)));
  const old = sorted.filter((n) => kubeletVersion(n) !== input.target);
  const upToDate = sorted.filter((n) => kubeletVersion(n) === input.target).map((n) => String(readMetadata(n).name));
  const oldNames = new Set(old.map((n) => String(readMetadata(n).name)));
  const live = input.pods.filter(evictable);
  const budgetsOf = (pod: Readonly<KubeObject>) => input.pdbs.filter((b) => budgetCovers(b, pod)).map(key).sort();
  const planned = old.map((node): PlannedNode => {
    const name = String(readMetadata(node).name);
    const evictions = live.filter((p) => specOf(p).nodeName === name).map((p) => ({
      namespace: String(readMetadata(p).namespace ?? ''), name: String(readMetadata(p).name),
      budgets: budgetsOf(p), gracePeriodSeconds: typeof specOf(p).terminationGracePeriodSeconds === 'number' ? specOf(p).terminationGracePeriodSeconds as number : 30,
    })).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    return { name, version: kubeletVersion(node), evictions };
  });
  const batchSize = settings.surge + settings.unavailable;
  const batches: PlannedNode[][] = [];
  for (let i = 0; i < planned.length; i += batchSize) batches.push(planned.slice(i, i + batchSize));
  const budgets = input.pdbs.map((b) => budgetFinding(b, input.pods.filter((p) => evictable(p) && budgetCovers(b, p)), oldNames))
    .filter((f): f is BudgetFinding => f !== undefined).sort((a, b) => a.budget.localeCompare(b.budget));
  for (const f of budgets.filter((b) => b.severity === 'blocks')) problems.push(`PodDisruptionBudget ${f.budget} blocks the drain: ${f.reason}`);
  const surgeCapacityOk = input.surgeCapacity === undefined || input.surgeCapacity >= Math.min(settings.surge, planned.length);
  if (!surgeCapacityOk) problems.push(`the pool needs ${settings.surge} surge node(s) per batch and the provider can add ${input.surgeCapacity}`);
  // Each batch: new nodes Ready, then the drains (evictions run together: the longest grace period,
  // then a replacement Ready), soak, removal. A budget allowing one disruption at a time
  // serializes its pods' evictions, so this is a lower bound when budgets hold.
  const estimateSeconds = batches.reduce((sum, batch) => {
    const evictions = batch.flatMap((n) => n.evictions);
    const drain = evictions.length === 0 ? 0 : Math.max(...evictions.map((e) => e.gracePeriodSeconds)) + timings.podReadySeconds;
    return sum + timings.nodeReadySeconds + drain + settings.soakSeconds + timings.nodeRemoveSeconds;
  }, 0);
  return { pool: input.pool, target: input.target, settings, upToDate, batches, budgets, problems, surgeCapacityOk, estimateSeconds };
}
