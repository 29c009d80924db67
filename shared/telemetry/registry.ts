/**
 * The process's one Prometheus registry. Every part of a host process that keeps figures (the API
 * server's request metrics, the store, the controllers' work queue, the node work queue, the
 * durable engine) registers its metrics here, and the process serves them all at one `/metrics`,
 * as each kube component (kube-apiserver, kube-controller-manager) serves its own. With
 * `coracle up --instances N` each instance is its own process with its own figures: the HTTP
 * instances answer `/metrics` on the API (behind the front: one instance per scrape), and the
 * durable and triggers instances serve theirs at `/metrics` on their own loopback port
 * (local/instance.ts).
 *
 * Tests that need counters of their own build a `new Registry()` and pass it instead.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * LATENCY_BUCKETS are upstream's buckets for request latencies in seconds (apiserver_request_duration_seconds,
 * etcd_request_duration_seconds).
 */
export const LATENCY_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

let registry: Registry | undefined;

/**
 * processRegistry is this process's registry (see the file comment), created on first use with
 * prom-client's default process metrics (CPU, memory, event loop lag, GC, handles).
 */
export function processRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** exposition answers a scrape: every metric of `registry` in the Prometheus text format. */
export async function exposition(target: Registry = processRegistry()): Promise<Response> {
  return new Response(await target.metrics(), { status: 200, headers: { 'content-type': target.contentType } });
}

/** seconds is the time since `startedMs` (a performance.now() reading), in seconds. */
export function secondsSince(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}

/**
 * perRegistry memoizes a set of metrics per registry: a metric name may be registered once per
 * registry, while the part it measures may be built again (a store reopened after closeAppContext).
 */
export function perRegistry<T>(build: (registry: Registry) => T): (registry?: Registry) => T {
  const built = new WeakMap<Registry, T>();
  return (target = processRegistry()) => {
    let metrics = built.get(target);
    if (!metrics) built.set(target, (metrics = build(target)));
    return metrics;
  };
}
