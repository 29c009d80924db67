/**
 * The steps of an upgrade run, each one activity of the upgrade orchestration
 * (functions/upgrade.ts): read and write through the API (never the store), machines through the
 * NodeProvider port, an Event on the Cluster or Node at each step, and the run's status written
 * at each step. Every step is safe to run again (durable activities run at least once), except
 * `addSurgeNode`, which adds one more machine each time it runs (see its comment).
 */
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../api/objects.js';
import { findResourceByKind } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import type { ControllerContext } from '../controllers/controller.js';
import type { EventRecorder } from '../controllers/events.js';
import type { NodeProvider } from '../nodes/provider.js';
import type { ControlPlaneHost } from '../release/control-plane.js';
import { CLUSTERS, NODEPOOLS } from './objects.js';
import { isNodeReady, kubeletVersionOf as kubeletVersion, reconcileNodePoolStatus } from '../controllers/nodepool/index.js';
import { updateWithRetry } from '../controllers/update.js';
import { availableUpgrades, poolNodes, type UpgradePlan } from './preview.js';
import { progressOf, runSpecOf, runStatusOf, withNodeStep, UPGRADERUNS, isFinished, type NodeStep, type RunNode, type UpgradePhase, type UpgradeRunStatus, gateDecision, type GateDecision } from './run.js';
import type { UndrainableNodeBehavior } from './settings.js';
import { previewFrom, type ReleaseCatalog } from './admission.js';

const NODES = findResourceByKind('v1', 'Node')!;
const PODS = findResourceByKind('v1', 'Pod')!;

/** UNDRAINABLE_LABEL marks a node an upgrade could not drain in time (undrainableNodeBehavior Cordon). */
export const UNDRAINABLE_LABEL = 'coracle.io/upgrade-undrainable';

/** StepDeps are what every step uses. */
export interface StepDeps {
  ctx: ControllerContext;
  recorder: EventRecorder;
  catalog: ReleaseCatalog;
  /** The machines of node pools; undefined when this process has none (the pool steps then fail, naming it). */
  provider?: NodeProvider;
  /** What runs the control plane's processes; undefined when nothing can move them (the control plane step then fails, naming it). */
  host?: ControlPlaneHost;
}

/** PoolRunPlan is one pool's part of a run, as the orchestration walks it. */
export interface PoolRunPlan {
  pool: string;
  /** Old node names per batch, in order. */
  batches: string[][];
  surge: number;
  drainTimeoutSeconds: number;
  soakSeconds: number;
  undrainableNodeBehavior: UndrainableNodeBehavior;
}

/** RunPlan is what the orchestration needs of a run once it has begun. */
export interface RunPlan {
  name: string;
  targetVersion: string;
  /** Why the run may not go on after all (the cluster changed since it was admitted); the orchestration fails it. */
  refused?: string;
  /** The control plane step, unless the scope is one pool or it is already done. */
  controlPlane?: { fromVersion: string; toVersion: string };
  pools: PoolRunPlan[];
}

const nowText = (deps: StepDeps) => rfc3339Now(deps.ctx.now());

/** readRun reads run `name` (undefined once deleted). */
async function readRun(deps: StepDeps, name: string): Promise<KubeObject | undefined> {
  return deps.ctx.client.getOrUndefined(UPGRADERUNS, { name });
}

/**
 * writeRunStatus applies `change` to run `name`'s status and writes it, re-reading on a conflict
 * (the user patches spec.paused meanwhile). Returns the run as written.
 */
export async function writeRunStatus(deps: StepDeps, name: string, change: (status: UpgradeRunStatus) => UpgradeRunStatus): Promise<KubeObject> {
  for (let attempt = 1; ; attempt++) {
    const run = await readRun(deps, name);
    if (!run) throw new Error(`upgrade run ${name} was deleted`);
    const status = change(structuredClone(runStatusOf(run)));
    if (status.nodes) status.progress = progressOf(status.nodes);
    try {
      return await deps.ctx.client.updateStatus(UPGRADERUNS, { ...run, status: status as Record<string, unknown> });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409 && attempt < 10)) throw err;
    }
  }
}

/** setNodeStep records node `node`'s step (and message) in run `name`, with an Event on the Node. */
export async function setNodeStep(deps: StepDeps, name: string, node: string, step: NodeStep, message?: string): Promise<void> {
  await writeRunStatus(deps, name, (s) => ({ ...s, nodes: withNodeStep(s.nodes ?? [], node, step, message) }));
  const ref = { apiVersion: 'v1', kind: 'Node', name: node };
  await (step === 'Undrainable' ? deps.recorder.warning(ref, 'UpgradeUndrainable', message ?? `${node} could not be drained`) : deps.recorder.normal(ref, `Upgrade${step}`, message ?? `upgrade run ${name}: ${step}`));
}

async function clusterObject(deps: StepDeps): Promise<KubeObject | undefined> {
  return (await deps.ctx.client.listAll(CLUSTERS))[0];
}

/** updateClusterStatus rewrites the Cluster's status with `next`, re-reading on a conflict (its controllers write it too). */
async function updateClusterStatus(deps: StepDeps, cluster: Readonly<KubeObject>, next: (status: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  await updateWithRetry(deps.ctx.client, CLUSTERS, { name: String(readMetadata(cluster).name) }, (c) => {
    c.status = next(isRecord(c.status) ? c.status : {});
    return true;
  }, 'status');
}

/**
 * beginRun takes the oldest unfinished run and records its plan, its old nodes (Waiting), the
 * control plane's step and its start; a run that already began (a restarted orchestration)
 * keeps its recorded plan and node steps. Resolves undefined when no run is waiting.
 */
export async function beginRun(deps: StepDeps): Promise<RunPlan | undefined> {
  const runs = (await deps.ctx.client.listAll(UPGRADERUNS)).filter((r) => !isFinished(r))
    .sort((a, b) => String(readMetadata(a).creationTimestamp).localeCompare(String(readMetadata(b).creationTimestamp)));
  const run = runs[0];
  if (!run) return undefined;
  const name = String(readMetadata(run).name);
  const spec = runSpecOf(run);
  let status = runStatusOf(run);
  if (!status.plan) {
    const plan = await previewFrom((r) => deps.ctx.client.listAll(r), spec, deps.catalog);
    const nodes: RunNode[] = plan.pools.flatMap((p) => p.batches.flat().map((n) => ({ name: n.name, pool: p.pool, fromVersion: n.version, toVersion: p.target, step: 'Waiting' as NodeStep })));
    const written = await writeRunStatus(deps, name, (s) => ({
      ...s, phase: plan.controlPlane ? 'ControlPlane' : 'Pools', plan, nodes, startTime: s.startTime ?? nowText(deps),
      controlPlane: plan.controlPlane ? { ...plan.controlPlane, step: plan.controlPlane.fromVersion === plan.controlPlane.toVersion ? 'Skipped' : 'Waiting' } : undefined,
      message: `upgrading to ${spec.targetVersion}`,
      conditions: [{ type: 'Running', status: 'True', reason: 'Started', message: `upgrading to ${spec.targetVersion}`, lastTransitionTime: nowText(deps) }],
    }));
    status = runStatusOf(written);
    const cluster = await clusterObject(deps);
    // Keep the Cluster's availableUpgrades current with the catalog (releases added since coracle up).
    if (cluster && plan.controlPlane) {
      await updateClusterStatus(deps, cluster, (st) => ({ ...st, availableUpgrades: plan.availableUpgrades })).catch(() => undefined);
    }
    if (cluster) await deps.recorder.normal(cluster, 'UpgradeStarted', `upgrade run ${name} to ${spec.targetVersion} (${spec.scope}) started`);
  }
  const plan = status.plan as UpgradePlan;
  if (!plan.canStart) return { name, targetVersion: spec.targetVersion, pools: [], refused: plan.problems.map((p) => p.message).join('; ') };
  const done = new Set((status.nodes ?? []).filter((n) => n.step === 'Replaced' || n.step === 'Ready' || n.step === 'Undrainable').map((n) => n.name));
  return {
    name, targetVersion: spec.targetVersion,
    controlPlane: plan.controlPlane && (status.controlPlane?.step === 'Waiting' || status.controlPlane?.step === 'Upgrading') ? plan.controlPlane : undefined,
    pools: plan.pools.map((p) => ({
      pool: p.pool, surge: p.settings.surge, drainTimeoutSeconds: p.settings.drainTimeoutSeconds, soakSeconds: p.settings.soakSeconds,
      undrainableNodeBehavior: p.settings.undrainableNodeBehavior,
      batches: p.batches.map((b) => b.map((n) => n.name).filter((n) => !done.has(n))).filter((b) => b.length > 0),
    })),
  };
}

/**
 * checkGate reads run `name`'s spec at a step boundary: on pause it records phase Paused (once),
 * on going on after a pause it records `phase` again. Cancel is recorded by finishRun.
 */
export async function checkGate(deps: StepDeps, name: string, phase: UpgradePhase): Promise<GateDecision> {
  const run = await readRun(deps, name);
  if (!run) return 'cancel';
  const decision = gateDecision(runSpecOf(run));
  const current = runStatusOf(run).phase;
  if (decision === 'pause' && current !== 'Paused') {
    await writeRunStatus(deps, name, (s) => ({ ...s, phase: 'Paused', message: `paused before the next step (was ${current ?? phase}); set spec.paused to false to resume` }));
    const cluster = await clusterObject(deps);
    if (cluster) await deps.recorder.normal(cluster, 'UpgradePaused', `upgrade run ${name} paused`);
  }
  if (decision === 'continue' && current === 'Paused') {
    await writeRunStatus(deps, name, (s) => ({ ...s, phase, message: `resumed (${phase})` }));
    const cluster = await clusterObject(deps);
    if (cluster) await deps.recorder.normal(cluster, 'UpgradeResumed', `upgrade run ${name} resumed`);
  }
  return decision;
}

/**
 * upgradeControlPlane moves the control plane onto the target release and answers whether it is
 * there. The first calls ask the host (the ControlPlaneHost port) to move its processes and
 * answer false — the process running this very step may be one that is replaced — and the
 * orchestration calls again until the host answers that every process runs the target. Then the
 * Cluster records it (spec.version, status.version, status.controlPlaneVersion,
 * availableUpgrades). Safe to run again at every point (a move under way is not started twice).
 */
export async function upgradeControlPlane(deps: StepDeps, name: string, plan: { fromVersion: string; toVersion: string }): Promise<boolean> {
  if (!deps.host) throw new Error('this control plane has no host that can move it onto another release (coracle up is one; on Azure the app needs CORACLE_RELEASES_URL, CORACLE_DEPLOYMENT_CONTAINER_URL and CORACLE_SITE_ID)');
  const cluster = await clusterObject(deps);
  if (!cluster) throw new Error('no Cluster object to record the control plane\'s version in');
  const running = await deps.host.running();
  if (running !== plan.toVersion) {
    const run = await readRun(deps, name);
    if (run && runStatusOf(run).controlPlane?.step !== 'Upgrading') {
      await writeRunStatus(deps, name, (s) => ({ ...s, phase: 'ControlPlane', controlPlane: { ...plan, step: 'Upgrading' } }));
      await deps.recorder.normal(cluster, 'UpgradingControlPlane', `control plane ${plan.fromVersion} -> ${plan.toVersion}: its processes move onto release ${plan.toVersion}`);
    }
    await deps.host.moveTo(plan.toVersion);
    return false;
  }
  await updateWithRetry(deps.ctx.client, CLUSTERS, { name: String(readMetadata(cluster).name) }, (c) => {
    const spec = isRecord(c.spec) ? c.spec : {};
    if (spec.version === plan.toVersion) return false;
    c.spec = { ...spec, version: plan.toVersion };
    return true;
  });
  const catalog = await deps.catalog();
  await updateClusterStatus(deps, cluster, (st) => ({ ...st, version: plan.toVersion, controlPlaneVersion: plan.toVersion, availableUpgrades: availableUpgrades(catalog, plan.toVersion) }));
  // The release applied its storage changes when it opened the store, before it served (shared/store/schema.ts).
  const storage = deps.ctx.storage && { version: deps.ctx.storage.version, migrationsApplied: deps.ctx.storage.migrations.filter((m) => m.release === plan.toVersion).map((m) => `${m.version}: ${m.description}`) };
  await writeRunStatus(deps, name, (s) => ({ ...s, phase: 'Pools', controlPlane: { ...plan, step: 'Upgraded', ...(storage ? { storage } : {}) }, message: `control plane at ${plan.toVersion}` }));
  const applied = storage?.migrationsApplied.length ? `; storage schema ${storage.version}, migrations applied: ${storage.migrationsApplied.join('; ')}` : storage ? `; storage schema ${storage.version}, no migration needed` : '';
  await deps.recorder.normal(cluster, 'ControlPlaneUpgraded', `control plane running ${plan.toVersion}${applied}`);
  return true;
}

function needProvider(deps: StepDeps): NodeProvider {
  if (!deps.provider) throw new Error('this control plane process has no NodeProvider (coracle up gives it the local one; Azure\'s is not wired yet)');
  return deps.provider;
}

/**
 * addSurgeNode adds one node at `version` to `pool` for the batch `batch` (its old nodes get step
 * Surging) and answers its name. Not idempotent: run again after a crash between the add and
 * its completion, it adds another node (the extra one stays in the pool, at the new version).
 */
export async function addSurgeNode(deps: StepDeps, name: string, pool: string, version: string, batch: readonly string[]): Promise<string> {
  const provider = needProvider(deps);
  for (const old of batch) await setNodeStep(deps, name, old, 'Surging', `adding a node at ${version}`);
  // An activity may run again after a crash that came between the node's creation and the
  // orchestration's record of it: a node of the pool at `version` that was neither there when the
  // run began (the plan's upToDate) nor recorded by an earlier add is that node, adopted, not doubled.
  const run = await readRun(deps, name);
  const status = run ? runStatusOf(run) : {};
  const planned = (status.plan as UpgradePlan | undefined)?.pools.find((p) => p.pool === pool);
  const claimed = new Set([...(status.surgeNodes ?? []), ...(planned?.upToDate ?? [])]);
  const orphan = (await provider.list(pool)).find((n) => n.version === version && !claimed.has(n.name));
  const added = orphan ?? await provider.add(pool, version);
  await writeRunStatus(deps, name, (s) => ({ ...s, surgeNodes: [...new Set([...(s.surgeNodes ?? []), added.name])] }));
  for (const old of batch) await setNodeStep(deps, name, old, 'Surging', `surge node ${added.name} ${orphan ? 'adopted (added before a restart)' : 'added'} at ${version}`);
  return added.name;
}

/** nodesReady tells whether every node of `names` is registered, Ready and reports `version`. */
export async function nodesReady(deps: StepDeps, names: readonly string[], version: string): Promise<boolean> {
  for (const n of names) {
    const node = await deps.ctx.client.getOrUndefined(NODES, { name: n });
    if (!node || !isNodeReady(node) || kubeletVersion(node) !== version) return false;
  }
  return true;
}

/** cordonNode marks `node` unschedulable (kubectl cordon) and records step Draining. */
export async function cordonNode(deps: StepDeps, name: string, node: string): Promise<void> {
  await deps.ctx.client.patch(NODES, { name: node }, { spec: { unschedulable: true } }, 'merge');
  await setNodeStep(deps, name, node, 'Draining', 'cordoned; evicting its pods');
}

/** DrainRound is what one eviction round of a node left: pods still there, and why. */
export interface DrainRound {
  remaining: number;
  /** Pods this round evicted. */
  evicted: number;
  /** The refusals of this round (a PodDisruptionBudget's 429 message), deduplicated. */
  blockedBy: string[];
}

/**
 * evictNodePods asks the eviction API to evict every pod still on `node` (PodDisruptionBudgets
 * decide: a 429 leaves the pod for the next round) and answers how many remain (terminating pods
 * count until they are gone). Pods that finished (Succeeded, Failed) do not hold a drain.
 */
export async function evictNodePods(deps: StepDeps, node: string): Promise<DrainRound> {
  const pods = (await deps.ctx.client.listAll(PODS, { fieldSelector: `spec.nodeName=${node}` }))
    .filter((p) => !['Succeeded', 'Failed'].includes(String(isRecord(p.status) ? p.status.phase : '')));
  const blockedBy = new Set<string>();
  let evicted = 0;
  for (const pod of pods.filter((p) => readMetadata(p).deletionTimestamp === undefined)) {
    const meta = readMetadata(pod);
    try {
      await deps.ctx.client.create(PODS, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: meta.name, namespace: meta.namespace } }, { subresource: 'eviction' });
      evicted++;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) continue;
      if (err instanceof ApiError && err.code === 429) blockedBy.add(err.message);
      else throw err;
    }
  }
  return { remaining: pods.length, evicted, blockedBy: [...blockedBy] };
}

/** markDrained records step Drained of `node`. */
export async function markDrained(deps: StepDeps, name: string, node: string): Promise<void> {
  await setNodeStep(deps, name, node, 'Drained', 'every pod evicted');
}

/**
 * markUndrainable handles a node that could not be drained within drainTimeout: labelled
 * UNDRAINABLE_LABEL and left cordoned (Cordon), or made schedulable again (Schedule); step
 * Undrainable with the refusals.
 */
export async function markUndrainable(deps: StepDeps, name: string, node: string, behavior: UndrainableNodeBehavior, why: string): Promise<void> {
  await deps.ctx.client.patch(NODES, { name: node }, { metadata: { labels: { [UNDRAINABLE_LABEL]: 'true' } }, ...(behavior === 'Schedule' ? { spec: { unschedulable: null } } : {}) }, 'merge');
  await setNodeStep(deps, name, node, 'Undrainable', `not drained within drainTimeout (${behavior === 'Cordon' ? 'left cordoned' : 'schedulable again; the run stops'}): ${why}`);
}

/** releaseNode makes `node` schedulable again after its run was cancelled while draining it (step Waiting: it keeps its release). */
export async function releaseNode(deps: StepDeps, name: string, node: string): Promise<void> {
  try {
    await deps.ctx.client.patch(NODES, { name: node }, { spec: { unschedulable: null } }, 'merge');
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  await setNodeStep(deps, name, node, 'Waiting', 'the run was cancelled while draining it: uncordoned, left at its release');
}

/** removeOldNode deletes `node`'s machine and its Node object, and records step Replaced. */
export async function removeOldNode(deps: StepDeps, name: string, pool: string, node: string): Promise<void> {
  await needProvider(deps).remove(pool, node);
  try {
    await deps.ctx.client.delete(NODES, { name: node });
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  await setNodeStep(deps, name, node, 'Replaced', 'machine removed');
}

/** markReady records step Ready of the batch's replaced nodes (their replacements are Ready), and refreshes the pool's status. */
export async function markReady(deps: StepDeps, name: string, pool: string, nodes: readonly string[], replacements: readonly string[]): Promise<void> {
  for (const n of nodes) await setNodeStep(deps, name, n, 'Ready', `replaced by ${replacements.join(', ')}`);
  await refreshPoolStatus(deps, pool);
}

/** refreshPoolStatus writes NodePool `pool`'s status from its Nodes now (the nodepool-status controller does the same on every Node change). */
export async function refreshPoolStatus(deps: StepDeps, pool: string): Promise<void> {
  await reconcileNodePoolStatus(pool, deps.ctx);
}

/**
 * finishRun ends run `name` in `phase` (Succeeded, Failed or Cancelled) with `message`: the
 * completion time, a Running=False condition, an entry in the Cluster's upgradeHistory, the
 * upgraded pools' spec.version (Succeeded), and an Event on the Cluster.
 */
export async function finishRun(deps: StepDeps, name: string, phase: 'Succeeded' | 'Failed' | 'Cancelled', message: string): Promise<void> {
  const before = await readRun(deps, name);
  const left = (before?.status as UpgradeRunStatus | undefined)?.nodes?.filter((n) => n.step === 'Undrainable') ?? [];
  // Cordon behavior: the run finishes the other nodes and reports the ones it left.
  if (phase === 'Succeeded' && left.length > 0) message = `finished; left cordoned at their old release (undrainable): ${left.map((n) => n.name).join(', ')}`;
  // Never report a pool upgraded while a node of it is not: every other node must report the target.
  if (phase === 'Succeeded' && before) {
    const pools = ((before.status as UpgradeRunStatus).plan as UpgradePlan | undefined)?.pools.map((p) => p.pool) ?? [];
    const target = runSpecOf(before).targetVersion;
    const nodes = await deps.ctx.client.listAll(NODES);
    const stale = pools.flatMap((p) => poolNodes(nodes, p)).map((n) => ({ name: String(readMetadata(n).name), version: kubeletVersion(n) }))
      .filter((n) => n.version !== target && !left.some((l) => l.name === n.name));
    if (stale.length > 0) [phase, message] = ['Failed', `node(s) not at ${target} at the end: ${stale.map((n) => `${n.name} (${n.version || 'no version'})`).join(', ')}`];
  }
  const run = await writeRunStatus(deps, name, (s) => ({
    ...s, phase, message, completionTime: nowText(deps),
    conditions: [{ type: 'Running', status: 'False', reason: phase, message, lastTransitionTime: nowText(deps) }],
  }));
  const spec = runSpecOf(run);
  const status = runStatusOf(run);
  const plan = status.plan as UpgradePlan | undefined;
  for (const p of phase === 'Succeeded' ? plan?.pools ?? [] : []) {
    if (left.some((n) => n.pool === p.pool)) {
      await refreshPoolStatus(deps, p.pool);
      continue;
    }
    const np = await deps.ctx.client.getOrUndefined(NODEPOOLS, { name: p.pool });
    if (np && isRecord(np.spec) && np.spec.version !== spec.targetVersion) await deps.ctx.client.update(NODEPOOLS, { ...np, spec: { ...np.spec, version: spec.targetVersion } });
    await refreshPoolStatus(deps, p.pool);
  }
  const cluster = await clusterObject(deps);
  if (!cluster) return;
  const entry = { name, fromVersion: plan?.controlPlane?.fromVersion ?? status.nodes?.[0]?.fromVersion ?? '', toVersion: spec.targetVersion,
    scope: spec.scope === 'Pool' ? `Pool/${spec.pool}` : spec.scope, startTime: status.startTime, completionTime: status.completionTime, outcome: phase, message };
  await updateClusterStatus(deps, cluster, (st) => {
    const history = (Array.isArray(st.upgradeHistory) ? st.upgradeHistory : []).filter((h) => !(isRecord(h) && h.name === name));
    return { ...st, upgradeHistory: [...history, entry] };
  });
  await (phase === 'Succeeded' ? deps.recorder.normal(cluster, 'UpgradeSucceeded', `upgrade run ${name}: ${message}`) : deps.recorder.warning(cluster, `Upgrade${phase}`, `upgrade run ${name}: ${message}`));
}
