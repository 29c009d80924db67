/**
 * SchedulingLoop: runs scheduling passes in the background, one at a time, for callers that
 * only signal "something changed" — the in-process stand-in for signalling the scheduler's
 * singleton orchestration. A signal during a pass runs exactly one more pass after it (signals
 * coalesce, so a burst of thousands of pod creations costs a few large passes, not thousands of
 * small ones); a failed pass is retried with back-off; a pass that left pods unschedulable runs
 * again after UNSCHEDULABLE_RETRY_MS. Signalling never waits for a pass, so the change feed
 * that signals is never held up by scheduling. A signal lost to a crash is recovered by the
 * controller's resync at start (the pass is level-triggered).
 */
import type { ControllerContext } from '../controller.js';
import { runSchedulingPass, UNSCHEDULABLE_RETRY_MS, type SchedulingPass } from './reconcile.js';

/** SchedulingLoopOptions tune the loop. */
export interface SchedulingLoopOptions {
  /** The pass to run (default: runSchedulingPass). */
  pass?: (ctx: ControllerContext) => Promise<SchedulingPass>;
  retryMs?: number;
  maxBackoffMs?: number;
  onError?: (err: unknown, failures: number) => void;
}

/** SchedulingLoop runs passes for one context; see the file comment. */
export class SchedulingLoop {
  private running: Promise<void> | undefined;
  private dirty = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly options: SchedulingLoopOptions = {},
  ) {}

  /** signal asks for a pass soon (now, or right after the running one). */
  signal(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = this.drain().finally(() => { this.running = undefined; });
  }

  /** idle resolves once no pass is running (a later timed retry may still be scheduled). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** stop cancels a timed retry and waits for the running pass. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = false;
    await this.idle();
  }

  private async drain(): Promise<void> {
    do {
      this.dirty = false;
      const delay = await this.attempt();
      if (delay !== undefined && !this.dirty) {
        this.timer = setTimeout(() => { this.timer = undefined; this.signal(); }, delay);
        this.timer.unref?.();
      }
    } while (this.dirty);
  }

  /** attempt runs one pass; answers the delay before the next one, if one is needed. */
  private async attempt(): Promise<number | undefined> {
    try {
      const pass = await (this.options.pass ?? runSchedulingPass)(this.ctx);
      this.failures = 0;
      return pass.unschedulable > 0 ? (this.options.retryMs ?? UNSCHEDULABLE_RETRY_MS) : undefined;
    } catch (err) {
      this.failures++;
      this.options.onError?.(err, this.failures);
      return Math.min(200 * 2 ** (this.failures - 1), this.options.maxBackoffMs ?? 30_000);
    }
  }
}

const loops = new WeakMap<ControllerContext['client'], SchedulingLoop>();

/** schedulingLoopFor returns the one loop of `ctx`'s client (created on first use). */
export function schedulingLoopFor(ctx: ControllerContext): SchedulingLoop {
  let loop = loops.get(ctx.client);
  if (!loop) {
    loops.set(ctx.client, (loop = new SchedulingLoop(ctx, {
      onError: (err, failures) => {
        if (failures === 1 || failures % 10 === 0) console.warn(`scheduler: pass failed (attempt ${failures}): ${(err as Error).message}`);
      },
    })));
  }
  return loop;
}

/** signalSchedulingLoop is a reconcile that signals the loop and returns at once. */
export async function signalSchedulingLoop(_key: string, ctx: ControllerContext): Promise<void> {
  schedulingLoopFor(ctx).signal();
}
