import { describe, expect, it } from '@jest/globals';
import { ReconcileQueue } from './queue.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('ReconcileQueue', () => {
  it('runs a key added many times while queued once, and once more when added while it runs', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new ReconcileQueue(async (key) => {
      runs.push(key);
      if (runs.length === 1) await gate;
    }, { concurrency: 1 });
    q.add('a');
    await tick();
    q.add('a'); // while running: once more afterwards
    q.add('a');
    q.add('b'); // queued behind 'a' (one worker): deduplicated
    q.add('b');
    release();
    await tick(10);
    await q.idle();
    expect(runs).toEqual(['a', 'b', 'a']);
  });

  it('retries a failing key with back-off without holding up other keys', async () => {
    const runs: string[] = [];
    let failures = 0;
    const errors: number[] = [];
    const q = new ReconcileQueue(async (key) => {
      runs.push(key);
      if (key === 'bad' && failures++ < 2) throw new Error('not yet');
    }, { baseBackoffMs: 20, concurrency: 1, onError: (_k, _e, n) => errors.push(n) });
    await Promise.all([q.addAndWait('bad'), q.addAndWait('good')]);
    expect(runs).toEqual(['bad', 'good']);
    expect(q.pendingRetries).toBe(1);
    await tick(150);
    expect(runs).toEqual(['bad', 'good', 'bad', 'bad']);
    expect(errors).toEqual([1, 2]);
    expect(q.pendingRetries).toBe(0);
    await q.stop();
  });

  it('requeues after the delay a reconcile asks for; stop drops it', async () => {
    let runs = 0;
    const q = new ReconcileQueue(async () => {
      runs++;
      return { requeueAfterMs: 30 };
    });
    await q.addAndWait('k');
    expect(runs).toBe(1);
    await tick(50);
    expect(runs).toBe(2);
    await q.stop();
    await tick(50);
    expect(runs).toBe(2);
  });
});
