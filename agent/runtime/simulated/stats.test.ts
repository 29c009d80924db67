import { describe, expect, it } from '@jest/globals';
import { createSimulatedRuntime, simulatedUsage } from './index.js';
import { MetricsSampler } from '../../metrics.js';

describe('simulated runtime usage', () => {
  it('reports each running hollow container at its small steady rate, through the same sampler as real nodes', async () => {
    let clock = Date.parse('2026-12-06T10:00:00Z');
    const runtime = createSimulatedRuntime({ nodeName: 'h1', startDelayMs: 0, now: () => clock });
    await runtime.createPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-p' }, spec: { nodeName: 'h1', containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] } });
    expect(await runtime.containerStats()).toEqual([]); // not running yet
    await new Promise((r) => setTimeout(r, 20));
    clock += 10_000;
    const sampler = new MetricsSampler('h1', 15_000);
    const first = sampler.sample(await runtime.containerStats(), undefined, clock);
    clock += 15_000;
    const second = sampler.sample(await runtime.containerStats(), undefined, clock);
    for (const report of [first, second]) {
      expect(report.pods).toHaveLength(1);
      for (const c of report.pods[0]!.containers) {
        const steady = simulatedUsage('uid-p', c.name);
        expect(Math.abs(c.cpuNanoCores - steady.cpuNanoCores)).toBeLessThanOrEqual(1);
        expect(c.memoryBytes).toBe(steady.memoryBytes);
      }
    }
    for (const name of ['a', 'b']) {
      const { cpuNanoCores, memoryBytes } = simulatedUsage('uid-p', name);
      expect(cpuNanoCores).toBeGreaterThanOrEqual(1_000_000);
      expect(cpuNanoCores).toBeLessThanOrEqual(5_000_000);
      expect(memoryBytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
      expect(memoryBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    }
    await runtime.close();
  });
});
