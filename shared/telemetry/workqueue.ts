/**
 * The controllers' work-queue metrics as client-go's workqueue exposes them
 * (k8s.io/component-base/metrics/prometheus/workqueue), by queue `name` — here the controller's
 * name, since the in-process controllers share one ReconcileQueue whose keys name their
 * controller: `workqueue_depth`, `workqueue_adds_total`, `workqueue_queue_duration_seconds` (from
 * add to the start of its reconcile), `workqueue_work_duration_seconds` (the reconcile) and
 * `workqueue_retries_total` (failed reconciles queued again with back-off), with client-go's buckets.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReconcileQueueMetrics } from '../controllers/queue.js';
import { perRegistry, secondsSince } from './registry.js';

/** client-go's buckets: 10 ns to 10 s, ×10 each. */
const WORKQUEUE_BUCKETS = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i);

/** WorkQueueMetrics are one registry's workqueue_* families. */
export class WorkQueueMetrics {
  private readonly depth: Gauge<'name'>;
  private readonly adds: Counter<'name'>;
  private readonly queueDuration: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;
  private readonly retries: Counter<'name'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['name'] as const;
    this.depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers });
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames, registers });
    this.queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.', labelNames, buckets: WORKQUEUE_BUCKETS, registers });
    this.workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', labelNames, buckets: WORKQUEUE_BUCKETS, registers });
    this.retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames, registers });
  }

  /** forQueue is the hook a ReconcileQueue reports to; `nameOf` names the queue a key is counted under. */
  forQueue(nameOf: (key: string) => string): ReconcileQueueMetrics {
    const addedAt = new Map<string, number>();
    return {
      added: (key) => {
        const name = nameOf(key);
        this.adds.inc({ name });
        this.depth.inc({ name });
        if (!addedAt.has(key)) addedAt.set(key, performance.now());
      },
      started: (key) => {
        const name = nameOf(key);
        this.depth.dec({ name });
        const at = addedAt.get(key);
        addedAt.delete(key);
        if (at !== undefined) this.queueDuration.observe({ name }, secondsSince(at));
        const started = performance.now();
        return () => this.workDuration.observe({ name }, secondsSince(started));
      },
      dropped: (key) => {
        this.depth.dec({ name: nameOf(key) });
        addedAt.delete(key);
      },
      retried: (key) => this.retries.inc({ name: nameOf(key) }),
    };
  }
}

/** workQueueMetrics are the workqueue metrics of `registry` (default: the process's), built once per registry. */
export const workQueueMetrics = perRegistry((registry) => new WorkQueueMetrics(registry));
