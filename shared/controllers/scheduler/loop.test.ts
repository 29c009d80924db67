import { describe, expect, it } from '@jest/globals';
import type { ControllerContext } from '../controller.js';
import { SchedulingLoop } from './loop.js';
import type { SchedulingPass } from './reconcile.js';

const ctx = {} as ControllerContext;
const ok = (unschedulable = 0): SchedulingPass => ({ pending: 0, bound: 0, skipped: 0, unschedulable });

describe('SchedulingLoop', () => {
  it('coalesces signals during a pass into exactly one more pass', async () => {
    let passes = 0;
    let release!: () => void;
    const loop = new SchedulingLoop(ctx, { pass: async () => {
      passes++;
      if (passes === 1) await new Promise<void>((r) => (release = r));
      return ok();
    } });
    loop.signal();
    for (let i = 0; i < 100; i++) loop.signal();
    release();
    await loop.idle();
    expect(passes).toBe(2);
  });

  it('retries a failed pass with back-off, and again later while pods stay unschedulable', async () => {
    const results: Array<SchedulingPass | Error> = [new Error('boom'), ok(1), ok()];
    let passes = 0;
    const errors: number[] = [];
    const loop = new SchedulingLoop(ctx, { retryMs: 20, onError: (_e, n) => errors.push(n), pass: async () => {
      const r = results[passes++]!;
      if (r instanceof Error) throw r;
      return r;
    } });
    loop.signal();
    const deadline = Date.now() + 5000;
    while (passes < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await loop.stop();
    expect(passes).toBe(3);
    expect(errors).toEqual([1]);
  });
});
