/**
 * The upgrade API as the portal reads it (coracle.io/v1 UpgradePreview and UpgradeRun): its
 * types are imported (type-only) from shared/upgrade, so the compiler keeps the page in line with
 * the API, and the pure helpers here turn them into what is shown. Fields the page does not know are ignored; missing ones show as "–".
 */
import type { KubeObject } from './api.js';

/** UPGRADE_PATHS are the collections the page calls. */
export const UPGRADE_PATHS = {
  previews: '/apis/coracle.io/v1/upgradepreviews',
  runs: '/apis/coracle.io/v1/upgraderuns',
} as const;

import type { PlanProblem, UpgradePlan as ApiUpgradePlan } from '../../shared/upgrade/preview.js';
import type { BudgetFinding, PlannedEviction, PlannedNode, PoolPlan } from '../../shared/upgrade/planner.js';
import type { ControlPlaneStatus, NodeStep, RunNode, UpgradeRunSpec, UpgradeScope } from '../../shared/upgrade/run.js';

export type { BudgetFinding, ControlPlaneStatus, NodeStep, PlannedEviction, PlannedNode, PlanProblem, PoolPlan, RunNode };

/** Scope is what an upgrade covers. */
export type Scope = UpgradeScope;

/** UpgradeSpec is what the dialog sends, in a preview and in a run. */
export type UpgradeSpec = Pick<UpgradeRunSpec, 'targetVersion' | 'scope' | 'pool' | 'force'>;

/** UpgradePlan is a preview's (or a run's) status.plan as the API writes it (shared/upgrade/preview.ts). */
export type UpgradePlan = ApiUpgradePlan;

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/**
 * normalizePlan reads status.plan (shared/upgrade/preview.ts UpgradePlan), filling absent arrays
 * so the page renders a partial object without throwing. The plan's `problems` are objects
 * {type, field, message} and already include every pool's, so the pools' own string problems are
 * not added again.
 */
export function normalizePlan(raw: unknown): UpgradePlan {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Partial<UpgradePlan>;
  const pools = asArray<PoolPlan>(r.pools).map((p) => ({
    ...p, upToDate: asArray<string>(p.upToDate),
    batches: asArray<PlannedNode[]>(p.batches).map((b) => asArray<PlannedNode>(b).map((n) => ({ ...n, evictions: asArray<PlannedEviction>(n.evictions) }))),
    budgets: asArray<BudgetFinding>(p.budgets), problems: asArray<string>(p.problems),
  }));
  const problems = asArray<PlanProblem>(r.problems).filter((p) => p && typeof p === 'object');
  const estimateSeconds = typeof r.estimateSeconds === 'number' ? r.estimateSeconds : pools.reduce((s, p) => s + (typeof p.estimateSeconds === 'number' ? p.estimateSeconds : 0), 0);
  return {
    targetVersion: String(r.targetVersion ?? ''), scope: (r.scope ?? 'Cluster') as Scope,
    controlPlane: r.controlPlane && typeof r.controlPlane === 'object' ? r.controlPlane : undefined,
    pools, problems, canStart: typeof r.canStart === 'boolean' ? r.canStart : problems.length === 0, estimateSeconds,
    availableUpgrades: asArray<string>(r.availableUpgrades),
  };
}

/** problemText is one plan problem as shown: "Type: message". */
export function problemText(p: PlanProblem): string {
  return `${p.type}: ${p.message}`;
}

/** onlyBudgetsBlock tells whether every problem of the plan is a blocking budget (what `force` overrides). */
export function onlyBudgetsBlock(plan: UpgradePlan): boolean {
  return plan.problems.length > 0 && plan.problems.every((p) => p.type === 'BlockingBudget');
}

/** evictionCount is how many pods the plan moves. */
export function evictionCount(plan: UpgradePlan): number {
  return plan.pools.reduce((s, p) => s + p.batches.flat().reduce((n, node) => n + node.evictions.length, 0), 0);
}

/** HistoryEntry is one entry of the Cluster's status.upgradeHistory. */
export interface HistoryEntry {
  name: string;
  fromVersion?: string;
  toVersion?: string;
  scope?: string;
  startTime?: string;
  completionTime?: string;
  outcome?: string;
  message?: string;
}

/** clusterHistory reads Cluster status.upgradeHistory (newest last there), newest first. */
export function clusterHistory(cluster: KubeObject | undefined): HistoryEntry[] {
  return asArray<HistoryEntry>(cluster?.status?.upgradeHistory).filter((h) => h && typeof h.name === 'string').reverse();
}

/** RunPhase is an UpgradeRun's status.phase. */
export type RunPhase = 'Pending' | 'ControlPlane' | 'Pools' | 'Paused' | 'Succeeded' | 'Failed' | 'Cancelled';

/** FINISHED_PHASES are the phases a run never leaves. */
export const FINISHED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Cancelled']);

/** RunView is an UpgradeRun as the live view shows it. */
export interface RunView {
  name: string;
  phase: string;
  targetVersion: string;
  scope: string;
  pool?: string;
  paused: boolean;
  cancelRequested: boolean;
  nodes: RunNode[];
  done: number;
  total: number;
  controlPlane?: Partial<ControlPlaneStatus>;
  surgeNodes: string[];
  startTime?: string;
  completionTime?: string;
  message?: string;
  created?: string;
  finished: boolean;
}

/** viewRun reads an UpgradeRun object. */
export function viewRun(run: KubeObject): RunView {
  const spec = run.spec ?? {};
  const status = run.status ?? {};
  const phase = typeof status.phase === 'string' ? status.phase : 'Pending';
  const nodes = asArray<RunNode>(status.nodes);
  const done = typeof status.progress?.done === 'number' ? status.progress.done : nodes.filter((n) => n.step === 'Ready').length;
  const total = typeof status.progress?.total === 'number' ? status.progress.total : nodes.length;
  return {
    name: run.metadata.name, phase, targetVersion: String(spec.targetVersion ?? ''), scope: String(spec.scope ?? ''), pool: spec.pool,
    paused: spec.paused === true, cancelRequested: spec.cancel === true, nodes, done, total,
    controlPlane: status.controlPlane, surgeNodes: asArray<string>(status.surgeNodes), startTime: status.startTime, completionTime: status.completionTime, message: status.message, created: run.metadata.creationTimestamp, finished: FINISHED_PHASES.has(phase),
  };
}

/** activeRun is the newest run that has not finished, if any. */
export function activeRun(runs: readonly KubeObject[]): KubeObject | undefined {
  return [...runs].filter((r) => !viewRun(r).finished).sort((a, b) => String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')))[0];
}

/** runHistory is every run, newest first. */
export function runHistory(runs: readonly KubeObject[]): RunView[] {
  return runs.map(viewRun).sort((a, b) => String(b.created ?? '').localeCompare(String(a.created ?? '')) || b.name.localeCompare(a.name));
}
