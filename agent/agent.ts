/**
 * The node agent (the kubelet's job): registers its Node, keeps its Lease renewed, takes pod work
 * from its WorkSource and reconciles it with the Runtime, reports pod status, and resyncs fully
 * at start and periodically. Stopping leaves the runtime's containers running: a restarted agent
 * adopts them through its first resync.
 */
import type { ApiClient } from '../shared/controllers/client.js';
import { hasStats, type Runtime } from './runtime/runtime.js';
import { METRICS_RESOLUTION_MS } from '../shared/metrics/usage.js';
import { MetricsReporter } from './metrics.js';
import { LEASE_RENEW_INTERVAL_MS, NodeLifecycle, type NodeConfig } from './node.js';
import { PodReconciler } from './reconciler.js';
import { StatusReporter } from './status.js';
import type { WorkItem, WorkSource } from './work.js';

/** AgentOptions wire one node's agent. */
export interface AgentOptions {
  client: ApiClient;
  runtime: Runtime;
  node: NodeConfig;
  work: WorkSource;
  log?: (message: string) => void;
  /** Full resync period (default 60 s; the kubelet's is 1 min). */
  resyncIntervalMs?: number;
  /** Node status report period (default 60 s). */
  statusIntervalMs?: number;
  /** Lease renew period (default 10 s). */
  leaseIntervalMs?: number;
  /** Delay before the first renewal, to spread many nodes' renewals (hollow mode). */
  leaseOffsetMs?: number;
  /** Pods reconciled at once (default 16: a reconcile mostly waits on the API or the engine). */
  concurrency?: number;
  /** How often the node's usage is reported for the Metrics API (default 15 s; 0: never; runtimes without stats never report). */
  metricsIntervalMs?: number;
  /** Count the agent process in the node's usage (default true; hollow nodes share one process). */
  metricsIncludeAgentProcess?: boolean;
  /** Register the runtime's status callback (default true; hollow mode routes one shared callback). */
  subscribeStatus?: boolean;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Agent runs one node. `start` resolves once the node is registered and first resynced. */
export class Agent {
  readonly lifecycle: NodeLifecycle;
  readonly reconciler: PodReconciler;
  readonly status: StatusReporter;
  /** Reports the node's usage (undefined when the runtime cannot measure or reporting is off). */
  readonly metrics: MetricsReporter | undefined;
  private metricsFailures = 0;
  private readonly abort = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: (message: string) => void;
  private loop: Promise<void> | undefined;
  private active = 0;
  private slotFreed: (() => void) | undefined;
  /** Epoch ms of the last successful lease renewal (for tests and hollow-mode metrics). */
  lastRenewal = 0;

  constructor(private readonly o: AgentOptions) {
    const name = o.node.name;
    this.log = o.log ?? ((m) => process.stderr.write(`agent ${name}: ${m}\n`));
    this.lifecycle = new NodeLifecycle(o.client, o.node);
    this.status = new StatusReporter(o.client, o.node.internalIP, this.log);
    this.reconciler = new PodReconciler({ client: o.client, runtime: o.runtime, nodeName: name, status: this.status, log: this.log });
    const metricsIntervalMs = o.metricsIntervalMs ?? METRICS_RESOLUTION_MS;
    this.metrics = hasStats(o.runtime) && metricsIntervalMs > 0
      ? new MetricsReporter({ client: o.client, runtime: o.runtime, nodeName: name, intervalMs: metricsIntervalMs, includeAgentProcess: o.metricsIncludeAgentProcess })
      : undefined;
    if (o.subscribeStatus ?? true) o.runtime.onPodStatus((pod, status) => this.status.report(pod, status));
  }

  /** start registers the node (retrying until it succeeds or stop is called), renews the lease, resyncs, and starts the loops. */
  async start(): Promise<void> {
    const signal = this.abort.signal;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await this.lifecycle.register();
        break;
      } catch (err) {
        this.log(`registration failed (attempt ${attempt}): ${(err as Error).message}`);
        await sleep(Math.min(10_000, 500 * attempt), signal);
      }
    }
    if (signal.aborted) return;
    await this.renewLease();
    await this.resync();
    this.every(this.o.leaseIntervalMs ?? LEASE_RENEW_INTERVAL_MS, () => this.renewLease(), this.o.leaseOffsetMs);
    this.every(this.o.statusIntervalMs ?? 60_000, () => this.lifecycle.reportStatus().catch((err: Error) => this.log(`node status: ${err.message}`)));
    this.every(this.o.resyncIntervalMs ?? 60_000, () => this.resync());
    if (this.metrics) this.every(this.o.metricsIntervalMs ?? METRICS_RESOLUTION_MS, () => this.reportMetrics());
    this.loop = this.workLoop();
  }

  /** stop ends the loops and timers; containers keep running. Resolves when in-flight work settled. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.o.work.close();
    await this.loop;
    while (this.active > 0) await new Promise<void>((r) => (this.slotFreed = r));
    this.status.close();
  }

  /** renewLease renews once, logging a failure (the next tick retries). */
  async renewLease(): Promise<void> {
    try {
      await this.lifecycle.renewLease();
      this.lastRenewal = Date.now();
    } catch (err) {
      this.log(`lease renewal failed: ${(err as Error).message}`);
    }
  }

  /** reportMetrics sends one usage report, logging the first failure of a run and every tenth after it. */
  async reportMetrics(): Promise<void> {
    try {
      await this.metrics?.report();
      this.metricsFailures = 0;
    } catch (err) {
      if (this.metricsFailures++ % 10 === 0) this.log(`metrics report failed: ${(err as Error).message}`);
    }
  }

  /**
   * resync reconciles every pod of the node with the runtime once, then reports every runtime
   * pod's status again (the reporter skips what it already wrote): the kubelet's status manager
   * also re-syncs statuses, so one lost anywhere on the way is written within a resync period.
   */
  async resync(): Promise<void> {
    try {
      const { errors } = await this.reconciler.resync();
      if (errors > 0) this.log(`resync: ${errors} pod(s) failed, retried next resync`);
      for (const pod of await this.o.runtime.listPods()) {
        const status = await this.o.runtime.getPodStatus(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '');
        if (status) this.status.report(pod, status);
      }
    } catch (err) {
      this.log(`resync failed: ${(err as Error).message}`);
    }
  }

  private every(intervalMs: number, task: () => Promise<void>, firstDelayMs = intervalMs): void {
    const tick = (delay: number) => {
      if (this.abort.signal.aborted) return;
      const t = setTimeout(() => {
        this.timers.delete(t);
        const started = Date.now();
        void task().finally(() => tick(Math.max(0, intervalMs - (Date.now() - started))));
      }, delay);
      t.unref?.();
      this.timers.add(t);
    };
    tick(firstDelayMs);
  }

  private async workLoop(): Promise<void> {
    const signal = this.abort.signal;
    const limit = this.o.concurrency ?? 16;
    while (!signal.aborted) {
      let items: WorkItem[];
      try {
        items = await this.o.work.next(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.log(`work source: ${(err as Error).message}`);
        await sleep(1000, signal);
        continue;
      }
      for (const item of items) {
        while (this.active >= limit) await new Promise<void>((r) => (this.slotFreed = r));
        this.active++;
        void this.handle(item).finally(() => {
          this.active--;
          this.slotFreed?.();
          this.slotFreed = undefined;
        });
      }
    }
  }

  private async handle(item: WorkItem): Promise<void> {
    let failure: unknown;
    try {
      await this.reconciler.reconcile(item.namespace, item.name);
    } catch (err) {
      failure = err;
      this.log(`reconcile ${item.namespace}/${item.name} (attempt ${item.attempt}): ${(err as Error).message}`);
    }
    await item.settle(failure).catch((err: Error) => this.log(`settle ${item.namespace}/${item.name}: ${err.message}`));
  }
}
