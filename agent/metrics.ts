/**
 * The agent's part of the Metrics API: every resolution period (15 s) it reads its runtime's
 * containers' cumulative CPU time and memory working set, turns CPU into a rate over the time
 * since the previous reading (nanocores), and PUTs one NodeMetricsReport for its node to the API
 * server (shared/apiserver/metricsreport.ts), which keeps it for `kubectl top`. Agents only make
 * outbound connections, so they push instead of being scraped as kubelets are.
 *
 * A container seen for the first time has no earlier reading: its first figure is its average
 * since it started (its counter began at 0 then), so a new pod shows in `kubectl top` one period
 * after it starts rather than two. A restarted container (a new instance) starts over the same way.
 *
 * The node's total is what this node runs: its pods' containers plus the agent process itself.
 * (A kubelet reports its machine's root cgroup, which also holds the OS's other processes; several
 * local nodes share one machine here, so the machine's figure would be counted once per node.)
 */
import type { ApiClient } from '../shared/controllers/client.js';
import { cpuRateNanoCores, NODE_METRICS_REPORT_PATH, type CpuSample, type NodeMetricsReport, type PodUsage } from '../shared/metrics/usage.js';
import type { ContainerStats, StatsProvider } from './runtime/runtime.js';

/** ProcessReading is the agent process's own cumulative CPU time and resident memory. */
export interface ProcessReading {
  cpu: CpuSample;
  memoryBytes: number;
  startedAtMs: number;
}

/** processReading reads this process (Node's cpuUsage is in microseconds since the process started). */
export function processReading(now = Date.now()): ProcessReading {
  const { user, system } = process.cpuUsage();
  return { cpu: { usageNanoSeconds: (user + system) * 1000, atMs: now }, memoryBytes: process.memoryUsage.rss(), startedAtMs: now - process.uptime() * 1000 };
}

/** MetricsSampler keeps the previous readings and turns new ones into a report. Pure but for its memory of the last readings. */
export class MetricsSampler {
  private previous = new Map<string, CpuSample>();
  private previousProcess: CpuSample | undefined;
  private lastAtMs: number | undefined;

  constructor(private readonly nodeName: string, private readonly defaultWindowMs: number) {}

  /**
   * sample builds the report of `containers` read now, with the agent process's reading when
   * given (undefined: the node's total is its pods' only, as for hollow nodes sharing a process).
   */
  sample(containers: readonly ContainerStats[], agent: ProcessReading | undefined, nowMs: number): NodeMetricsReport {
    const next = new Map<string, CpuSample>();
    const pods = new Map<string, PodUsage>();
    const incomplete = new Set<string>();
    let cpu = 0;
    let memory = 0;
    for (const c of containers) {
      const key = `${c.podUid}/${c.container}/${c.instanceId}`;
      const current = { usageNanoSeconds: c.cpuUsageNanoSeconds, atMs: c.atMs };
      next.set(key, current);
      const before = this.previous.get(key) ?? { usageNanoSeconds: 0, atMs: c.startedAtMs };
      const rate = cpuRateNanoCores(before, current);
      const podKey = `${c.namespace}/${c.podName}/${c.podUid}`;
      if (rate === undefined) {
        incomplete.add(podKey);
        continue;
      }
      const pod = pods.get(podKey) ?? { namespace: c.namespace, name: c.podName, uid: c.podUid, containers: [] };
      pod.containers.push({ name: c.container, cpuNanoCores: rate, memoryBytes: c.memoryWorkingSetBytes });
      pods.set(podKey, pod);
      cpu += rate;
      memory += c.memoryWorkingSetBytes;
    }
    if (agent) {
      const rate = cpuRateNanoCores(this.previousProcess ?? { usageNanoSeconds: 0, atMs: agent.startedAtMs }, agent.cpu);
      cpu += rate ?? 0;
      memory += agent.memoryBytes;
      this.previousProcess = agent.cpu;
    }
    const windowMs = this.lastAtMs !== undefined && nowMs > this.lastAtMs ? nowMs - this.lastAtMs : this.defaultWindowMs;
    this.previous = next;
    this.lastAtMs = nowMs;
    return {
      apiVersion: 'coracle.io/v1', kind: 'NodeMetricsReport', metadata: { name: this.nodeName },
      timestamp: new Date(nowMs).toISOString(), windowSeconds: windowMs / 1000,
      usage: { cpuNanoCores: cpu, memoryBytes: memory },
      // A pod with a container not yet measurable is left out whole, as metrics-server does.
      pods: [...pods.entries()].filter(([key]) => !incomplete.has(key)).map(([, pod]) => pod),
    };
  }
}

/** MetricsReporterOptions wire one node's reporter. */
export interface MetricsReporterOptions {
  client: ApiClient;
  runtime: StatsProvider;
  nodeName: string;
  /** How often it reports (ms); also the first report's window. */
  intervalMs: number;
  /** Count the agent process in the node's total (default true; hollow nodes share one process). */
  includeAgentProcess?: boolean;
  now?: () => number;
}

/** MetricsReporter reads and sends one report per call of `report` (the agent calls it every interval). */
export class MetricsReporter {
  private readonly sampler: MetricsSampler;
  private readonly path: string;

  constructor(private readonly o: MetricsReporterOptions) {
    this.sampler = new MetricsSampler(o.nodeName, o.intervalMs);
    this.path = `${NODE_METRICS_REPORT_PATH}/${encodeURIComponent(o.nodeName)}`;
  }

  /** report reads the runtime and the process and PUTs the node's report; it rejects when either fails. */
  async report(): Promise<NodeMetricsReport> {
    const containers = await this.o.runtime.containerStats();
    const now = (this.o.now ?? Date.now)();
    const report = this.sampler.sample(containers, (this.o.includeAgentProcess ?? true) ? processReading(now) : undefined, now);
    await this.o.client.putPath(this.path, report);
    return report;
  }
}
