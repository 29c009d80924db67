/**
 * The upgrade API as the portal reads it (coracle.io/v1 UpgradePreview and UpgradeRun, being
 * built on the `upgrade` branch): the shapes agreed for the page, and the pure helpers that turn
 * them into what is shown. Fields the page does not know are ignored; missing ones show as "–".
 */
import type { KubeObject } from './api.js';

/** UPGRADE_PATHS are the collections the page calls. */
export const UPGRADE_PATHS = {
  previews: '/apis/coracle.io/v1/upgradepreviews',
  runs: '/apis/coracle.io/v1/upgraderuns',
} as const;

/** Scope is what an upgrade covers. */
export type Scope = 'Cluster' | 'ControlPlane' | 'Pool';

/** UpgradeSpec is what the dialog sends, in a preview and in a run. */
export interface UpgradeSpec {
  targetVersion: string;
  scope: Scope;
  pool?: string;
  force?: boolean;
}

/** PlannedEviction, PlannedNode, BudgetFinding and PoolPlan mirror shared/upgrade/planner.ts. */
export interface PlannedEviction {
  namespace: string;
  name: string;
  budgets: string[];
  gracePeriodSeconds: number;
}
export interface PlannedNode {
  name: string;
  version: string;
  evictions: PlannedEviction[];
}
export interface BudgetFinding {
  budget: string;
  severity: 'blocks' | 'holds';
  reason: string;
  nodes: string[];
}
export interface PoolPlan {
  pool: string;
  target: string;
  upToDate: string[];
  batches: PlannedNode[][];
  budgets: BudgetFinding[];
  problems: string[];
  surgeCapacityOk: boolean;
  estimateSeconds: number;
  settings?: { surge?: number; unavailable?: number; soakSeconds?: number; drainTimeoutSeconds?: number };
}

/** ControlPlanePlan is the control plane's step of a plan. */
export interface ControlPlanePlan {
  fromVersion?: string;
  toVersion?: string;
  estimateSeconds?: number;
}

/** UpgradePlan is a preview's status.plan, normalized. */
export interface UpgradePlan {
  controlPlane?: ControlPlanePlan;
  pools: PoolPlan[];
  problems: string[];
  estimateSeconds: number;
}

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/**
 * normalizePlan reads status.plan: `{controlPlane?, pools[], problems[], estimateSeconds}`; a
 * bare PoolPlan (a pool-scoped preview) is taken as a plan of that one pool. Totals missing from
 * the plan are computed from its parts.
 */
export function normalizePlan(raw: any): UpgradePlan {
  if (!raw || typeof raw !== 'object') return { pools: [], problems: [], estimateSeconds: NaN };
  const pools: PoolPlan[] = Array.isArray(raw.batches) ? [raw] : asArray<PoolPlan>(raw.pools);
  const normalizedPools = pools.map((p) => ({ ...p, upToDate: asArray<string>(p.upToDate), batches: asArray<PlannedNode[]>(p.batches), budgets: asArray<BudgetFinding>(p.budgets), problems: asArray<string>(p.problems) }));
  const problems = asArray<string>(raw.problems);
  for (const p of normalizedPools) for (const problem of p.problems) if (!problems.includes(problem)) problems.push(problem);
  const controlPlane = raw.controlPlane && typeof raw.controlPlane === 'object' ? (raw.controlPlane as ControlPlanePlan) : undefined;
  const estimateSeconds = typeof raw.estimateSeconds === 'number'
    ? raw.estimateSeconds
    : (controlPlane?.estimateSeconds ?? 0) + normalizedPools.reduce((s, p) => s + (p.estimateSeconds ?? 0), 0);
  return { controlPlane, pools: normalizedPools, problems, estimateSeconds };
}

/** evictionCount is how many pods the plan moves. */
export function evictionCount(plan: UpgradePlan): number {
  return plan.pools.reduce((s, p) => s + p.batches.flat().reduce((n, node) => n + asArray(node.evictions).length, 0), 0);
}

/** RunPhase is an UpgradeRun's status.phase. */
export type RunPhase = 'Pending' | 'ControlPlane' | 'Pools' | 'Paused' | 'Succeeded' | 'Failed' | 'Cancelled';

/** NodeStep is one node's step in a run. */
export type NodeStep = 'Waiting' | 'Surging' | 'Draining' | 'Drained' | 'Replaced' | 'Ready' | 'Undrainable';

/** RunNode is one entry of status.nodes. */
export interface RunNode {
  name: string;
  pool?: string;
  fromVersion?: string;
  toVersion?: string;
  step: NodeStep | string;
  message?: string;
}

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
  controlPlane?: { fromVersion?: string; toVersion?: string; step?: string };
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
    controlPlane: status.controlPlane, message: status.message, created: run.metadata.creationTimestamp, finished: FINISHED_PHASES.has(phase),
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
