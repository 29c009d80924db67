/**
 * ReconcileQueue: the in-process work queue between change events and reconcile calls, shaped
 * like client-go's rate-limited workqueue. A key is never reconciled twice at once; a key added
 * while it is being reconciled runs once more afterwards; a failed reconcile is retried with
 * exponential back-off and never blocks other keys. Keys live in memory only: after a restart
 * the controllers resync (they are level-triggered), which is what makes that safe.
 */

/** ReconcileOutcome is what a reconcile may ask for besides success: to look again later. */
export interface ReconcileOutcome {
  requeueAfterMs?: number;
}

/** ReconcileFn reconciles one key; a throw asks for a retry with back-off. */
export type ReconcileFn = (key: string) => Promise<ReconcileOutcome | void>;

/** ReconcileQueueOptions tune the queue. */
export interface ReconcileQueueOptions {
  /** Keys reconciled at once (default 4). */
  concurrency?: number;
  /** First retry delay (default 200 ms); doubles per failure up to `maxBackoffMs` (default 30 s). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told about each failed attempt (the key is retried). */
  onError?: (key: string, err: unknown, failures: number) => void;
  /** Told what happens to keys, for client-go's workqueue metrics (shared/telemetry/workqueue.ts). */
  metrics?: ReconcileQueueMetrics;
}

/**
 * ReconcileQueueMetrics is what a queue reports, as client-go's workqueue reports to its
 * MetricsProvider: a key `added` (queued, or marked to run again while it runs: counted once until
 * it starts), `started` (taken off the queue; the function it returns is called when its
 * reconcile ends), `dropped` (a queued key thrown away by stop) and `retried` (a failed reconcile
 * queued again with back-off).
 */
export interface ReconcileQueueMetrics {
  added(key: string): void;
  started(key: string): () => void;
  dropped(key: string): void;
  retried(key: string): void;
}

/** ReconcileQueue runs `reconcile` for queued keys; see the file comment for its guarantees. */
export class ReconcileQueue {
  private readonly queued: string[] = [];
  private readonly queuedSet = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while processing: they run again once the current attempt ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Callers waiting for the next attempt of a key that starts after they asked. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly reconcile: ReconcileFn,
    private readonly options: ReconcileQueueOptions = {},
  ) {}

  /** add queues `key` now (cancelling a pending delayed add of it). */
  add(key: string): void {
    if (this.stopped) return;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.processing.has(key)) {
      if (!this.dirty.has(key)) this.options.metrics?.added(key);
      this.dirty.add(key);
      return;
    }
    if (!this.queuedSet.has(key)) this.options.metrics?.added(key);
    this.enqueue(key);
  }

  /** enqueue queues a key that is not running (already counted as added). */
  private enqueue(key: string): void {
    if (!this.queuedSet.has(key)) {
      this.queuedSet.add(key);
      this.queued.push(key);
    }
    this.pump();
  }

  /** addAfter queues `key` after `ms` (an earlier pending add wins). */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key) || this.queuedSet.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.timers.set(key, timer);
  }

  /** addAndWait queues `key` and resolves once an attempt of it that started after this call has ended (success or not). */
  addAndWait(key: string): Promise<void> {
    const done = new Promise<void>((resolve) => {
      const list = this.waiting.get(key) ?? [];
      list.push(resolve);
      this.waiting.set(key, list);
    });
    this.add(key);
    return done;
  }

  /** idle resolves when nothing is queued or running (delayed retries may still be pending). */
  idle(): Promise<void> {
    if (this.active === 0 && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** pendingRetries is how many keys wait for a delayed retry or requeue. */
  get pendingRetries(): number {
    return this.timers.size;
  }

  /** stop drops queued and delayed keys, releases waiters, and waits for running reconciles. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const key of [...this.queued, ...this.dirty]) this.options.metrics?.dropped(key);
    this.dirty.clear();
    this.queued.length = 0;
    this.queuedSet.clear();
    for (const list of this.waiting.values()) for (const resolve of list) resolve();
    this.waiting.clear();
    await this.idle();
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    while (!this.stopped && this.active < concurrency && this.queued.length > 0) {
      const key = this.queued.shift()!;
      this.queuedSet.delete(key);
      this.processing.add(key);
      this.active++;
      const waiters = this.waiting.get(key) ?? [];
      this.waiting.delete(key);
      const worked = this.options.metrics?.started(key);
      void this.attempt(key).finally(() => {
        worked?.();
        for (const resolve of waiters) resolve();
        this.processing.delete(key);
        this.active--;
        if (this.dirty.delete(key) && !this.stopped) this.enqueue(key);
        this.pump();
        if (this.active === 0 && this.queued.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  private async attempt(key: string): Promise<void> {
    try {
      const outcome = await this.reconcile(key);
      this.failures.delete(key);
      if (outcome && outcome.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
    } catch (err) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      this.options.onError?.(key, err, failures);
      this.options.metrics?.retried(key);
      const base = this.options.baseBackoffMs ?? 200;
      this.addAfter(key, Math.min(base * 2 ** (failures - 1), this.options.maxBackoffMs ?? 30_000));
    }
  }
}
