/**
 * Reading the actions an orchestrator reports, and the sequence numbers the library gives them.
 *
 * On every replay the library reports every action since the generation started (schema ≥ V2:
 * one flat list; WhenAll/WhenAny as compound actions). Each leaf task gets the next sequence
 * number when it is first yielded, in the order its compound lists it; a task yielded again
 * inside another compound keeps its number (so a leaf seen twice — same object — is counted
 * once), and WaitForExternalEvent takes no number (it is matched by name). Besides those, the
 * library itself takes numbers while it replays: a failed attempt of a `...WithRetry` task takes
 * one for its retry timer, that timer firing takes one for the next attempt, and each sub-timer
 * of a long timer (schema ≥ V3) that fires before the final time takes one for the next
 * sub-timer. The engine mirrors those rules here.
 */

/** ActionType mirrors the library's `ActionType` numbering (actions/ActionType.js). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

/** RetryPolicy is the library's RetryOptions as the action carries it. */
export interface RetryPolicy {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** Action is one action object as the library builds it (fields by action type). */
export interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  retryOptions?: RetryPolicy;
  fireAt?: Date;
  externalEventName?: string;
  isCanceled?: boolean;
  compoundActions?: Action[];
}

/** UnsupportedActionError: the orchestrator used an API the local engine does not run (entities, HTTP). */
export class UnsupportedActionError extends Error {
  override readonly name = 'UnsupportedActionError';
  constructor(readonly actionType: number) {
    super(`the local durable engine does not support action type ${actionType} (entities and callHttp are not supported)`);
  }
}

const UNSUPPORTED: ReadonlySet<number> = new Set([ActionType.CallEntity, ActionType.CallHttp, ActionType.SignalEntity, ActionType.LockEntities, ActionType.ReleaseEntities]);

/**
 * flattenActions lists the leaf actions of `state.actions` (schema ≥ V2: `[[...actions]]`) in the
 * order the library numbers them, each action object once.
 */
export function flattenActions(actions: readonly (readonly Action[])[]): Action[] {
  const seen = new Set<Action>();
  const out: Action[] = [];
  const visit = (a: Action) => {
    if (a.actionType === ActionType.WhenAll || a.actionType === ActionType.WhenAny) {
      for (const c of a.compoundActions ?? []) visit(c);
      return;
    }
    if (seen.has(a)) return;
    if (UNSUPPORTED.has(a.actionType)) throw new UnsupportedActionError(a.actionType);
    seen.add(a);
    out.push(a);
  };
  for (const group of actions) for (const a of group) visit(a);
  return out;
}

/** takesSequenceNumber tells whether the library numbers this leaf action (waits and continueAsNew do not). */
export function takesSequenceNumber(a: Action): boolean {
  return a.actionType !== ActionType.WaitForExternalEvent && a.actionType !== ActionType.ContinueAsNew;
}

/**
 * retryDelayMs is the wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed,
 * as Durable Task computes it: first interval × coefficient^(attempt−1), capped by the max interval.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  const coefficient = policy.backoffCoefficient && policy.backoffCoefficient > 0 ? policy.backoffCoefficient : 1;
  const delay = policy.firstRetryIntervalInMilliseconds * coefficient ** (attempt - 1);
  const cap = policy.maxRetryIntervalInMilliseconds;
  return Math.max(0, Math.round(cap && cap > 0 ? Math.min(delay, cap) : delay));
}

/** retryTimedOut tells whether the retry timeout (if any) has passed since the first attempt. */
export function retryTimedOut(policy: RetryPolicy, firstAttemptAt: number, now: number): boolean {
  const timeout = policy.retryTimeoutInMilliseconds;
  return timeout !== undefined && timeout > 0 && timeout < Number.MAX_SAFE_INTEGER && now - firstAttemptAt >= timeout;
}

/** TimerLimits are the long-timer settings handed to the library (ms). */
export interface TimerLimits {
  maximumShortTimerMs: number;
  longRunningTimerIntervalMs: number;
}

/** isLongTimer mirrors `createTimer`: a timer further away than the maximum short timer is a chain of sub-timers. */
export function isLongTimer(fireAt: number, now: number, limits: TimerLimits): boolean {
  return fireAt - now > limits.maximumShortTimerMs;
}

/** nextSubTimerAt mirrors `LongTimerTask`: the next sub-timer fires after one interval, or at the final time when that is near. */
export function nextSubTimerAt(finalAt: number, now: number, limits: TimerLimits): number {
  return finalAt - now > limits.maximumShortTimerMs ? now + limits.longRunningTimerIntervalMs : finalAt;
}

/** parseTimeSpan reads a .NET TimeSpan (`[d.]hh:mm:ss[.fff]`) as milliseconds; throws on anything else. */
export function parseTimeSpan(text: string): number {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a TimeSpan ([d.]hh:mm:ss[.fff])`);
  const [d, h, min, s] = [m[1] ?? '0', m[2]!, m[3]!, m[4]!].map(Number) as [number, number, number, number];
  const fraction = m[5] ? Number(`0.${m[5]}`) : 0;
  return Math.round((((d * 24 + h) * 60 + min) * 60 + s + fraction) * 1000);
}

/** formatTimeSpan writes milliseconds as a TimeSpan the library (moment) reads. */
export function formatTimeSpan(ms: number): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const days = Math.floor(ms / 86_400_000);
  const rest = ms - days * 86_400_000;
  const h = Math.floor(rest / 3_600_000);
  const min = Math.floor((rest % 3_600_000) / 60_000);
  const s = Math.floor((rest % 60_000) / 1000);
  return `${days}.${pad(h)}:${pad(min)}:${pad(s)}.${pad(rest % 1000, 3)}`;
}
