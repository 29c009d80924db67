/**
 * The reconcile orchestration: an eternal durable orchestration per key, the durable "work queue
 * + timer" of a level-triggered controller.
 *
 * A controller's reconcile(key) reads the desired and the actual state, acts, and says when to
 * look again (`requeueAfterMs`). `registerReconcileOrchestration` registers, for one controller,
 * an orchestrator `<name>` and an activity `<name>-reconcile`. The instance `<name>:<key>`:
 * 1. consumes every `changed` event already delivered (they are all covered by the reconcile
 *    that follows: many signals between two reconciles cost one reconcile);
 * 2. runs the reconcile activity with retries (a reconcile that still fails after them is
 *    tried again after the failure back-off; the orchestration itself never fails);
 * 3. waits for a `changed` event or a timer (requeueAfterMs, else the periodic resync), then
 *    continues as new — so its history stays short however long it lives.
 * Because the reconcile is level-triggered, a lost or duplicated signal only costs latency or
 * one extra reconcile, never correctness; one instance per key means one reconcile per key at a
 * time, and different keys reconcile in parallel.
 *
 * `signalReconcile(client, name, key)` is how changes reach it (the change feed calls it): start
 * the instance if it does not exist or has finished, else raise `changed`.
 */
import * as df from 'durable-functions';
import type { DurableClient, OrchestrationContext, OrchestrationHandler } from 'durable-functions';

/** CHANGED_EVENT is the external event that says "the key changed: reconcile again". */
export const CHANGED_EVENT = 'changed';
/** DEFAULT_RESYNC_MS is how long an idle key waits before it is reconciled anyway (5 minutes). */
export const DEFAULT_RESYNC_MS = 5 * 60_000;
/** DEFAULT_FAILURE_BACKOFF_MS is the wait after a reconcile failed all its retries (30 s). */
export const DEFAULT_FAILURE_BACKOFF_MS = 30_000;

/** ReconcileResult is what a reconcile returns: when to reconcile again even without a change. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** ReconcileOrchestrationOptions describe one controller's reconcile orchestration. */
export interface ReconcileOrchestrationOptions {
  /** The orchestrator's name; the activity is `<name>-reconcile`, instances are `<name>:<key>`. */
  name: string;
  /** Level-triggered and idempotent; a throw is retried (retry below), then backed off. */
  reconcile: (key: string) => Promise<ReconcileResult | void>;
  /** Resync period when the reconcile does not ask for a requeue (default 5 minutes). */
  resyncAfterMs?: number;
  /** Wait after a reconcile failed every retry (default 30 s). */
  failureBackoffMs?: number;
  /** Activity retry policy (default: 1 s first interval, ×2, at most 5 attempts, at most 30 s apart). */
  retry?: { firstRetryIntervalMs: number; maxNumberOfAttempts: number; backoffCoefficient?: number; maxRetryIntervalMs?: number };
}

/** ReconcileInput is the orchestration's input (carried across continueAsNew). */
export interface ReconcileInput {
  key: string;
}

/** ReconcileStatus is the orchestration's custom status after each reconcile. */
export interface ReconcileStatus {
  key: string;
  reconciledAt: string;
  requeueAfterMs: number;
  error?: string;
}

/** reconcileActivityName is the activity an orchestration `<name>` calls. */
export function reconcileActivityName(name: string): string {
  return `${name}-reconcile`;
}

/**
 * reconcileInstanceId is the singleton instance of `key` for orchestration `name`. A key's `/`
 * (as in `default/web`) becomes `|`: the durable client puts the id in a URL path, and Azure
 * forbids `/`, `\\`, `#` and `?` in instance ids. Kubernetes names never contain `|`, so two keys
 * never share an instance.
 */
export function reconcileInstanceId(name: string, key: string): string {
  return `${name}:${key.replaceAll('/', '|')}`;
}

function retryOptionsOf(options: ReconcileOrchestrationOptions): df.RetryOptions {
  const r = options.retry ?? { firstRetryIntervalMs: 1000, maxNumberOfAttempts: 5, backoffCoefficient: 2, maxRetryIntervalMs: 30_000 };
  const retry = new df.RetryOptions(r.firstRetryIntervalMs, r.maxNumberOfAttempts);
  if (r.backoffCoefficient !== undefined) retry.backoffCoefficient = r.backoffCoefficient;
  if (r.maxRetryIntervalMs !== undefined) retry.maxRetryIntervalInMilliseconds = r.maxRetryIntervalMs;
  return retry;
}

/** reconcileOrchestrator builds the orchestrator function of `options` (exported for tests). */
export function reconcileOrchestrator(options: ReconcileOrchestrationOptions): OrchestrationHandler {
  const retry = retryOptionsOf(options);
  return function* reconcileLoop(context: OrchestrationContext): Generator<df.Task, void, unknown> {
    const { key } = context.df.getInput<ReconcileInput>();
    // Coalesce: every `changed` delivered so far is covered by the reconcile below. A timer at
    // "now" is the only way to tell "nothing buffered" from "wait" without blocking. The wait the
    // timer beat stays open (a wait cannot be cancelled): it takes the first `changed` raised
    // while the reconcile runs, so that one is looked at below, not lost (a signal lost there
    // left a ReplicaSet at its old size until the resync).
    let open: df.Task;
    for (;;) {
      const changed = context.df.waitForExternalEvent(CHANGED_EVENT);
      const now = context.df.createTimer(context.df.currentUtcDateTime);
      if ((yield context.df.Task.any([changed, now])) === now) {
        open = changed;
        break;
      }
      now.cancel();
    }
    let requeueAfterMs = options.resyncAfterMs ?? DEFAULT_RESYNC_MS;
    let error: string | undefined;
    try {
      const result = (yield context.df.callActivityWithRetry(reconcileActivityName(options.name), retry, key)) as ReconcileResult | null;
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs >= 0) requeueAfterMs = Math.min(result.requeueAfterMs, requeueAfterMs);
    } catch (err) {
      error = (err as Error).message;
      requeueAfterMs = options.failureBackoffMs ?? DEFAULT_FAILURE_BACKOFF_MS;
    }
    const status: ReconcileStatus = { key, reconciledAt: context.df.currentUtcDateTime.toISOString(), requeueAfterMs, error };
    context.df.setCustomStatus(status);
    if (!open.isCompleted) {
      // A `changed` raised from now on goes to this newer wait (the library hands an event to the newest open wait).
      const timer = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + requeueAfterMs));
      const changed = context.df.waitForExternalEvent(CHANGED_EVENT);
      if ((yield context.df.Task.any([changed, timer])) === changed) timer.cancel();
    }
    context.df.continueAsNew({ key } satisfies ReconcileInput);
  };
}

/**
 * registerReconcileOrchestration registers the orchestrator `<name>` and the activity
 * `<name>-reconcile` for one controller. Call it once per name, at module load (like any
 * `df.app.*` registration).
 */
export function registerReconcileOrchestration(options: ReconcileOrchestrationOptions): void {
  df.app.orchestration(options.name, reconcileOrchestrator(options));
  df.app.activity(reconcileActivityName(options.name), {
    handler: async (key: unknown): Promise<ReconcileResult> => (await options.reconcile(String(key))) ?? {},
  });
}

const ACTIVE: ReadonlySet<string> = new Set(['Pending', 'Running', 'ContinuedAsNew']);

async function isActive(client: DurableClient, instanceId: string): Promise<boolean> {
  // Any failure reads as "not there": a real outage then surfaces from startNew below.
  const status = await client.getStatus(instanceId, { showInput: false }).catch(() => undefined);
  return status !== undefined && ACTIVE.has(status.runtimeStatus);
}

/**
 * signalReconcile asks for a reconcile of `key` by orchestration `name`: starts `<name>:<key>`
 * if it does not exist or has finished, else raises `changed` on it (signals coalesce: see
 * above). Resolves with what it did; rejects when neither was possible.
 */
export async function signalReconcile(client: DurableClient, name: string, key: string): Promise<'started' | 'signaled'> {
  const instanceId = reconcileInstanceId(name, key);
  if (await isActive(client, instanceId)) {
    await client.raiseEvent(instanceId, CHANGED_EVENT, null);
    return 'signaled';
  }
  try {
    await client.startNew(name, { instanceId, input: { key } satisfies ReconcileInput });
    return 'started';
  } catch (err) {
    // Another signal started it meanwhile: it is running now, so a signal is what is left to do.
    if (!(await isActive(client, instanceId))) throw err;
    await client.raiseEvent(instanceId, CHANGED_EVENT, null);
    return 'signaled';
  }
}
