import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { ReconcileQueue } from '../controllers/queue.js';
import { ControllerManager, controllerOfQueueKey } from '../controllers/manager.js';
import { registryValue } from '../../test/support/prometheus.js';
import { WorkQueueMetrics } from './workqueue.js';

describe("workqueue metrics as client-go's", () => {
  it('counts adds (a key added again while queued or running counts once), depth, queue and work durations, and retries by name', async () => {
    const registry = new Registry();
    const metrics = new WorkQueueMetrics(registry);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let failed = false;
    const value = (name: string, labels: Record<string, string>, series?: 'count') => registryValue(registry, name, labels, series);
    const q = new ReconcileQueue(async (key) => {
      if (key === 'a\tx') await gate;
      if (key === 'b\ty' && !failed) {
        failed = true;
        throw new Error('conflict');
      }
    }, { concurrency: 1, baseBackoffMs: 5, metrics: metrics.forQueue(controllerOfQueueKey) });
    q.add('a\tx');
    await new Promise((r) => setTimeout(r, 0)); // 'a\tx' runs and waits at the gate
    q.add('a\tx'); // while it runs: counted once, runs once more
    q.add('a\tx');
    q.add('b\ty'); // queued behind it
    q.add('b\ty');
    expect(await value('workqueue_depth', { name: 'a' })).toBe(1);
    expect(await value('workqueue_depth', { name: 'b' })).toBe(1);
    release();
    await q.idle();
    await new Promise((r) => setTimeout(r, 50)); // the retry of 'b\ty' after its back-off
    await q.idle();
    expect(await value('workqueue_adds_total', { name: 'a' })).toBe(2);
    expect(await value('workqueue_adds_total', { name: 'b' })).toBe(2); // the add and the retry's
    expect(await value('workqueue_retries_total', { name: 'b' })).toBe(1);
    expect(await value('workqueue_retries_total', { name: 'a' })).toBe(0);
    expect(await value('workqueue_depth', { name: 'a' })).toBe(0);
    expect(await value('workqueue_depth', { name: 'b' })).toBe(0);
    expect(await value('workqueue_work_duration_seconds', { name: 'a' }, 'count')).toBe(2);
    expect(await value('workqueue_queue_duration_seconds', { name: 'b' }, 'count')).toBe(2);
    await q.stop();
  });

  it('takes queued keys out of the depth when the queue stops', async () => {
    const registry = new Registry();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new ReconcileQueue(() => gate, { concurrency: 1, metrics: new WorkQueueMetrics(registry).forQueue(controllerOfQueueKey) });
    q.add('c\t1');
    q.add('c\t2');
    q.add('c\t3');
    expect(await registryValue(registry, 'workqueue_depth', { name: 'c' })).toBe(2);
    const stopped = q.stop();
    release();
    await stopped;
    expect(await registryValue(registry, 'workqueue_depth', { name: 'c' })).toBe(0);
  });

  it("names each controller's keys by the controller in the manager's shared queue", () => {
    const manager = new ControllerManager([{ name: 'replicaset', kinds: ['ReplicaSet'], keysFor: (c) => [c.key], reconcile: async () => undefined, resync: async () => [] }], {} as never);
    const [key] = manager.keysOf([{ key: 'default/web', type: 'put', value: { kind: 'ReplicaSet' } } as never]);
    expect(controllerOfQueueKey(key!)).toBe('replicaset');
  });
});
