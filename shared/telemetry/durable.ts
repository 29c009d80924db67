/**
 * Durable orchestration metrics (no Kubernetes equivalent, so the names are ours):
 * `coracle_durable_orchestrations_started_total` and `coracle_durable_orchestrations_finished_total`
 * (by status: Completed, Failed, Terminated) by orchestrator name, counted by the engine that runs
 * the steps; `coracle_durable_orchestrations` (a gauge by name and runtime status, read from the
 * engine's instance table when scraped, so it survives restarts: its Running series is "running by
 * name"); `coracle_durable_activity_duration_seconds` by activity name and result.
 *
 * Locally the durable engine (local/durable) reports here. On Azure the Durable Functions
 * extension runs orchestrations, and its own telemetry goes to Application Insights.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, perRegistry } from './registry.js';

/** InstanceCount is how many instances of orchestrator `name` have `status`. */
export interface InstanceCount {
  name: string;
  status: string;
  count: number;
}

/** DurableMetrics are one registry's durable orchestration metrics. */
export class DurableMetrics {
  private readonly started: Counter<'name'>;
  private readonly finished: Counter<'name' | 'status'>;
  private readonly activities: Histogram<'name' | 'result'>;
  /** Where the instance gauge reads its counts (the running engine's table). */
  instanceCounts: (() => readonly InstanceCount[]) | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.started = new Counter({ name: 'coracle_durable_orchestrations_started_total', help: 'Orchestration instances that began running, by orchestrator name.', labelNames: ['name'], registers });
    this.finished = new Counter({ name: 'coracle_durable_orchestrations_finished_total', help: 'Orchestration instances that ended, by orchestrator name and final status (Completed, Failed, Terminated).', labelNames: ['name', 'status'], registers });
    this.activities = new Histogram({ name: 'coracle_durable_activity_duration_seconds', help: 'Activity function run time in seconds, by activity name and result (Completed, Failed).', labelNames: ['name', 'result'], buckets: LATENCY_BUCKETS, registers });
    const instanceCounts = () => this.instanceCounts?.() ?? [];
    new Gauge({
      name: 'coracle_durable_orchestrations', help: 'Orchestration instances by orchestrator name and runtime status, at the time of the scrape.',
      labelNames: ['name', 'status'], registers,
      collect() {
        this.reset();
        for (const { name, status, count } of instanceCounts()) this.set({ name, status }, count);
      },
    });
  }

  /** stepped records an instance's status before and after one orchestration step. */
  stepped(name: string, before: string | undefined, after: string | undefined): void {
    if (before === after || after === undefined) return;
    if (before === 'Pending' || before === undefined) this.started.inc({ name });
    if (after === 'Completed' || after === 'Failed' || after === 'Terminated') this.finished.inc({ name, status: after });
  }

  /** activityRan records one activity run of `seconds`. */
  activityRan(name: string, result: 'Completed' | 'Failed', seconds: number): void {
    this.activities.observe({ name, result }, seconds);
  }
}

/** durableMetrics are the durable metrics of `registry` (default: the process's), built once per registry. */
export const durableMetrics = perRegistry((registry) => new DurableMetrics(registry));
