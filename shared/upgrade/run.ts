/**
 * coracle.io/v1 UpgradeRun: one upgrade of the cluster, asked for by creating it and driven by
 * the upgrade orchestration (functions/upgrade.ts). This file holds its shape, defaulting and
 * validation, and the pure decisions the orchestration makes from it (pause, cancel, progress,
 * node steps), so they are unit-tested without the durable runtime.
 *
 * spec: targetVersion (required), scope (Cluster | ControlPlane | Pool, default Cluster), pool
 * (required when scope is Pool), force (start despite blocking PodDisruptionBudgets), paused,
 * cancel (once true it stays true).
 * status: phase, plan, nodes[{name, pool, fromVersion, toVersion, step, message}], progress
 * {done, total}, controlPlane {fromVersion, toVersion, step}, startTime, completionTime,
 * message, conditions.
 */
import { isRecord, type KubeObject } from '../api/objects.js';
import { findResourceByKind } from '../api/resources.js';
import type { StatusCause } from '../api/status.js';
import { parseReleaseVersion } from '../release/version.js';

/** UPGRADERUNS and UPGRADEPREVIEWS are the resource types. */
export const UPGRADERUNS = findResourceByKind('coracle.io/v1', 'UpgradeRun')!;
export const UPGRADEPREVIEWS = findResourceByKind('coracle.io/v1', 'UpgradePreview')!;

/** UpgradeScope is what a run upgrades: the control plane then every pool, the control plane alone, or one pool. */
export type UpgradeScope = 'Cluster' | 'ControlPlane' | 'Pool';
/** UPGRADE_SCOPES are the scopes, in the order the schema lists them. */
export const UPGRADE_SCOPES: readonly UpgradeScope[] = ['Cluster', 'ControlPlane', 'Pool'];

/** UpgradePhase is where a run is. Succeeded, Failed and Cancelled are final. */
export type UpgradePhase = 'Pending' | 'ControlPlane' | 'Pools' | 'Paused' | 'Succeeded' | 'Failed' | 'Cancelled';
/** UPGRADE_PHASES are every phase. */
export const UPGRADE_PHASES: readonly UpgradePhase[] = ['Pending', 'ControlPlane', 'Pools', 'Paused', 'Succeeded', 'Failed', 'Cancelled'];

/** NodeStep is where one old node is in its replacement. */
export type NodeStep = 'Waiting' | 'Surging' | 'Draining' | 'Drained' | 'Replaced' | 'Ready' | 'Undrainable';
/** NODE_STEPS are every node step. */
export const NODE_STEPS: readonly NodeStep[] = ['Waiting', 'Surging', 'Draining', 'Drained', 'Replaced', 'Ready', 'Undrainable'];

/** UpgradeRunSpec is a run's spec, defaulted. */
export interface UpgradeRunSpec {
  targetVersion: string;
  scope: UpgradeScope;
  pool?: string;
  force?: boolean;
  paused?: boolean;
  cancel?: boolean;
}

/** RunNode is one old node of the run and where its replacement is (surge nodes are named in its message). */
export interface RunNode {
  name: string;
  pool: string;
  fromVersion: string;
  toVersion: string;
  step: NodeStep;
  message?: string;
}

/** ControlPlaneStatus is the control plane's step of a run. */
export interface ControlPlaneStatus {
  fromVersion: string;
  toVersion: string;
  step: 'Waiting' | 'Upgrading' | 'Upgraded' | 'Skipped';
  /** Once Upgraded: the store's schema version under the new release, and the migrations that release applied to it (shared/store/schema.ts). */
  storage?: { version: number; migrationsApplied: string[] };
}

/** UpgradeRunStatus is a run's status. */
export interface UpgradeRunStatus {
  phase?: UpgradePhase;
  plan?: unknown;
  nodes?: RunNode[];
  progress?: { done: number; total: number };
  controlPlane?: ControlPlaneStatus;
  /** The nodes the run added at its target version, in order. */
  surgeNodes?: string[];
  startTime?: string;
  completionTime?: string;
  message?: string;
  conditions?: Record<string, unknown>[];
}

/** FINAL_PHASES are the phases after which a run never moves again. */
export const FINAL_PHASES: ReadonlySet<string> = new Set<UpgradePhase>(['Succeeded', 'Failed', 'Cancelled']);

/** isFinished tells whether a run has ended (its phase is final). */
export function isFinished(run: Readonly<KubeObject>): boolean {
  return FINAL_PHASES.has(String(runStatusOf(run).phase ?? ''));
}

/** runSpecOf reads a run's spec, with its defaults. */
export function runSpecOf(run: Readonly<KubeObject>): UpgradeRunSpec {
  const spec = isRecord(run.spec) ? run.spec : {};
  return {
    targetVersion: String(spec.targetVersion ?? ''), scope: (spec.scope ?? 'Cluster') as UpgradeScope,
    pool: typeof spec.pool === 'string' ? spec.pool : undefined,
    force: spec.force === true, paused: spec.paused === true, cancel: spec.cancel === true,
  };
}

/** runStatusOf reads a run's status (an empty one when absent). Read-only: clone before writing. */
export function runStatusOf(run: Readonly<KubeObject>): UpgradeRunStatus {
  return (isRecord(run.status) ? run.status : {}) as UpgradeRunStatus;
}

/** defaultUpgradeRun sets spec.scope to Cluster when unset (in place, as every defaulter). */
export function defaultUpgradeRun(obj: KubeObject): void {
  if (isRecord(obj.spec) && obj.spec.scope === undefined) obj.spec.scope = 'Cluster';
}

/** validateUpgradeRun lists a run's problems: the target's form, the scope, the pool when scoped to one, the flags' types. */
export function validateUpgradeRun(obj: Readonly<KubeObject>): StatusCause[] {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const causes: StatusCause[] = [];
  if (spec.targetVersion === undefined || spec.targetVersion === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.targetVersion' });
  else if (typeof spec.targetVersion !== 'string' || !parseReleaseVersion(spec.targetVersion)) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec.targetVersion)}: must be a release version such as v1.35.0-coracle`, field: 'spec.targetVersion' });
  }
  const scope = spec.scope ?? 'Cluster';
  if (!UPGRADE_SCOPES.includes(scope as UpgradeScope)) {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(scope)}: supported values: ${UPGRADE_SCOPES.map((s) => `"${s}"`).join(', ')}`, field: 'spec.scope' });
  }
  if (scope === 'Pool' && (typeof spec.pool !== 'string' || spec.pool === '')) causes.push({ reason: 'FieldValueRequired', message: 'Required value: a pool is required when scope is Pool', field: 'spec.pool' });
  if (scope !== 'Pool' && spec.pool !== undefined) causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: may only be set when scope is Pool', field: 'spec.pool' });
  for (const flag of ['force', 'paused', 'cancel'] as const) {
    if (spec[flag] !== undefined && typeof spec[flag] !== 'boolean') causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec[flag])}: must be a boolean`, field: `spec.${flag}` });
  }
  return causes;
}

/**
 * upgradeRunUpdateCauses refuses what an update may not change: the target, scope and pool are
 * immutable (start another run instead), and cancel cannot be set back to false.
 */
export function upgradeRunUpdateCauses(obj: Readonly<KubeObject>, old: Readonly<KubeObject>): StatusCause[] {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const before = isRecord(old.spec) ? old.spec : {};
  const causes: StatusCause[] = [];
  for (const field of ['targetVersion', 'scope', 'pool', 'force'] as const) {
    if (JSON.stringify(spec[field]) !== JSON.stringify(before[field])) causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: field is immutable', field: `spec.${field}` });
  }
  if (before.cancel === true && spec.cancel !== true) causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: a cancelled run cannot be resumed; start a new run', field: 'spec.cancel' });
  return causes;
}

/** GateDecision is what a run's spec says at a step boundary: go on, hold, or stop. */
export type GateDecision = 'continue' | 'pause' | 'cancel';

/** gateDecision reads the spec flags checked between steps: cancel wins over pause. */
export function gateDecision(spec: Readonly<UpgradeRunSpec>): GateDecision {
  if (spec.cancel) return 'cancel';
  if (spec.paused) return 'pause';
  return 'continue';
}

/** DONE_STEPS are the node steps that count as done in progress (a node left undrainable is done with, not upgraded). */
const DONE_STEPS: ReadonlySet<NodeStep> = new Set(['Replaced', 'Ready']);

/** progressOf counts the run's old nodes that are replaced, out of all of them. */
export function progressOf(nodes: readonly RunNode[]): { done: number; total: number } {
  return { done: nodes.filter((n) => DONE_STEPS.has(n.step)).length, total: nodes.length };
}

/** withNodeStep returns `nodes` (the run's old nodes) with node `name`'s step set, and its message set or cleared. */
export function withNodeStep(nodes: readonly RunNode[], name: string, step: NodeStep, message?: string): RunNode[] {
  return nodes.map((n) => {
    if (n.name !== name) return n;
    const next: RunNode = { ...n, step };
    if (message === undefined) delete next.message;
    else next.message = message;
    return next;
  });
}

/** surgeFor is how many new nodes a batch of `batchSize` old nodes adds: maxSurge, never more than the batch replaces. */
export function surgeFor(batchSize: number, surge: number): number {
  return Math.min(surge, batchSize);
}

/** drainDeadlinePassed tells whether a drain started at `startedMs` has run out of `drainTimeoutSeconds` at `nowMs`. */
export function drainDeadlinePassed(startedMs: number, nowMs: number, drainTimeoutSeconds: number): boolean {
  return nowMs - startedMs >= drainTimeoutSeconds * 1000;
}

/**
 * undrainableOutcome is what a node that could not be drained in time leads to (AKS's
 * undrainableNodeBehavior): Cordon leaves it cordoned and the run goes on; Schedule makes it
 * schedulable again and stops the run (Failed).
 */
export function undrainableOutcome(behavior: 'Cordon' | 'Schedule'): { uncordon: boolean; stopRun: boolean } {
  return behavior === 'Schedule' ? { uncordon: true, stopRun: true } : { uncordon: false, stopRun: false };
}
