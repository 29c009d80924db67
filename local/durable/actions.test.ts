import { ActionType, flattenActions, formatTimeSpan, isLongTimer, nextSubTimerAt, parseTimeSpan, retryDelayMs, retryTimedOut, UnsupportedActionError, type Action } from './actions.js';
import { EventType, historyEvent } from './history.js';
import { unconsumedEvents } from './step.js';

const activity = (name: string): Action => ({ actionType: ActionType.CallActivity, functionName: name });
const wait = (name: string): Action => ({ actionType: ActionType.WaitForExternalEvent, externalEventName: name });

describe('flattenActions', () => {
  test('lists compound leaves in order and a leaf yielded twice once', () => {
    const a = activity('a');
    const b = activity('b');
    const c = activity('c');
    const flat = flattenActions([[a, { actionType: ActionType.WhenAll, compoundActions: [b, { actionType: ActionType.WhenAny, compoundActions: [c, a] }] }]]);
    expect(flat.map((x) => x.functionName)).toEqual(['a', 'b', 'c']);
  });

  test('entities and callHttp are refused by type', () => {
    expect(() => flattenActions([[{ actionType: ActionType.CallHttp }]])).toThrow(UnsupportedActionError);
  });
});

describe('retries', () => {
  test('delay grows by the coefficient and stops at the max interval', () => {
    const policy = { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 5, backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 300 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(policy, n))).toEqual([100, 200, 300, 300]);
    expect(retryDelayMs({ firstRetryIntervalInMilliseconds: 50, maxNumberOfAttempts: 3 }, 3)).toBe(50);
  });

  test('retry timeout counts from the first attempt', () => {
    const policy = { firstRetryIntervalInMilliseconds: 10, maxNumberOfAttempts: 9, retryTimeoutInMilliseconds: 1000 };
    expect([retryTimedOut(policy, 0, 999), retryTimedOut(policy, 0, 1000)]).toEqual([false, true]);
  });
});

describe('long timers', () => {
  const limits = { maximumShortTimerMs: 1000, longRunningTimerIntervalMs: 400 };
  test('a timer past the maximum short timer is a chain of interval sub-timers ending at the final time', () => {
    expect([isLongTimer(1000, 0, limits), isLongTimer(1001, 0, limits)]).toEqual([false, true]);
    expect(nextSubTimerAt(2500, 0, limits)).toBe(400);
    expect(nextSubTimerAt(2500, 1600, limits)).toBe(2500);
  });

  test('TimeSpans round-trip', () => {
    expect(parseTimeSpan('6.00:00:00')).toBe(6 * 86_400_000);
    expect(parseTimeSpan('00:00:01.5')).toBe(1500);
    expect(parseTimeSpan(formatTimeSpan(3 * 86_400_000 + 1234))).toBe(3 * 86_400_000 + 1234);
    expect(() => parseTimeSpan('5 minutes')).toThrow('TimeSpan');
  });
});

test('unconsumedEvents keeps the events no wait took, the latest of each name', () => {
  const at = new Date(0);
  const raised = (name: string, input: string) => historyEvent(EventType.EventRaised, at, { Name: name, Input: input });
  const history = [raised('x', '1'), raised('y', '2'), raised('x', '3'), raised('x', '4')];
  expect(unconsumedEvents(history, [wait('x'), wait('y')]).map((e) => e.Input)).toEqual(['3', '4']);
});
