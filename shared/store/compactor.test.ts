import { describe, expect, it } from '@jest/globals';
import { startCompactor, takeCompactionTarget, type CompactorClock } from './compactor.js';

/** A clock whose interval fires only when the test says so. */
function fakeClock() {
  let now = 1_000_000;
  let tick: (() => void) | undefined;
  let intervalMs = 0;
  const clock: CompactorClock = {
    now: () => now,
    setInterval: (fn, ms) => {
      tick = fn;
      intervalMs = ms;
      return 'handle';
    },
    clearInterval: () => {
      tick = undefined;
    },
  };
  /** advance moves time one interval on and runs the tick, letting its promises settle. */
  const advance = async () => {
    now += intervalMs;
    tick?.();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { clock, advance, interval: () => intervalMs, running: () => tick !== undefined };
}

/** A store whose revision the test sets, recording compactions. */
function fakeStore() {
  const state = { revision: 0, compactions: [] as number[], failNext: false };
  return {
    state,
    store: {
      currentRevision: async () => state.revision,
      compact: async (revision: number) => {
        if (state.failNext) {
          state.failNext = false;
          throw new Error('backend down');
        }
        state.compactions.push(revision);
      },
    },
  };
}

describe('startCompactor', () => {
  it('compacts to the revision seen retentionMs ago, once per new revision', async () => {
    const { clock, advance, interval } = fakeClock();
    const { state, store } = fakeStore();
    const stop = startCompactor(store, { retentionMs: 300, intervalMs: 100, clock });
    expect(interval()).toBe(100);
    const revisions = [10, 20, 30, 40, 50, 50, 50, 60];
    for (const r of revisions) {
      state.revision = r;
      await advance();
    }
    // Samples at t=100..800; at t=400 the sample of t=100 (10) is 300 ms old, and so on.
    expect(state.compactions).toEqual([10, 20, 30, 40, 50]);
    stop();
  });

  it('keeps going after a failed compaction and reports it', async () => {
    const { clock, advance } = fakeClock();
    const { state, store } = fakeStore();
    const errors: unknown[] = [];
    const stop = startCompactor(store, { retentionMs: 100, intervalMs: 100, clock, onError: (e) => errors.push(e) });
    state.revision = 5;
    await advance();
    state.failNext = true;
    state.revision = 7;
    await advance(); // target 5 fails
    await advance(); // target 7
    expect(errors).toHaveLength(1);
    expect(state.compactions).toEqual([7]);
    stop();
  });

  it('stops sampling when stopped, and defaults to 5 minutes of retention', async () => {
    const { clock, advance, interval, running } = fakeClock();
    const { state, store } = fakeStore();
    const stop = startCompactor(store, { clock });
    expect(interval()).toBe(60_000);
    state.revision = 3;
    for (let i = 0; i < 5; i++) await advance();
    expect(state.compactions).toEqual([]); // 4 minutes of samples: nothing is 5 minutes old yet
    await advance();
    expect(state.compactions).toEqual([3]);
    stop();
    expect(running()).toBe(false);
  });
});

describe('takeCompactionTarget', () => {
  it('returns the newest sample at or before the cutoff and forgets older ones', () => {
    const samples = [
      { at: 1, revision: 4 },
      { at: 2, revision: 6 },
      { at: 3, revision: 9 },
    ];
    expect(takeCompactionTarget(samples, 0)).toBeUndefined();
    expect(takeCompactionTarget(samples, 2)).toBe(6);
    expect(samples).toEqual([
      { at: 2, revision: 6 },
      { at: 3, revision: 9 },
    ]);
  });
});
