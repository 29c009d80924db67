/**
 * Orchestration history events in the shape `durable-functions` replays (the Durable Task wire
 * format: PascalCase fields, numeric `EventType`). The engine stores them as JSON and hands them
 * back to the library on every episode; the library only reads `EventType`, `Timestamp`,
 * `IsPlayed` and the fields that match a completion to its task (`TaskScheduledId`, `TimerId`,
 * `Name`), plus `Result` / `Input` / `Reason` / `Details`.
 */

/** EventType mirrors the library's `HistoryEventType` numbering (history/HistoryEventType.js). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventRaised: 15,
  ContinueAsNew: 16,
} as const;

/** EVENT_TYPE_NAMES maps an EventType number to its name (for status output). */
export const EVENT_TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(EventType).map(([name, n]) => [n, name]),
);

/** HistoryEvent is one stored event; `Timestamp` is an ISO string at rest and a Date when replayed. */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string;
  Result?: string;
  Reason?: string;
  Details?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
}

/** historyEvent builds an event of `type` at `at` with the given fields. */
export function historyEvent(type: number, at: Date, fields: Partial<HistoryEvent> = {}): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: at.toISOString(), ...fields };
}

/** toJson serializes a value the way the extension stores results and inputs: `undefined` becomes `null`. */
export function toJson(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

/** fromJson parses a stored JSON text; absent or empty text is `undefined`. */
export function fromJson(text: string | null | undefined): unknown {
  return text === null || text === undefined || text === '' ? undefined : JSON.parse(text);
}

/**
 * actionInput decodes an action's input as the library encoded it: `Utils.processInput`
 * JSON-encodes strings (only strings), so a string input is JSON text and anything else is the
 * value itself.
 */
export function actionInput(input: unknown): unknown {
  return typeof input === 'string' ? JSON.parse(input) : input;
}

/** failureEvent builds the TaskFailed / SubOrchestrationInstanceFailed fields for an error. */
export function failureFields(err: unknown): { Reason: string; Details: string } {
  if (err instanceof Error) return { Reason: err.message, Details: err.stack ?? '' };
  return { Reason: typeof err === 'string' ? err : JSON.stringify(err), Details: '' };
}
