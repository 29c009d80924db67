/**
 * previewUpgrade: the whole preview of an upgrade run, a pure function of the run's spec, the
 * cluster (its control plane version), the release catalog, the node pools, their nodes, every
 * pod and PodDisruptionBudget. It is what an UpgradePreview answers (status.plan), what an
 * UpgradeRun records at its start, and what refuses a start: a target not in the catalog, a skew
 * rule broken, a pool that does not exist, no surge capacity (`problems`), or a budget that
 * blocks a drain for good (`blockingBudgets`, which `force` overrides).
 *
 * A pool's nodes are its Nodes named `<pool>-<n>` (the local NodeProvider's naming; nodes carry no
 * pool label yet).
 */
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import { compareVersions, controlPlaneStepProblem, poolSkewProblem } from '../release/version.js';
import { planPoolUpgrade, type PoolPlan } from './planner.js';
import type { UpgradeSettings } from './settings.js';
import type { UpgradeRunSpec } from './run.js';

/** PlanProblemType classifies what stops a start; each becomes one cause of the 422. */
export type PlanProblemType = 'NotInCatalog' | 'VersionSkew' | 'UnknownPool' | 'SurgeCapacity' | 'NoCluster' | 'BlockingBudget';

/** PlanProblem is one reason an upgrade may not start, with the spec field it is about. */
export interface PlanProblem {
  type: PlanProblemType;
  field: string;
  message: string;
}

/** UpgradePlan is the preview of a run (UpgradePreview status.plan, UpgradeRun status.plan). */
export interface UpgradePlan {
  targetVersion: string;
  scope: UpgradeRunSpec['scope'];
  /** The control plane's step (absent when the scope is one pool). */
  controlPlane?: { fromVersion: string; toVersion: string };
  pools: PoolPlan[];
  /** Everything that stops the start, blocking budgets included; empty when it may start. */
  problems: PlanProblem[];
  /** Whether a create of this run would be admitted (blocking budgets pass with force). */
  canStart: boolean;
  /** Estimate of the pools' part in seconds (a lower bound when budgets hold drains). */
  estimateSeconds: number;
  /** The catalog's releases the control plane may step to now (what `coracle upgrade` picks from without --to). */
  availableUpgrades: string[];
}

/** PreviewInput is what previewUpgrade reads. Objects are read-only. */
export interface PreviewInput {
  spec: UpgradeRunSpec;
  /** The Cluster object (its control plane version); absent: none recorded. */
  cluster?: Readonly<KubeObject>;
  catalog: readonly string[];
  nodePools: readonly Readonly<KubeObject>[];
  nodes: readonly Readonly<KubeObject>[];
  pods: readonly Readonly<KubeObject>[];
  pdbs: readonly Readonly<KubeObject>[];
}

/** controlPlaneVersionOf is the version the control plane runs: the Cluster's status.controlPlaneVersion, else its spec.version. */
export function controlPlaneVersionOf(cluster: Readonly<KubeObject> | undefined): string | undefined {
  if (!cluster) return undefined;
  const status = isRecord(cluster.status) ? cluster.status : {};
  const spec = isRecord(cluster.spec) ? cluster.spec : {};
  const v = status.controlPlaneVersion ?? spec.version;
  return typeof v === 'string' ? v : undefined;
}

/** NODEPOOL_LABEL names a Node's pool; the agent sets it from `--node-pool` (Azure nodes: cloud-init). */
export const NODEPOOL_LABEL = 'coracle.io/nodepool';

/**
 * nodePoolOf names the pool a Node belongs to: its `coracle.io/nodepool` label, else its name when
 * that is `<pool>-<n>` as `coracle up` names local nodes (Azure scale sets name theirs
 * `<pool><suffix>`, so those carry the label); undefined: none.
 */
export function nodePoolOf(node: Readonly<KubeObject>): string | undefined {
  const meta = readMetadata(node);
  const label = isRecord(meta.labels) ? meta.labels[NODEPOOL_LABEL] : undefined;
  if (typeof label === 'string' && label !== '') return label;
  return /^([a-z][a-z0-9]{0,8})-\d+$/.exec(String(meta.name ?? ''))?.[1];
}

/** poolNodes are the Nodes of pool `pool` (see nodePoolOf). */
export function poolNodes<T extends Readonly<KubeObject>>(nodes: readonly T[], pool: string): T[] {
  return nodes.filter((n) => nodePoolOf(n) === pool);
}

/** availableUpgrades are the catalog's releases the control plane at `from` may step to, oldest first. */
export function availableUpgrades(catalog: readonly string[], from: string): string[] {
  return [...new Set(catalog)].filter((v) => compareVersions(v, from) > 0 && !controlPlaneStepProblem(from, v)).sort(compareVersions);
}

/** previewUpgrade computes the UpgradePlan of `input`; see the file comment. */
export function previewUpgrade(input: PreviewInput): UpgradePlan {
  const { spec } = input;
  const target = spec.targetVersion;
  const problems: PlanProblem[] = [];
  const current = controlPlaneVersionOf(input.cluster);
  if (!current) problems.push({ type: 'NoCluster', field: 'spec.targetVersion', message: 'no Cluster object records the control plane\'s version (coracle up creates Cluster "local")' });
  if (!input.catalog.includes(target)) problems.push({ type: 'NotInCatalog', field: 'spec.targetVersion', message: `release ${target} is not in the catalog (coracle release add <package.tgz>); available: ${[...input.catalog].sort().join(', ')}` });
  let controlPlane: UpgradePlan['controlPlane'];
  let poolCeiling = current ?? target;
  if (spec.scope !== 'Pool' && current) {
    const problem = controlPlaneStepProblem(current, target);
    if (problem) problems.push({ type: 'VersionSkew', field: 'spec.targetVersion', message: problem });
    controlPlane = { fromVersion: current, toVersion: target };
    if (!problem) poolCeiling = target;
  }
  const pools: PoolPlan[] = [];
  if (spec.scope !== 'ControlPlane') {
    const wanted = spec.scope === 'Pool' ? input.nodePools.filter((p) => readMetadata(p).name === spec.pool) : input.nodePools;
    if (spec.scope === 'Pool' && wanted.length === 0) problems.push({ type: 'UnknownPool', field: 'spec.pool', message: `node pool ${JSON.stringify(spec.pool)} does not exist` });
    for (const np of [...wanted].sort((a, b) => String(readMetadata(a).name).localeCompare(String(readMetadata(b).name)))) {
      const name = String(readMetadata(np).name);
      const npSpec = isRecord(np.spec) ? np.spec : {};
      const plan = planPoolUpgrade({
        pool: name, nodes: poolNodes(input.nodes, name), pods: input.pods, pdbs: input.pdbs, target, controlPlaneVersion: poolCeiling,
        settings: isRecord(npSpec.upgradeSettings) ? npSpec.upgradeSettings as UpgradeSettings : undefined,
      });
      pools.push(plan);
      const skew = poolSkewProblem(poolCeiling, target);
      if (skew) problems.push({ type: 'VersionSkew', field: 'spec.targetVersion', message: `node pool ${name}: ${skew}` });
      if (!plan.surgeCapacityOk) problems.push({ type: 'SurgeCapacity', field: 'spec.targetVersion', message: `node pool ${name}: no surge capacity` });
      for (const b of plan.budgets.filter((f) => f.severity === 'blocks')) {
        problems.push({ type: 'BlockingBudget', field: 'spec.force', message: `PodDisruptionBudget ${b.budget} blocks the drain of node pool ${name}: ${b.reason}` });
      }
    }
  }
  const canStart = problems.every((p) => p.type === 'BlockingBudget' && spec.force);
  const estimateSeconds = pools.reduce((sum, p) => sum + p.estimateSeconds, 0);
  return { targetVersion: target, scope: spec.scope, controlPlane, pools, problems: dedupe(problems), canStart, estimateSeconds, availableUpgrades: current ? availableUpgrades(input.catalog, current) : [] };
}

function dedupe(problems: PlanProblem[]): PlanProblem[] {
  return [...new Map(problems.map((p) => [`${p.type}\t${p.message}`, p])).values()];
}
