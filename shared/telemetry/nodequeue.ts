/**
 * The node work queue's metrics (pod work for the agents; Kubernetes has no such queue, so the
 * names are ours, shaped as client libraries name theirs): `coracle_nodequeue_requests_total` by
 * operation (send, receive, complete, abandon, renewLock, deadLetter) and result (`ok` or the
 * WorkQueueError reason), `coracle_nodequeue_request_duration_seconds` by operation (a receive is
 * a long poll: its duration includes the wait), and `coracle_nodequeue_messages_received_total`
 * (a receive may deliver several), with `redelivered="true"` for deliveries after the first.
 * Sends, deliveries and dead letters are read from them. Queue names (node names) are not a label:
 * thousands of nodes would make thousands of series.
 *
 * Taken at the WorkQueue port by a decorator, so the embedded queue and Service Bus count alike.
 * Messages the queue dead-letters by itself (past maxDeliveryCount) happen inside the backend and
 * show only as redeliveries here.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { WorkQueueError, type WorkQueue } from '../workqueue/queue.js';
import { LATENCY_BUCKETS, perRegistry, secondsSince } from './registry.js';

type Operation = 'send' | 'receive' | 'complete' | 'abandon' | 'renewLock' | 'deadLetter';

/** NodeQueueMetrics are one registry's node work queue metrics. */
export class NodeQueueMetrics {
  private readonly requests: Counter<'operation' | 'result'>;
  private readonly durations: Histogram<'operation'>;
  private readonly received: Counter<'redelivered'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({ name: 'coracle_nodequeue_requests_total', help: 'Node work queue calls by operation and result (ok, or the failure reason).', labelNames: ['operation', 'result'], registers });
    this.durations = new Histogram({ name: 'coracle_nodequeue_request_duration_seconds', help: 'Node work queue call latency in seconds by operation (receives include their long-poll wait).', labelNames: ['operation'], buckets: LATENCY_BUCKETS, registers });
    this.received = new Counter({ name: 'coracle_nodequeue_messages_received_total', help: 'Messages delivered to receivers of the node work queues; redelivered="true" for deliveries after the first.', labelNames: ['redelivered'], registers });
  }

  /** measure runs one queue call, counting it under `operation`. */
  async measure<T>(operation: Operation, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let result = 'ok';
    try {
      return await call();
    } catch (err) {
      result = err instanceof WorkQueueError ? err.reason : 'Error';
      throw err;
    } finally {
      this.requests.inc({ operation, result });
      this.durations.observe({ operation }, secondsSince(started));
    }
  }

  /** delivered counts messages a receive handed out. */
  delivered(deliveryCounts: readonly number[]): void {
    for (const count of deliveryCounts) this.received.inc({ redelivered: String(count > 1) });
  }
}

/** nodeQueueMetrics are the node queue metrics of `registry` (default: the process's), built once per registry. */
export const nodeQueueMetrics = perRegistry((registry) => new NodeQueueMetrics(registry));

/** measuredWorkQueue wraps `inner` so every call is counted in `metrics` (see the file comment). */
export function measuredWorkQueue(inner: WorkQueue, metrics: NodeQueueMetrics = nodeQueueMetrics()): WorkQueue {
  const queue: WorkQueue = {
    send: (name, body) => metrics.measure('send', () => inner.send(name, body)),
    async receive(name, options) {
      const messages = await metrics.measure('receive', () => inner.receive(name, options));
      metrics.delivered(messages.map((m) => m.deliveryCount));
      return messages;
    },
    complete: (name, message) => metrics.measure('complete', () => inner.complete(name, message)),
    abandon: (name, message, options) => metrics.measure('abandon', () => inner.abandon(name, message, options)),
    renewLock: (name, message) => metrics.measure('renewLock', () => inner.renewLock(name, message)),
    deadLetter: (name, message, reason) => metrics.measure('deadLetter', () => inner.deadLetter(name, message, reason)),
    deadLetters: (name) => inner.deadLetters(name),
    close: () => inner.close(),
  };
  if (inner.createQueue) queue.createQueue = (name) => inner.createQueue!(name);
  if (inner.deleteQueue) queue.deleteQueue = (name) => inner.deleteQueue!(name);
  return queue;
}
