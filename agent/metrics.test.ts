import { describe, expect, it } from '@jest/globals';
import { MetricsSampler, type ProcessReading } from './metrics.js';
import type { ContainerStats } from './runtime/runtime.js';

function reading(container: string, cpuSeconds: number, atMs: number, extra: Partial<ContainerStats> = {}): ContainerStats {
  return {
    namespace: 'default', podName: 'busy', podUid: 'uid-1', container, instanceId: `id-${container}`, startedAtMs: 0,
    cpuUsageNanoSeconds: cpuSeconds * 1e9, memoryWorkingSetBytes: 8 * 1024 * 1024, atMs, ...extra,
  };
}

describe('MetricsSampler', () => {
  it('rates a new container from its start, then from the previous reading', () => {
    const sampler = new MetricsSampler('n1', 15_000);
    // Started at 0, 3 s of CPU after 10 s: 0.3 cores on average since it started.
    const first = sampler.sample([reading('c', 3, 10_000)], undefined, 10_000);
    expect(first.pods).toEqual([{ namespace: 'default', name: 'busy', uid: 'uid-1', containers: [{ name: 'c', cpuNanoCores: 300_000_000, memoryBytes: 8 * 1024 * 1024 }] }]);
    expect(first.windowSeconds).toBe(15);
    // 15 s later it used 15 s more: one full core over the window.
    const second = sampler.sample([reading('c', 18, 25_000)], undefined, 25_000);
    expect(second.pods[0]!.containers[0]!.cpuNanoCores).toBe(1e9);
    expect(second.usage).toEqual({ cpuNanoCores: 1e9, memoryBytes: 8 * 1024 * 1024 });
    expect(second.windowSeconds).toBe(15);
    expect(second.timestamp).toBe(new Date(25_000).toISOString());
  });

  it('starts a restarted container (a new instance) over from its own start', () => {
    const sampler = new MetricsSampler('n1', 15_000);
    sampler.sample([reading('c', 100, 10_000)], undefined, 10_000);
    const after = sampler.sample([reading('c', 1, 25_000, { instanceId: 'id-2', startedAtMs: 20_000 })], undefined, 25_000);
    expect(after.pods[0]!.containers[0]!.cpuNanoCores).toBe(200_000_000);
  });

  it('leaves out a pod whose container cannot be rated yet, and counts the agent process in the node', () => {
    const sampler = new MetricsSampler('n1', 15_000);
    // Read at its own start instant: no time has passed, so no rate.
    const report = sampler.sample([reading('a', 1, 10_000), reading('b', 0, 10_000, { startedAtMs: 10_000 })], undefined, 10_000);
    expect(report.pods).toEqual([]);
    const agent: ProcessReading = { cpu: { usageNanoSeconds: 2e9, atMs: 20_000 }, memoryBytes: 50 * 1024 * 1024, startedAtMs: 0 };
    const withAgent = new MetricsSampler('n1', 15_000).sample([reading('a', 2, 20_000)], agent, 20_000);
    expect(withAgent.usage).toEqual({ cpuNanoCores: 200_000_000, memoryBytes: 58 * 1024 * 1024 });
  });
});
