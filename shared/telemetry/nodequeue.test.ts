import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { WorkQueueError, type QueueMessage, type WorkQueue } from '../workqueue/queue.js';
import { registryValue } from '../../test/support/prometheus.js';
import { measuredWorkQueue, NodeQueueMetrics } from './nodequeue.js';

/** A queue that holds sent bodies and hands them out (deliveryCount as given), failing a complete with LockLost. */
function fakeQueue(deliveryCounts: number[]): WorkQueue {
  const message = (deliveryCount: number): QueueMessage => ({ messageId: String(deliveryCount), body: {}, deliveryCount, lockToken: 't', lockedUntil: 0, enqueuedAt: 0 });
  return {
    send: async () => undefined,
    receive: async () => deliveryCounts.map(message),
    complete: async () => { throw new WorkQueueError('LockLost', 'the lock expired'); },
    abandon: async () => undefined,
    renewLock: async () => 0,
    deadLetter: async () => undefined,
    deadLetters: async () => [],
    close: async () => undefined,
    createQueue: async () => undefined,
  };
}

describe('node work queue metrics', () => {
  it('counts calls by operation and result, deliveries (redeliveries apart) and dead letters, and keeps optional methods', async () => {
    const registry = new Registry();
    const queue = measuredWorkQueue(fakeQueue([1, 3]), new NodeQueueMetrics(registry));
    await queue.send('node-1', { pod: 'a' });
    await queue.send('node-1', { pod: 'b' });
    const messages = await queue.receive('node-1', { maxMessages: 2 });
    await expect(queue.complete('node-1', messages[0]!)).rejects.toMatchObject({ reason: 'LockLost' });
    await queue.deadLetter('node-1', messages[1]!, 'too many deliveries');
    expect(queue.createQueue).toBeDefined();
    expect(queue.deleteQueue).toBeUndefined();
    const value = (name: string, labels: Record<string, string>) => registryValue(registry, name, labels);
    expect(await value('coracle_nodequeue_requests_total', { operation: 'send', result: 'ok' })).toBe(2);
    expect(await value('coracle_nodequeue_requests_total', { operation: 'receive', result: 'ok' })).toBe(1);
    expect(await value('coracle_nodequeue_requests_total', { operation: 'complete', result: 'LockLost' })).toBe(1);
    expect(await value('coracle_nodequeue_requests_total', { operation: 'deadLetter', result: 'ok' })).toBe(1);
    expect(await value('coracle_nodequeue_messages_received_total', { redelivered: 'false' })).toBe(1);
    expect(await value('coracle_nodequeue_messages_received_total', { redelivered: 'true' })).toBe(1);
    expect(await registryValue(registry, 'coracle_nodequeue_request_duration_seconds', { operation: 'send' }, 'count')).toBe(2);
  });
});
