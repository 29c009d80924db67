/**
 * The cluster upgrade orchestration: one durable instance per cluster (`upgrade:cluster`), which
 * runs the oldest unfinished UpgradeRun to its end, then looks for the next.
 *
 * 1. begin: record the run's plan (shared/upgrade/preview.ts), its old nodes, its start.
 * 2. the control plane step (scope Cluster or ControlPlane): the host (ControlPlaneHost) moves the
 *    control plane's processes onto the target release — this orchestration's own process among
 *    them: the step asks, then looks again every POLL_MS (durable timers survive the move) until
 *    every process runs the target; then the Cluster records it.
 * 3. each pool, batch by batch (the plan's batches: maxSurge + maxUnavailable old nodes each):
 *    add maxSurge nodes at the target through the NodeProvider, wait for them Ready at the
 *    target, cordon the batch's old nodes, evict their pods through the eviction API (PDBs
 *    answer 429 and the round is tried again) until drained or drainTimeout, then
 *    undrainableNodeBehavior for the rest (Cordon: leave it, go on; Schedule: stop, Failed),
 *    soak, remove the drained old nodes, mark them Ready (their replacements are).
 * 4. finish: Succeeded, Failed (a step failed after its retries) or Cancelled.
 *
 * Pause and cancel (spec.paused, spec.cancel) are read at every step boundary and between a
 * drain's eviction rounds (a run cancelled mid-drain uncordons the batch's old nodes); a paused run
 * waits for the `changed` event the change feed raises on every change of an UpgradeRun (as
 * every orchestrated controller is woken; shared/controllers/upgrade.ts), with a 30 s timer as a
 * backstop. Decisions are pure functions (shared/upgrade/run.ts); I/O is in the activities
 * (shared/upgrade/steps.ts); the orchestrator uses only the durable clock. A host killed mid-step
 * replays the history and re-runs the activity that was in flight.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { EventRecorder } from '../shared/controllers/events.js';
import { UPGRADE_ORCHESTRATION } from '../shared/controllers/upgrade.js';
import { drainDeadlinePassed, surgeFor, undrainableOutcome, type GateDecision, type UpgradePhase } from '../shared/upgrade/run.js';
import {
  addSurgeNode, beginRun, checkGate, cordonNode, evictNodePods, finishRun, markDrained, markReady, markUndrainable, nodesReady,
  releaseNode, removeOldNode, upgradeControlPlane, type DrainRound, type PoolRunPlan, type RunPlan, type StepDeps,
} from '../shared/upgrade/steps.js';
import { controllerContext, releaseCatalog } from './api.js';
import { openFlexControlPlaneHost } from './releases.js';
import type { ControlPlaneHost } from '../shared/release/control-plane.js';
import { CHANGED_EVENT } from './orchestration.js';
import { getAppContext, getControlPlaneHost, getNodeProvider } from './runtime.js';

const BEGIN = 'upgrade-begin';
const GATE = 'upgrade-gate';
const CONTROL_PLANE = 'upgrade-control-plane';
const ADD_NODE = 'upgrade-add-node';
const NODES_READY = 'upgrade-nodes-ready';
const CORDON = 'upgrade-cordon';
const EVICT = 'upgrade-evict';
const DRAINED = 'upgrade-drained';
const UNDRAINABLE = 'upgrade-undrainable';
const REMOVE = 'upgrade-remove-node';
const RELEASE = 'upgrade-release-node';
const BATCH_READY = 'upgrade-batch-ready';
const FINISH = 'upgrade-finish';

/** POLL_MS is how often the orchestration looks again at the control plane's processes while they move. */
const POLL_MS = 2_000;
/**
 * Nodes becoming Ready and pods leaving a node are looked at every FAST_POLL_MS until nothing has
 * moved for STALL_MS, then twice as long after each look, up to SLOW_POLL_MS: quick while a drain
 * moves (each eviction a budget allows waits for the pod before it to be replaced), and a drain
 * blocked for good does not fill the orchestration's history with a look every half second for
 * its whole drainTimeout.
 */
const FAST_POLL_MS = 500;
const STALL_MS = 10_000;
const SLOW_POLL_MS = 8_000;
const nextPoll = (previous: number, stalledMs: number): number => (stalledMs < STALL_MS ? FAST_POLL_MS : Math.min(previous * 2, SLOW_POLL_MS));
/** PAUSE_BACKSTOP_MS bounds how long a paused run waits for a change before it reads its spec again. */
const PAUSE_BACKSTOP_MS = 30_000;
/** NODE_READY_TIMEOUT_MS is how long new nodes may take to be Ready at the target before the run fails. */
const NODE_READY_TIMEOUT_MS = 10 * 60_000;

const retry = (() => {
  const r = new df.RetryOptions(1_000, 5);
  r.backoffCoefficient = 2;
  r.maxRetryIntervalInMilliseconds = 30_000;
  return r;
})();

type Gen<T> = Generator<df.Task, T, unknown>;

/** later is a durable timer `ms` from the orchestration's now. */
function later(context: OrchestrationContext, ms: number): df.TimerTask {
  return context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + ms));
}

/** gate holds the run at a step boundary while it is paused; false when it is cancelled. */
function* gate(context: OrchestrationContext, run: string, phase: UpgradePhase): Gen<boolean> {
  for (;;) {
    const decision = (yield context.df.callActivityWithRetry(GATE, retry, { run, phase })) as GateDecision;
    if (decision !== 'pause') return decision === 'continue';
    const changed = context.df.waitForExternalEvent(CHANGED_EVENT);
    const timer = later(context, PAUSE_BACKSTOP_MS);
    if ((yield context.df.Task.any([changed, timer])) === changed) timer.cancel();
  }
}

/** waitReady waits until `nodes` are Ready at `version`; throws after NODE_READY_TIMEOUT_MS. */
function* waitReady(context: OrchestrationContext, nodes: string[], version: string): Gen<void> {
  const started = context.df.currentUtcDateTime.getTime();
  let wait = FAST_POLL_MS;
  while (!((yield context.df.callActivityWithRetry(NODES_READY, retry, { nodes, version })) as boolean)) {
    const waited = context.df.currentUtcDateTime.getTime() - started;
    if (waited > NODE_READY_TIMEOUT_MS) throw new Error(`nodes ${nodes.join(', ')} were not Ready at ${version} within ${NODE_READY_TIMEOUT_MS / 60_000} min`);
    wait = nextPoll(wait, waited);
    yield later(context, wait);
  }
}

/** CONTROL_PLANE_MOVE_TIMEOUT_MS bounds how long the control plane's processes may take to come back on the target release. */
const CONTROL_PLANE_MOVE_TIMEOUT_MS = 10 * 60_000;

/** moveControlPlane asks the host to move the control plane and waits until it runs the target (see the file comment). */
function* moveControlPlane(context: OrchestrationContext, run: string, plan: { fromVersion: string; toVersion: string }): Gen<void> {
  const started = context.df.currentUtcDateTime.getTime();
  while (!((yield context.df.callActivityWithRetry(CONTROL_PLANE, retry, { run, plan })) as boolean)) {
    if (context.df.currentUtcDateTime.getTime() - started > CONTROL_PLANE_MOVE_TIMEOUT_MS) throw new Error(`the control plane was not running ${plan.toVersion} within ${CONTROL_PLANE_MOVE_TIMEOUT_MS / 60_000} min`);
    yield later(context, POLL_MS);
  }
}

/**
 * drain evicts the batch's pods round after round until every node is empty or drainTimeout
 * passes; answers the nodes left and why, or undefined when the run was cancelled meanwhile.
 * Pause and cancel hold inside a drain too: between rounds the gate is read, a paused drain evicts
 * nothing more, and the time it stays paused does not count against drainTimeout.
 */
function* drain(context: OrchestrationContext, run: string, pool: PoolRunPlan, batch: string[]): Gen<Map<string, string> | undefined> {
  const now = () => context.df.currentUtcDateTime.getTime();
  let started = now();
  let pending = batch;
  const why = new Map<string, string>();
  let wait = FAST_POLL_MS;
  let left = Infinity;
  let movedAt = now();
  for (;;) {
    const rounds = (yield context.df.Task.all(pending.map((node) => context.df.callActivityWithRetry(EVICT, retry, { node })))) as DrainRound[];
    rounds.forEach((r, i) => why.set(pending[i]!, r.blockedBy.join('; ') || `${r.remaining} pod(s) still terminating`));
    pending = pending.filter((_, i) => rounds[i]!.remaining > 0);
    if (pending.length === 0 || drainDeadlinePassed(started, now(), pool.drainTimeoutSeconds)) break;
    // Moved: fewer pods left, or some evicted in this round.
    const remaining = rounds.reduce((n, r) => n + r.remaining, 0);
    if (remaining < left || rounds.some((r) => r.evicted > 0)) movedAt = now();
    left = remaining;
    wait = nextPoll(wait, now() - movedAt);
    yield later(context, wait);
    const beforeGate = now();
    if (!(yield* gate(context, run, 'Pools'))) return undefined;
    started += now() - beforeGate;
  }
  return new Map(pending.map((n) => [n, why.get(n) ?? '']));
}

/** upgradeBatch replaces one batch of old nodes; `stop` when the run must stop (Schedule behavior), `cancelled` when it was cancelled mid-drain. */
function* upgradeBatch(context: OrchestrationContext, plan: RunPlan, pool: PoolRunPlan, batch: string[]): Gen<'next' | 'stop' | 'cancelled'> {
  const run = plan.name;
  const surge = surgeFor(batch.length, pool.surge);
  const added: string[] = [];
  for (let i = 0; i < surge; i++) added.push((yield context.df.callActivityWithRetry(ADD_NODE, retry, { run, pool: pool.pool, version: plan.targetVersion, batch })) as string);
  yield* waitReady(context, added, plan.targetVersion);
  for (const node of batch) yield context.df.callActivityWithRetry(CORDON, retry, { run, node });
  const undrained = yield* drain(context, run, pool, batch);
  if (!undrained) {
    // Cancelled mid-drain: the batch's old nodes are schedulable again, at their release; the surge nodes stay.
    for (const node of batch) yield context.df.callActivityWithRetry(RELEASE, retry, { run, node });
    return 'cancelled';
  }
  const { stopRun } = undrainableOutcome(pool.undrainableNodeBehavior);
  for (const [node, why] of undrained) yield context.df.callActivityWithRetry(UNDRAINABLE, retry, { run, node, behavior: pool.undrainableNodeBehavior, why });
  const drained = batch.filter((n) => !undrained.has(n));
  for (const node of drained) yield context.df.callActivityWithRetry(DRAINED, retry, { run, node });
  if (pool.soakSeconds > 0) yield later(context, pool.soakSeconds * 1000);
  for (const node of drained) yield context.df.callActivityWithRetry(REMOVE, retry, { run, pool: pool.pool, node });
  yield context.df.callActivityWithRetry(BATCH_READY, retry, { run, pool: pool.pool, nodes: drained, replacements: added });
  return stopRun && undrained.size > 0 ? 'stop' : 'next';
}

/** upgradeOrchestrator runs the oldest unfinished UpgradeRun (see the file comment), then continues as new for the next one. */
export const upgradeOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext): Gen<string> {
  const plan = (yield context.df.callActivityWithRetry(BEGIN, retry, null)) as RunPlan | null;
  if (!plan) return 'no unfinished upgrade run';
  const run = plan.name;
  const finish = (phase: 'Succeeded' | 'Failed' | 'Cancelled', message: string) => context.df.callActivityWithRetry(FINISH, retry, { run, phase, message });
  try {
    if (plan.refused) {
      yield finish('Failed', `the upgrade may not start: ${plan.refused}`);
    } else if (plan.controlPlane && !(yield* gate(context, run, 'ControlPlane'))) {
      yield finish('Cancelled', 'cancelled before the control plane step');
    } else {
      if (plan.controlPlane) yield* moveControlPlane(context, run, plan.controlPlane);
      let outcome: 'Succeeded' | 'Failed' | 'Cancelled' = 'Succeeded';
      let message = `every node at ${plan.targetVersion}`;
      for (const pool of plan.pools) {
        for (const batch of pool.batches) {
          if (outcome !== 'Succeeded') break;
          if (!(yield* gate(context, run, 'Pools'))) {
            [outcome, message] = ['Cancelled', `cancelled before replacing ${batch.join(', ')}`];
            continue;
          }
          const done = yield* upgradeBatch(context, plan, pool, batch);
          if (done === 'stop') [outcome, message] = ['Failed', `node(s) of pool ${pool.pool} could not be drained (undrainableNodeBehavior Schedule)`];
          if (done === 'cancelled') [outcome, message] = ['Cancelled', `cancelled while draining ${batch.join(', ')}: uncordoned, left at their release`];
        }
      }
      yield finish(outcome, outcome === 'Succeeded' && plan.pools.length === 0 ? `control plane at ${plan.targetVersion}` : message);
    }
  } catch (err) {
    yield finish('Failed', (err as Error).message);
  }
  // The next run (created while this one ran, refused then, or later) starts a fresh history.
  context.df.continueAsNew({ key: 'cluster' });
  return run;
};

let deps: Promise<Omit<StepDeps, 'provider' | 'host'> & { azureHost?: ControlPlaneHost }> | undefined;

/** stepDeps are the activities' API client, Event recorder, release catalog, NodeProvider and ControlPlaneHost (the one handed over, else the Azure one the configuration names; built once per process). */
async function stepDeps(): Promise<StepDeps> {
  deps ??= (async () => {
    const ctx = await controllerContext('coracle-upgrade-controller');
    const runtime = await getAppContext();
    return {
      ctx, recorder: new EventRecorder(ctx.client, { component: 'coracle-upgrade-controller', now: ctx.now }), catalog: releaseCatalog(runtime.config),
      azureHost: await openFlexControlPlaneHost(runtime.config.releases),
    };
  })();
  deps.catch(() => (deps = undefined));
  const { azureHost, ...built } = await deps;
  return { ...built, provider: getNodeProvider(), host: getControlPlaneHost() ?? azureHost };
}

type In = Record<string, unknown>;
const activity = (name: string, handler: (d: StepDeps, input: In) => Promise<unknown>) =>
  df.app.activity(name, { handler: async (input: unknown) => (await handler(await stepDeps(), (input ?? {}) as In)) ?? null });

df.app.orchestration(UPGRADE_ORCHESTRATION, upgradeOrchestrator);
activity(BEGIN, (d) => beginRun(d));
activity(GATE, (d, i) => checkGate(d, String(i.run), i.phase as UpgradePhase));
activity(CONTROL_PLANE, (d, i) => upgradeControlPlane(d, String(i.run), i.plan as { fromVersion: string; toVersion: string }));
activity(ADD_NODE, (d, i) => addSurgeNode(d, String(i.run), String(i.pool), String(i.version), i.batch as string[]));
activity(NODES_READY, (d, i) => nodesReady(d, i.nodes as string[], String(i.version)));
activity(CORDON, (d, i) => cordonNode(d, String(i.run), String(i.node)));
activity(EVICT, (d, i) => evictNodePods(d, String(i.node)));
activity(DRAINED, (d, i) => markDrained(d, String(i.run), String(i.node)));
activity(UNDRAINABLE, (d, i) => markUndrainable(d, String(i.run), String(i.node), i.behavior as 'Cordon' | 'Schedule', String(i.why)));
activity(REMOVE, (d, i) => removeOldNode(d, String(i.run), String(i.pool), String(i.node)));
activity(RELEASE, (d, i) => releaseNode(d, String(i.run), String(i.node)));
activity(BATCH_READY, (d, i) => markReady(d, String(i.run), String(i.pool), i.nodes as string[], i.replacements as string[]));
activity(FINISH, (d, i) => finishRun(d, String(i.run), i.phase as 'Succeeded' | 'Failed' | 'Cancelled', String(i.message)));
