/**
 * The local durable engine: runs the app's orchestrations and activities from the durable store
 * (store.ts), one step per instance at a time (step.ts), activities at least once with bounded
 * parallelism, timers by the store's visible times. It also answers the management operations
 * the durable client's webhooks call (webhooks.ts).
 *
 * One engine per data folder: instances are locked in memory, so two processes must not share a
 * `durable.db`. A step or activity cut short by a crash is simply run again after a restart: its
 * messages and work rows are still there (at-least-once, as in Azure).
 */
import type { RegisteredFunction } from '../functions-core.js';
import { invokeFunction, type InvokeOptions } from '../invoke.js';
import type { TimerLimits } from './actions.js';
import { EVENT_TYPE_NAMES, EventType, failureFields, fromJson, historyEvent, toJson, type HistoryEvent } from './history.js';
import { newInstanceRow, startMessage, Step, type OrchestratorOutcome, type OrchestratorState } from './step.js';
import { durableMetrics, type DurableMetrics } from '../../shared/telemetry/durable.js';
import { secondsSince } from '../../shared/telemetry/registry.js';
import { DurableStore, TERMINAL, type ActivityRow, type InstanceRow, type RuntimeStatus } from './store.js';

/** DurableEngineOptions configure an engine. */
export interface DurableEngineOptions {
  /** The SQLite file (`<data-dir>/durable.db`). */
  file: string;
  orchestrators: ReadonlyMap<string, RegisteredFunction>;
  activities: ReadonlyMap<string, RegisteredFunction>;
  invoke: InvokeOptions;
  /** At most this many activities run at once (host.json `maxConcurrentActivityFunctions`; default 10). */
  maxConcurrentActivities?: number;
  /** At most this many orchestration steps run at once (host.json `maxConcurrentOrchestratorFunctions`; default 10). */
  maxConcurrentOrchestrations?: number;
  /** Long-timer limits (Azure Storage's: 6 days / 3 days). */
  limits?: TimerLimits;
  /**
   * How often an idle dispatcher looks for work that no notify() announced (default 1,000 ms):
   * work written by another process's durable client (`coracle up --instances`) waits for it.
   */
  idlePollMs?: number;
  onError?: (what: string, err: unknown) => void;
  now?: () => number;
  /** Where orchestration and activity figures go (default: the process registry's, served at `/metrics`). */
  metrics?: DurableMetrics;
}

/** OrchestrationStatus is one instance as the durable HTTP API answers it. */
export interface OrchestrationStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Array<Record<string, unknown>>;
}

/** DeliveryResult: the instance took the request, does not exist, or has already finished. */
export type DeliveryResult = 'accepted' | 'notFound' | 'gone';

/** InstanceConflictError: startNew named an instance that is still Pending or Running. */
export class InstanceConflictError extends Error {
  override readonly name = 'InstanceConflictError';
  constructor(readonly instanceId: string, readonly status: RuntimeStatus) {
    super(`an orchestration instance with ID '${instanceId}' already exists and is ${status}`);
  }
}

/** UnknownOrchestratorError: startNew named no registered orchestrator function. */
export class UnknownOrchestratorError extends Error {
  override readonly name = 'UnknownOrchestratorError';
  constructor(readonly functionName: string) {
    super(`the function '${functionName}' doesn't exist, is disabled, or is not an orchestrator function`);
  }
}

/** DEFAULT_TIMER_LIMITS are Azure Storage's: timers beyond 6 days become 3-day sub-timers. */
export const DEFAULT_TIMER_LIMITS: TimerLimits = { maximumShortTimerMs: 6 * 86_400_000, longRunningTimerIntervalMs: 3 * 86_400_000 };
const IDLE_POLL_MS = 1000;
const FAILED_STEP_BACKOFF_MS = 1000;

/** DurableEngine runs orchestrations; `start()` to dispatch, `stop()` before closing. */
export class DurableEngine {
  readonly store: DurableStore;
  private readonly limits: TimerLimits;
  private readonly now: () => number;
  private readonly runningSteps = new Set<string>();
  private readonly coolingDown = new Map<string, number>();
  private readonly runningActivities = new Map<number, Promise<void>>();
  private readonly steps = new Set<Promise<void>>();
  private stopped = true;
  private pausing: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  private readonly metrics: DurableMetrics;

  constructor(private readonly options: DurableEngineOptions) {
    this.store = new DurableStore(options.file);
    this.metrics = options.metrics ?? durableMetrics();
    this.metrics.instanceCounts = () => (this.store.open ? this.store.countsByStatus() : []);
    this.limits = options.limits ?? DEFAULT_TIMER_LIMITS;
    this.now = options.now ?? Date.now;
  }

  /** start begins dispatching (and resumes whatever a previous process left). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.pausing = undefined;
    this.loop = this.dispatch();
  }

  /**
   * pause ends dispatching and waits for running steps and activities (up to `graceMs` for
   * activities); the store stays open (clients may still start instances and raise events, picked
   * up at the next start). A host pauses its engine before it takes away what activities use.
   */
  pause(graceMs = 2000): Promise<void> {
    if (this.stopped) return this.pausing ?? Promise.resolve();
    this.stopped = true;
    this.notify();
    this.pausing = (async () => {
      await this.loop;
      await Promise.allSettled([...this.steps]);
      // Activities past the grace period are abandoned: their rows stay, so they run again after a restart.
      await Promise.race([Promise.allSettled([...this.runningActivities.values()]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    })();
    return this.pausing;
  }

  /** stop pauses (see pause) and closes the store. */
  async stop(graceMs = 2000): Promise<void> {
    await this.pause(graceMs);
    if (this.store.open) this.store.close();
  }

  /** notify wakes the dispatcher (new work was written). */
  notify(): void {
    this.wake?.();
  }

  private async dispatch(): Promise<void> {
    while (!this.stopped) {
      try {
        this.pump();
      } catch (err) {
        this.options.onError?.('durable dispatcher', err);
      }
      const now = this.now();
      const next = this.store.nextDueAt(now);
      const idle = this.options.idlePollMs ?? IDLE_POLL_MS;
      const waitMs = Math.max(1, Math.min(next === undefined ? idle : next - now, idle));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private pump(): void {
    const now = this.now();
    for (const [id, until] of this.coolingDown) if (until <= now) this.coolingDown.delete(id);
    const maxSteps = this.options.maxConcurrentOrchestrations ?? 10;
    const busy = new Set([...this.runningSteps, ...this.coolingDown.keys()]);
    for (const id of this.store.dueInstances(now, maxSteps - this.runningSteps.size, busy)) this.runStep(id);
    const maxActivities = this.options.maxConcurrentActivities ?? 10;
    const running = new Set(this.runningActivities.keys());
    for (const row of this.store.dueActivities(now, maxActivities - running.size, running)) this.runActivity(row);
  }

  private runStep(id: string): void {
    this.runningSteps.add(id);
    const before = this.store.instance(id)?.status;
    const step = new Step({
      store: this.store, limits: this.limits, now: this.now,
      replay: (name, trigger) => this.replay(name, trigger),
      hasActivity: (name) => this.options.activities.has(name),
    }, id);
    const run: Promise<void> = step.run().then(() => {
      const after = this.store.open ? this.store.instance(id) : undefined;
      if (after) this.metrics.stepped(after.name, before, after.status);
    }, (err: unknown) => {
      this.options.onError?.(`orchestration ${id}`, err);
      this.coolingDown.set(id, this.now() + FAILED_STEP_BACKOFF_MS);
    }).finally(() => {
      this.runningSteps.delete(id);
      this.steps.delete(run);
      this.notify();
    });
    this.steps.add(run);
  }

  private async replay(name: string, trigger: Record<string, unknown>): Promise<OrchestratorOutcome | undefined> {
    const fn = this.options.orchestrators.get(name);
    if (!fn) return undefined;
    return { state: (await invokeFunction(fn, trigger, this.options.invoke)) as OrchestratorState };
  }

  private runActivity(row: ActivityRow): void {
    const run = (async () => {
      const fn = this.options.activities.get(row.name);
      let event: HistoryEvent;
      const started = performance.now();
      try {
        if (!fn) throw new Error(`The function '${row.name}' doesn't exist, is disabled, or is not an activity function.`);
        const result = await invokeFunction(fn, JSON.parse(row.input), this.options.invoke);
        event = historyEvent(EventType.TaskCompleted, new Date(this.now()), { TaskScheduledId: row.task_id, Result: toJson(result) });
        this.metrics.activityRan(row.name, 'Completed', secondsSince(started));
      } catch (err) {
        event = historyEvent(EventType.TaskFailed, new Date(this.now()), { TaskScheduledId: row.task_id, ...failureFields(err) });
        this.metrics.activityRan(row.name, 'Failed', secondsSince(started));
      }
      // After stop() the store may be closed: the row stays and the activity runs again next time.
      if (!this.store.open) return;
      this.store.completeActivity(row.id, { instance_id: row.instance_id, execution_id: row.execution_id, visible_at: this.now(), event });
    })().catch((err: unknown) => this.options.onError?.(`activity ${row.name} of ${row.instance_id}`, err))
      .finally(() => {
        this.runningActivities.delete(row.id);
        this.notify();
      });
    this.runningActivities.set(row.id, run);
  }

  /** startNew creates (or replaces a finished) instance; throws InstanceConflictError / UnknownOrchestratorError. */
  startNew(name: string, instanceId: string, input: unknown): InstanceRow {
    if (!this.options.orchestrators.has(name)) throw new UnknownOrchestratorError(name);
    const now = this.now();
    const row = newInstanceRow(instanceId, name, input === undefined ? null : toJson(input), new Date(now));
    const result = this.store.createInstance(row, startMessage(row, now));
    if (!result.created) throw new InstanceConflictError(instanceId, result.existing!.status);
    this.notify();
    return row;
  }

  /** status returns an instance's status (with its history on request), or undefined. */
  status(instanceId: string, options: { showHistory?: boolean; showInput?: boolean } = {}): OrchestrationStatus | undefined {
    const row = this.store.instance(instanceId);
    if (!row) return undefined;
    const status = statusOf(row, options.showInput !== false);
    if (options.showHistory) {
      status.historyEvents = this.store.history(instanceId).map((e) => ({ ...e, EventType: EVENT_TYPE_NAMES[e.EventType] ?? e.EventType }));
    }
    return status;
  }

  /** raiseEvent queues an external event for the instance's current generation. */
  raiseEvent(instanceId: string, name: string, data: unknown): DeliveryResult {
    const now = this.now();
    const event = historyEvent(EventType.EventRaised, new Date(now), { Name: name, Input: toJson(data) });
    return this.deliver(this.store.addMessageIfActive({ instance_id: instanceId, execution_id: null, visible_at: now, event }));
  }

  /** terminate asks the instance to end as Terminated with `reason` as its output. */
  terminate(instanceId: string, reason: string): DeliveryResult {
    const now = this.now();
    const event = historyEvent(EventType.ExecutionTerminated, new Date(now), { Input: toJson(reason) });
    // Priority 0: a terminate request is handled before anything else waiting for the instance.
    return this.deliver(this.store.addMessageIfActive({ instance_id: instanceId, execution_id: null, priority: 0, visible_at: now, event }));
  }

  private deliver(before: RuntimeStatus | undefined): DeliveryResult {
    if (before === undefined) return 'notFound';
    if (TERMINAL.has(before)) return 'gone';
    this.notify();
    return 'accepted';
  }

  /** purge deletes a finished instance's state; a running one is left alone (false), as in Azure. */
  purge(instanceId: string): boolean {
    const row = this.store.instance(instanceId);
    if (!row || !TERMINAL.has(row.status)) return false;
    return this.store.purge(instanceId);
  }
}

/** statusOf renders an instance row as the HTTP API's status object. */
export function statusOf(row: InstanceRow, showInput = true): OrchestrationStatus {
  return {
    name: row.name, instanceId: row.id, runtimeStatus: row.status,
    input: showInput ? (fromJson(row.input) ?? null) : null,
    customStatus: fromJson(row.custom_status) ?? null,
    output: fromJson(row.output) ?? null,
    createdTime: row.created_at, lastUpdatedTime: row.updated_at,
  };
}
