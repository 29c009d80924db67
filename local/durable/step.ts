/**
 * One orchestration step (an "episode"): take the instance's visible messages, append them to its
 * history after an OrchestratorStarted event, let the library replay the whole history, and act
 * on the actions past those already acted on — all committed in one transaction.
 *
 * Sequence numbers: see actions.ts. A message after which the library takes a number by itself
 * (a retried task's failure, a retry timer, a long timer's sub-timer) goes first in its step and
 * at most one per step, so that number is taken before any task the orchestrator then yields.
 */
import { randomUUID } from 'node:crypto';
import {
  ActionType, flattenActions, formatTimeSpan, isLongTimer, nextSubTimerAt, retryDelayMs, retryTimedOut, takesSequenceNumber,
  type Action, type TimerLimits,
} from './actions.js';
import { actionInput, EventType, failureFields, fromJson, historyEvent, toJson, type HistoryEvent } from './history.js';
import { TERMINAL, type DurableStore, type InstanceRow, type MessageRow, type NewMessage, type StepWrite, type TaskRecord } from './store.js';

/** OrchestratorState is what the library's orchestrator handler returns (the fields read here). */
export interface OrchestratorState {
  isDone: boolean;
  actions: Action[][];
  output?: unknown;
  customStatus?: unknown;
}

/** OrchestratorOutcome is a replay's result: a state, or the failure the handler threw. */
export type OrchestratorOutcome = { state: OrchestratorState } | { failure: string; customStatus?: unknown };

/** StepHost is what a step needs from the engine. */
export interface StepHost {
  store: DurableStore;
  limits: TimerLimits;
  now(): number;
  /** replay runs the named orchestrator on a trigger input; undefined when no such orchestrator exists. */
  replay(name: string, trigger: Record<string, unknown>): Promise<OrchestratorOutcome | undefined>;
  hasActivity(name: string): boolean;
}

/** UPPER_SCHEMA_VERSION is ReplaySchema.V3: flat actions and long timers; V4 (entity locks) is not offered. */
export const UPPER_SCHEMA_VERSION = 2;
const OUT_OF_PROC_DATA = '$OutOfProcData$:';

/** newInstanceRow builds a Pending instance row. */
export function newInstanceRow(id: string, name: string, input: string | null, now: Date, parent?: { id: string; executionId: string; taskId: number }): InstanceRow {
  const at = now.toISOString();
  return {
    id, name, execution_id: randomUUID(), status: 'Pending', input, output: null, custom_status: null, created_at: at, updated_at: at,
    parent_id: parent?.id ?? null, parent_execution_id: parent?.executionId ?? null, parent_task_id: parent?.taskId ?? null, next_seq: 0, actions_seen: 0,
  };
}

/** startMessage is the ExecutionStarted message that begins a generation. */
export function startMessage(row: InstanceRow, now: number): NewMessage {
  const event = historyEvent(EventType.ExecutionStarted, new Date(now), { Name: row.name, Input: row.input ?? undefined });
  return { instance_id: row.id, execution_id: row.execution_id, priority: 0, visible_at: now, event };
}

/**
 * splitFailure reads the handler's failure: the library throws `<x>\n\n$OutOfProcData$:<state>`,
 * where the state's `error` is the orchestrator's error message (x is not always it).
 */
function splitFailure(message: string): { text: string; customStatus?: unknown } {
  const at = message.indexOf(OUT_OF_PROC_DATA);
  if (at < 0) return { text: message };
  try {
    const state = JSON.parse(message.slice(at + OUT_OF_PROC_DATA.length)) as { error?: string; customStatus?: unknown };
    return { text: state.error ?? message.slice(0, at).trim(), customStatus: state.customStatus };
  } catch {
    return { text: message.slice(0, at).trim() };
  }
}

/** parseFailure turns a thrown handler error into an outcome. */
export function failureOutcome(err: unknown): OrchestratorOutcome {
  const { text, customStatus } = splitFailure(err instanceof Error ? err.message : String(err));
  return { failure: text, customStatus };
}

/** unconsumedEvents lists the EventRaised events no wait took (they are carried to the next generation). */
export function unconsumedEvents(history: readonly HistoryEvent[], actions: readonly Action[]): HistoryEvent[] {
  const waits = new Map<string, number>();
  for (const a of actions) {
    if (a.actionType === ActionType.WaitForExternalEvent) waits.set(a.externalEventName!, (waits.get(a.externalEventName!) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  return history.filter((e) => {
    if (e.EventType !== EventType.EventRaised) return false;
    const n = (seen.get(e.Name!) ?? 0) + 1;
    seen.set(e.Name!, n);
    return n > (waits.get(e.Name!) ?? 0);
  });
}

/** Step runs one episode of one instance. Construct, then `run()`; the instance must not be run elsewhere meanwhile. */
export class Step {
  private readonly at: number;
  private inst!: InstanceRow;
  private seq = 0;
  private tasks = new Map<number, TaskRecord>();
  private readonly events: HistoryEvent[] = [];
  private readonly write: StepWrite;

  constructor(private readonly host: StepHost, private readonly id: string) {
    this.at = host.now();
    this.write = { instance: undefined as unknown as InstanceRow, history: this.events, consumed: [], messages: [], activities: [], tasks: [], dropExecutions: [], children: [] };
  }

  /** run performs the step; resolves false when there was nothing to do. */
  async run(): Promise<boolean> {
    const { store } = this.host;
    const inst = store.instance(this.id);
    const messages = store.readyMessages(this.id, this.at);
    if (messages.length === 0) return false;
    if (!inst || TERMINAL.has(inst.status)) {
      // Purged or finished: what is still addressed to it goes nowhere.
      store.deleteMessages(messages.map((m) => m.id));
      return true;
    }
    this.inst = { ...inst, updated_at: new Date(this.at).toISOString() };
    this.write.instance = this.inst;
    this.seq = inst.next_seq;
    this.tasks = store.tasks(this.id);
    const live = messages.filter((m) => m.execution_id === null || m.execution_id === inst.execution_id);
    this.write.consumed.push(...messages.filter((m) => !live.includes(m)).map((m) => m.id));
    const terminate = live.find((m) => m.event.EventType === EventType.ExecutionTerminated);
    if (terminate) return this.terminate(live, terminate);
    const batch = this.chooseBatch(live);
    this.write.consumed.push(...batch.map((m) => m.id));
    this.events.push(historyEvent(EventType.OrchestratorStarted, new Date(this.at)));
    for (const m of batch) this.mirror(m.event);
    await this.replayAndAct(store.history(this.id));
    store.commitStep(this.write);
    return true;
  }

  /** takesNumber tells whether the library takes a sequence number when it replays this event. */
  private takesNumber(e: HistoryEvent): boolean {
    if (e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed) {
      const kind = this.tasks.get(e.TaskScheduledId!)?.kind;
      return kind === 'activity' || kind === 'sub';
    }
    if (e.EventType === EventType.TimerFired) return this.tasks.has(e.TimerId!);
    return false;
  }

  private chooseBatch(live: MessageRow[]): MessageRow[] {
    const numbered = live.find((m) => this.takesNumber(m.event));
    const rest = live.filter((m) => !this.takesNumber(m.event));
    return numbered ? [numbered, ...rest] : rest;
  }

  /** mirror appends a delivered event, doing the engine's side of what the library does when it replays it. */
  private mirror(e: HistoryEvent): void {
    this.events.push(e);
    if (e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed) this.retryFailed(e);
    else if (e.EventType === EventType.TimerFired) this.timerFired(e.TimerId!);
  }

  private setTask(taskId: number, record: TaskRecord | undefined): void {
    if (record) this.tasks.set(taskId, record);
    else this.tasks.delete(taskId);
    this.write.tasks.push({ taskId, record });
  }

  private addTimer(taskId: number, fireAt: number): void {
    const iso = new Date(fireAt).toISOString();
    this.events.push(historyEvent(EventType.TimerCreated, new Date(this.at), { EventId: taskId, FireAt: iso }));
    const event = historyEvent(EventType.TimerFired, new Date(fireAt), { TimerId: taskId, FireAt: iso });
    this.write.messages.push({ instance_id: this.id, execution_id: this.inst.execution_id, visible_at: fireAt, event });
  }

  /** A failed attempt of a retried task: the library takes a number for the retry timer. */
  private retryFailed(e: HistoryEvent): void {
    const rec = this.tasks.get(e.TaskScheduledId!);
    if (!rec || (rec.kind !== 'activity' && rec.kind !== 'sub')) return;
    this.setTask(e.TaskScheduledId!, undefined);
    const retry = { ...rec.retry, lastError: { Reason: e.Reason ?? '', Details: e.Details ?? '' } };
    const failedAttempt = retry.attempt;
    retry.attempt += 1;
    if (!retry.givenUp && retryTimedOut(retry.policy, retry.firstAt, this.at)) retry.givenUp = true;
    const exhausted = retry.attempt > retry.policy.maxNumberOfAttempts || retry.givenUp;
    const timerId = this.seq++;
    this.addTimer(timerId, this.at + (exhausted ? 0 : retryDelayMs(retry.policy, failedAttempt)));
    this.setTask(timerId, { kind: 'retryTimer', of: { ...rec, retry } });
  }

  /** A retry timer (next attempt, or nothing once attempts are spent) or a long timer's sub-timer (next sub-timer). */
  private timerFired(timerId: number): void {
    const rec = this.tasks.get(timerId);
    if (!rec) return;
    this.setTask(timerId, undefined);
    if (rec.kind === 'longTimer') {
      if (rec.finalAt <= this.at) return;
      const next = this.seq++;
      this.addTimer(next, nextSubTimerAt(rec.finalAt, this.at, this.host.limits));
      this.setTask(next, rec);
      return;
    }
    if (rec.kind !== 'retryTimer' || rec.of.retry.attempt > rec.of.retry.policy.maxNumberOfAttempts) return;
    const attemptId = this.seq++;
    const of = rec.of;
    if (of.kind === 'activity') this.setTask(attemptId, { kind: 'activity', name: of.name, input: of.input ?? 'null', retry: of.retry });
    else this.setTask(attemptId, { kind: 'sub', name: of.name, instanceId: of.instanceId!, input: of.input, retry: of.retry });
    if (of.retry.givenUp) {
      const type = of.kind === 'activity' ? EventType.TaskFailed : EventType.SubOrchestrationInstanceFailed;
      this.deliverNow(historyEvent(type, new Date(this.at), { TaskScheduledId: attemptId, ...of.retry.lastError }));
    } else if (of.kind === 'activity') this.scheduleActivity(attemptId, of.name, of.input ?? 'null');
    else this.scheduleSub(attemptId, of.name, of.instanceId || `${this.id}:${attemptId}`, of.input);
  }

  /** deliverNow queues an event for this generation, visible at once. */
  private deliverNow(event: HistoryEvent): void {
    this.write.messages.push({ instance_id: this.id, execution_id: this.inst.execution_id, visible_at: this.at, event });
  }

  private scheduleActivity(taskId: number, name: string, input: string): void {
    this.events.push(historyEvent(EventType.TaskScheduled, new Date(this.at), { EventId: taskId, Name: name }));
    if (!this.host.hasActivity(name)) {
      this.deliverNow(historyEvent(EventType.TaskFailed, new Date(this.at), { TaskScheduledId: taskId, Reason: `The function '${name}' doesn't exist, is disabled, or is not an activity function.`, Details: '' }));
      return;
    }
    this.write.activities.push({ instance_id: this.id, execution_id: this.inst.execution_id, task_id: taskId, name, input, visible_at: this.at });
  }

  private scheduleSub(taskId: number, name: string, childId: string, input: string | null): void {
    this.events.push(historyEvent(EventType.SubOrchestrationInstanceCreated, new Date(this.at), { EventId: taskId, Name: name, InstanceId: childId }));
    const existing = this.host.store.instance(childId);
    if ((existing && !TERMINAL.has(existing.status)) || this.write.children.some((c) => c.instance.id === childId)) {
      this.deliverNow(historyEvent(EventType.SubOrchestrationInstanceFailed, new Date(this.at), { TaskScheduledId: taskId, Reason: `An orchestration with instance ID '${childId}' already exists and is running.`, Details: '' }));
      return;
    }
    const child = newInstanceRow(childId, name, input, new Date(this.at), { id: this.id, executionId: this.inst.execution_id, taskId });
    this.write.children.push({ instance: child, start: startMessage(child, this.at) });
  }

  private async replayAndAct(stored: HistoryEvent[]): Promise<void> {
    const history = [...stored, ...this.events].map((e) => ({ ...e }));
    const trigger = {
      history, input: fromJson(this.inst.input), instanceId: this.id, isReplaying: false,
      parentInstanceId: this.inst.parent_id ?? undefined, upperSchemaVersion: UPPER_SCHEMA_VERSION,
      maximumShortTimerDuration: formatTimeSpan(this.host.limits.maximumShortTimerMs),
      longRunningTimerIntervalDuration: formatTimeSpan(this.host.limits.longRunningTimerIntervalMs),
      defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
    };
    let outcome: OrchestratorOutcome;
    try {
      outcome = (await this.host.replay(this.inst.name, trigger)) ?? { failure: `The function '${this.inst.name}' doesn't exist, is disabled, or is not an orchestrator function.` };
      if ('state' in outcome) this.act(outcome.state, [...stored, ...this.events]);
    } catch (err) {
      outcome = failureOutcome(err);
    }
    if ('failure' in outcome) this.finish('Failed', toJson(`Orchestrator function '${this.inst.name}' failed: ${outcome.failure}`), outcome.customStatus);
  }

  /** act schedules the new actions and ends, continues or keeps the generation. */
  private act(state: OrchestratorState, history: HistoryEvent[]): void {
    const flat = flattenActions(state.actions);
    for (const a of flat.slice(this.inst.actions_seen)) if (takesSequenceNumber(a)) this.schedule(this.seq++, a);
    this.inst.status = 'Running';
    this.inst.next_seq = this.seq;
    this.inst.actions_seen = flat.length;
    if (state.customStatus !== undefined) this.inst.custom_status = toJson(state.customStatus);
    if (!state.isDone) return;
    const continued = flat.find((a) => a.actionType === ActionType.ContinueAsNew);
    if (continued) this.continueAsNew(continued, unconsumedEvents(history, flat));
    else this.finish('Completed', toJson(state.output), state.customStatus);
  }

  private schedule(taskId: number, a: Action): void {
    const input = a.input === undefined ? null : toJson(actionInput(a.input));
    const retry = a.retryOptions ? { policy: a.retryOptions, attempt: 1, firstAt: this.at } : undefined;
    switch (a.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry:
        if (retry) this.setTask(taskId, { kind: 'activity', name: a.functionName!, input: input ?? 'null', retry });
        return this.scheduleActivity(taskId, a.functionName!, input ?? 'null');
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        // Sub-orchestration inputs are not JSON-encoded by the library (no processInput).
        const subInput = a.input === undefined ? null : toJson(a.input);
        if (retry) this.setTask(taskId, { kind: 'sub', name: a.functionName!, instanceId: a.instanceId ?? '', input: subInput, retry });
        return this.scheduleSub(taskId, a.functionName!, a.instanceId || `${this.id}:${taskId}`, subInput);
      }
      case ActionType.CreateTimer: {
        const finalAt = a.fireAt!.getTime();
        if (!isLongTimer(finalAt, this.at, this.host.limits)) return this.addTimer(taskId, finalAt);
        this.setTask(taskId, { kind: 'longTimer', finalAt });
        return this.addTimer(taskId, nextSubTimerAt(finalAt, this.at, this.host.limits));
      }
    }
  }

  private continueAsNew(a: Action, carried: HistoryEvent[]): void {
    const old = this.inst.execution_id;
    this.events.push(historyEvent(EventType.ContinueAsNew, new Date(this.at)));
    Object.assign(this.inst, { execution_id: randomUUID(), status: 'Running', input: a.input === undefined ? null : toJson(actionInput(a.input)), output: null, next_seq: 0, actions_seen: 0 });
    this.write.dropExecutions.push(old);
    this.write.replaceHistory = true;
    this.events.length = 0;
    this.write.messages.push(startMessage(this.inst, this.at));
    for (const e of carried) this.write.messages.push({ instance_id: this.id, execution_id: null, priority: 0, visible_at: this.at, event: e });
  }

  /** finish ends the instance and tells its parent, if any. */
  private finish(status: 'Completed' | 'Failed' | 'Terminated', output: string, customStatus?: unknown): void {
    Object.assign(this.inst, { status, output });
    if (customStatus !== undefined) this.inst.custom_status = toJson(customStatus);
    this.events.push(historyEvent(status === 'Completed' ? EventType.ExecutionCompleted : status === 'Failed' ? EventType.ExecutionFailed : EventType.ExecutionTerminated, new Date(this.at), { Result: output }));
    this.write.dropExecutions.push(this.inst.execution_id);
    const parent = this.inst;
    if (parent.parent_id === null || parent.parent_task_id === null) return;
    const fields = status === 'Completed'
      ? { EventType: EventType.SubOrchestrationInstanceCompleted, Result: output }
      : { EventType: EventType.SubOrchestrationInstanceFailed, ...failureFields(new Error(String(fromJson(output)))) };
    const event = historyEvent(fields.EventType, new Date(this.at), { ...fields, TaskScheduledId: parent.parent_task_id });
    this.write.messages.push({ instance_id: parent.parent_id, execution_id: parent.parent_execution_id, visible_at: this.at, event });
  }

  private terminate(live: MessageRow[], terminate: MessageRow): boolean {
    this.write.consumed.push(...live.map((m) => m.id));
    this.finish('Terminated', terminate.event.Input ?? toJson(''));
    this.host.store.commitStep(this.write);
    return true;
  }
}
