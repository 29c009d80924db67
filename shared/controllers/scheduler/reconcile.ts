/**
 * The scheduling pass: read the pending pods, the nodes and the bound pods through the API (one
 * list each), decide with the pure `scheduleBatch`, then bind (POST pods/binding) in parallel
 * with bounded concurrency, recording `Scheduled` events behind the bindings; pods that fit nowhere get
 * PodScheduled=False/Unschedulable with kube-scheduler's message and a `FailedScheduling`
 * Warning. Level-triggered and idempotent: a pass re-reads everything, and a binding that lost a
 * race (409: already bound, or being deleted; 404: gone) is skipped.
 *
 * Correctness relies on one scheduler per cluster at a time (kube-scheduler's leader election):
 * in-process the controller queue never runs the one key twice at once; in Azure the pass runs
 * as a singleton orchestration.
 */
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import { ApiError } from '../../api/status.js';
import { scheduleBatch, type Assignment, type Unschedulable } from '../../scheduler/schedule.js';
import type { ApiClient } from '../client.js';
import type { ControllerContext } from '../controller.js';
import { EventRecorder } from '../events.js';
import type { ReconcileOutcome } from '../queue.js';
import type { ClusterSnapshot, SchedulerCache } from './cache.js';
import { isPendingPod, SCHEDULER_NAME } from './keys.js';

const PODS = findResourceByKind('v1', 'Pod')!;
const NODES = findResourceByKind('v1', 'Node')!;

/** BIND_CONCURRENCY is how many bindings (each with its event) are in flight at once. */
export const BIND_CONCURRENCY = 32;

/** UNSCHEDULABLE_RETRY_MS is how soon a pass that left pods unschedulable runs again (besides node changes waking it). */
export const UNSCHEDULABLE_RETRY_MS = 15_000;

/** LIST_PAGE is the page size of the pass's lists (large: fewer round trips for big clusters). */
const LIST_PAGE = 5000;

/** SchedulingPass reports what one pass did. */
export interface SchedulingPass {
  pending: number;
  bound: number;
  /** Bindings skipped because the pod was bound, deleted or gone meanwhile. */
  skipped: number;
  unschedulable: number;
}

const recorders = new WeakMap<ApiClient, EventRecorder>();

/** schedulerRecorder is the `default-scheduler` EventRecorder of `ctx`'s client (one per client, so aggregation works across passes). */
export function schedulerRecorder(ctx: ControllerContext): EventRecorder {
  let recorder = recorders.get(ctx.client);
  if (!recorder) recorders.set(ctx.client, (recorder = new EventRecorder(ctx.client, { component: SCHEDULER_NAME, now: ctx.now })));
  return recorder;
}

/** forEachLimited runs `work` for each item with at most `limit` in flight; resolves when all settled, rejecting with the first error. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}

function nameOf(pod: Readonly<KubeObject>): { namespace: string; name: string } {
  const meta = readMetadata(pod);
  return { namespace: String(meta.namespace ?? 'default'), name: String(meta.name ?? '') };
}

/** bind POSTs the Binding of one assignment; answers false when the pod was bound, deleted or gone meanwhile. Records no event (see bindAll). */
async function bind(ctx: ControllerContext, a: Assignment): Promise<boolean> {
  const ref = nameOf(a.pod);
  const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: ref.name, namespace: ref.namespace, uid: readMetadata(a.pod).uid }, target: { apiVersion: 'v1', kind: 'Node', name: a.nodeName } };
  try {
    await ctx.client.create(PODS, binding, { namespace: ref.namespace, subresource: 'binding' });
  } catch (err) {
    if (err instanceof ApiError && (err.code === 409 || err.code === 404)) return false;
    throw err;
  }
  return true;
}

/** EVENT_CONCURRENCY is how many `Scheduled` events are written at once, behind the bindings. */
const EVENT_CONCURRENCY = 8;

/**
 * bindAll binds every assignment (BIND_CONCURRENCY at a time) and records each successful
 * binding's `Scheduled` event behind them: an event write does not hold a binding slot, so a
 * pass's pods are bound sooner (events are best effort and written before the pass ends, in
 * binding order). `onBound` is told each binding's outcome as soon as it is known.
 */
async function bindAll(ctx: ControllerContext, assignments: readonly Assignment[], onBound: (a: Assignment, outcome: 'bound' | 'skipped' | 'failed') => void): Promise<void> {
  const settle: Array<(bound: boolean) => void> = [];
  const outcomes = assignments.map((_, i) => new Promise<boolean>((resolve) => { settle[i] = resolve; }));
  const index = new Map(assignments.map((a, i) => [a, i]));
  const binds = forEachLimited(assignments, BIND_CONCURRENCY, async (a) => {
    let done: boolean;
    try {
      done = await bind(ctx, a);
    } catch (err) {
      settle[index.get(a)!]!(false);
      onBound(a, 'failed');
      throw err;
    }
    settle[index.get(a)!]!(done);
    onBound(a, done ? 'bound' : 'skipped');
  });
  const events = forEachLimited(assignments, EVENT_CONCURRENCY, async (a) => {
    if (!(await outcomes[index.get(a)!]!)) return;
    const ref = nameOf(a.pod);
    await schedulerRecorder(ctx).normal(a.pod, 'Scheduled', `Successfully assigned ${ref.namespace}/${ref.name} to ${a.nodeName}`);
  });
  await Promise.all([binds, events]);
}

function podScheduledCondition(pod: Readonly<KubeObject>): Record<string, unknown> | undefined {
  const status = isRecord(pod.status) ? pod.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  return conditions.find((c): c is Record<string, unknown> => isRecord(c) && c.type === 'PodScheduled');
}

/** markUnschedulable sets PodScheduled=False/Unschedulable (unless already so with this message) and records FailedScheduling. */
async function markUnschedulable(ctx: ControllerContext, u: Unschedulable): Promise<void> {
  const current = podScheduledCondition(u.pod);
  const same = current?.status === 'False' && current.reason === 'Unschedulable' && current.message === u.message;
  if (!same) {
    const now = rfc3339Now(ctx.now());
    const condition = {
      type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: u.message, lastProbeTime: null,
      lastTransitionTime: current?.status === 'False' ? current.lastTransitionTime ?? now : now,
    };
    try {
      await ctx.client.patch(PODS, nameOf(u.pod), { status: { conditions: [condition] } }, 'strategic', { subresource: 'status' });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }
  await schedulerRecorder(ctx).warning(u.pod, 'FailedScheduling', u.message);
}

/** readCluster lists pending pods, then (only if any) nodes and bound pods, one list each. */
async function readCluster(client: ApiClient): Promise<ClusterSnapshot> {
  const unbound = await client.listAll(PODS, { fieldSelector: 'spec.nodeName=', limit: LIST_PAGE });
  const pending = unbound.filter(isPendingPod);
  if (pending.length === 0) return { pending, nodes: [], bound: [] };
  const [nodes, bound] = await Promise.all([
    client.listAll(NODES, { limit: LIST_PAGE }),
    client.listAll(PODS, { fieldSelector: 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed', limit: LIST_PAGE }),
  ]);
  return { pending, nodes, bound };
}

/**
 * runSchedulingPass does one pass (see the file comment) and reports it: from `cache` when given
 * when it catches up with the store in time (bindings are assumed at once), else from three lists. Throws when a write failed for another
 * reason than a lost race (the pass is retried).
 */
export async function runSchedulingPass(ctx: ControllerContext, cache?: SchedulerCache): Promise<SchedulingPass> {
  // A pass runs alone (singleton), so the lists see every earlier binding: assumptions only matter for the cache.
  const { pending, nodes, bound } = (await cache?.snapshot()) ?? (await readCluster(ctx.client));
  const pass: SchedulingPass = { pending: pending.length, bound: 0, skipped: 0, unschedulable: 0 };
  if (pending.length === 0) return pass;
  const decision = scheduleBatch(pending, nodes, bound);
  pass.unschedulable = decision.unschedulable.length;
  for (const a of decision.assignments) cache?.assume(a.pod, a.nodeName);
  await Promise.all([
    bindAll(ctx, decision.assignments, (a, outcome) => {
      if (outcome !== 'bound') cache?.forget(a.pod);
      if (outcome === 'bound') pass.bound++;
      if (outcome === 'skipped') pass.skipped++;
    }),
    forEachLimited(decision.unschedulable, BIND_CONCURRENCY, (u) => markUnschedulable(ctx, u)),
  ]);
  return pass;
}

/** reconcileScheduling is the controller's reconcile: one pass, and a retry later while pods stay unschedulable. */
export async function reconcileScheduling(_key: string, ctx: ControllerContext, cache?: SchedulerCache): Promise<ReconcileOutcome | void> {
  const pass = await runSchedulingPass(ctx, cache);
  if (pass.unschedulable > 0) return { requeueAfterMs: UNSCHEDULABLE_RETRY_MS };
}
