/**
 * ControllerManager: turns batches of changes into reconcile keys for the registered controllers
 * and runs them on one ReconcileQueue. Keys are deduplicated per batch (and while queued); a
 * failed reconcile is retried with back-off without holding up the batch or other keys.
 */
import type { Change } from './change.js';
import type { Controller, ControllerContext } from './controller.js';
import { ReconcileQueue, type ReconcileOutcome, type ReconcileQueueOptions } from './queue.js';

/** RESYNC is the queue key, per controller, of "list everything that may need work". */
const RESYNC = '\u0000resync';

function queueKey(controller: string, key: string): string {
  return `${controller}\t${key}`;
}

/** controllerOfQueueKey names the controller a key of the manager's queue belongs to (the workqueue metrics' `name`). */
export function controllerOfQueueKey(qkey: string): string {
  return qkey.slice(0, qkey.indexOf('\t'));
}

/**
 * ReconcileLogLine is what is logged about one reconcile: the controller, its key, the id of the
 * API request whose write queued it (the latest such write, when it recorded one), the result and
 * how long it took.
 */
export interface ReconcileLogLine {
  controller: string;
  key: string;
  requestId?: string;
  result: 'ok' | 'error';
  latencyMs: number;
  error?: string;
}

/** ControllerManagerOptions tune the queue and say where reconciles are logged. */
export interface ControllerManagerOptions extends ReconcileQueueOptions {
  log?: (line: ReconcileLogLine) => void;
}

/** ControllerManager runs `controllers` against `ctx`; one per process. */
export class ControllerManager {
  private readonly byName = new Map<string, Controller>();
  private readonly queue: ReconcileQueue;
  /** The request id of the latest change that queued each key (until a reconcile of it succeeds). */
  private readonly causes = new Map<string, string>();

  constructor(
    controllers: readonly Controller[],
    private readonly ctx: ControllerContext,
    private readonly options: ControllerManagerOptions = {},
  ) {
    for (const c of controllers) this.byName.set(c.name, c);
    this.queue = new ReconcileQueue((k) => this.run(k), options);
  }

  /** keysOf maps a batch to queue keys, each once, in first-seen order. */
  keysOf(changes: readonly Change[]): string[] {
    return [...this.keysWithCauses(changes).keys()];
  }

  /** keysWithCauses maps a batch to queue keys, each with the request id of its latest change (if recorded). */
  private keysWithCauses(changes: readonly Change[]): Map<string, string | undefined> {
    const keys = new Map<string, string | undefined>();
    for (const change of changes) {
      const kind = String(change.value.kind ?? '');
      for (const c of this.byName.values()) {
        if (c.kinds !== '*' && !c.kinds.includes(kind)) continue;
        for (const key of c.keysFor(change)) {
          const qkey = queueKey(c.name, key);
          keys.set(qkey, change.requestId ?? keys.get(qkey));
        }
      }
    }
    return keys;
  }

  /**
   * handleChanges queues the batch's keys and resolves once each has been reconciled once
   * (successfully or not: failures stay queued for retry and do not hold the batch).
   */
  async handleChanges(changes: readonly Change[]): Promise<void> {
    const keys = this.keysWithCauses(changes);
    for (const [qkey, requestId] of keys) if (requestId !== undefined) this.causes.set(qkey, requestId);
    await Promise.all([...keys.keys()].map((k) => this.queue.addAndWait(k)));
  }

  /** resync queues every controller's full resync and resolves once each has listed its keys. */
  async resync(): Promise<void> {
    await Promise.all([...this.byName.keys()].map((name) => this.queue.addAndWait(queueKey(name, RESYNC))));
  }

  /** idle resolves once nothing is queued or running (retries may still be scheduled). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** stop ends the queue (pending retries are dropped: a restart resyncs). */
  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async run(qkey: string): Promise<ReconcileOutcome | void> {
    const tab = qkey.indexOf('\t');
    const controller = this.byName.get(controllerOfQueueKey(qkey));
    const key = qkey.slice(tab + 1);
    if (!controller) return;
    if (key !== RESYNC) return this.reconcile(controller, key, qkey);
    for (const k of await controller.resync(this.ctx)) this.queue.add(queueKey(controller.name, k));
  }

  /** reconcile runs one key and logs it with the request id that queued it. */
  private async reconcile(controller: Controller, key: string, qkey: string): Promise<ReconcileOutcome | void> {
    const requestId = this.causes.get(qkey);
    const started = performance.now();
    const line = (result: 'ok' | 'error', error?: string): ReconcileLogLine => ({
      controller: controller.name, key, requestId, result, latencyMs: Math.round((performance.now() - started) * 1e3) / 1e3, error,
    });
    try {
      const outcome = await controller.reconcile(key, this.ctx);
      if (this.causes.get(qkey) === requestId) this.causes.delete(qkey);
      this.options.log?.(line('ok'));
      return outcome;
    } catch (err) {
      this.options.log?.(line('error', (err as Error).message));
      throw err;
    }
  }
}
