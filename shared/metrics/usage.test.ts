import { describe, expect, it } from '@jest/globals';
import { cpuQuantity, cpuRateNanoCores, memoryQuantity, reportProblems, windowDuration } from './usage.js';

describe('cpuRateNanoCores', () => {
  it('is the CPU time used between two samples over the time between them', () => {
    // 1.5 s of CPU in 3 s of wall time: half a core.
    expect(cpuRateNanoCores({ usageNanoSeconds: 10e9, atMs: 1_000 }, { usageNanoSeconds: 11.5e9, atMs: 4_000 })).toBe(500_000_000);
    // 2 ms of CPU in 1 s: 2 millicores.
    expect(cpuRateNanoCores({ usageNanoSeconds: 0, atMs: 0 }, { usageNanoSeconds: 2e6, atMs: 1_000 })).toBe(2_000_000);
  });

  it('is zero for an idle container and two cores for two busy ones', () => {
    expect(cpuRateNanoCores({ usageNanoSeconds: 5e9, atMs: 0 }, { usageNanoSeconds: 5e9, atMs: 15_000 })).toBe(0);
    expect(cpuRateNanoCores({ usageNanoSeconds: 0, atMs: 0 }, { usageNanoSeconds: 30e9, atMs: 15_000 })).toBe(2e9);
  });

  it('gives no rate when no time passed, time went back, or the counter restarted', () => {
    expect(cpuRateNanoCores({ usageNanoSeconds: 1, atMs: 5 }, { usageNanoSeconds: 2, atMs: 5 })).toBeUndefined();
    expect(cpuRateNanoCores({ usageNanoSeconds: 1, atMs: 5 }, { usageNanoSeconds: 2, atMs: 4 })).toBeUndefined();
    expect(cpuRateNanoCores({ usageNanoSeconds: 9e9, atMs: 0 }, { usageNanoSeconds: 1e9, atMs: 15_000 })).toBeUndefined();
  });
});

describe('quantities as metrics-server spells them', () => {
  it('CPU in nanocores, memory in kibibytes, windows as Go durations', () => {
    expect(cpuQuantity(1234567.4)).toBe('1234567n');
    expect(cpuQuantity(-3)).toBe('0n');
    expect(memoryQuantity(10 * 1024 * 1024 + 1000)).toBe('10240Ki');
    expect(windowDuration(15)).toBe('15s');
    expect(windowDuration(14.9821)).toBe('14.982s');
  });
});

describe('reportProblems', () => {
  const good = {
    apiVersion: 'coracle.io/v1', kind: 'NodeMetricsReport', metadata: { name: 'n1' }, timestamp: '2026-12-06T10:00:00Z', windowSeconds: 15,
    usage: { cpuNanoCores: 1, memoryBytes: 2 }, pods: [{ namespace: 'default', name: 'p', uid: 'u', containers: [{ name: 'c', cpuNanoCores: 0, memoryBytes: 5 }] }],
  };

  it('accepts a well-formed report', () => {
    expect(reportProblems(good)).toEqual([]);
  });

  it('names each bad field', () => {
    const bad = { ...good, windowSeconds: 0, usage: { cpuNanoCores: -1, memoryBytes: 2 }, pods: [{ namespace: 'default', name: '', uid: 'u', containers: [{ name: 'c', cpuNanoCores: 'x' }] }] };
    expect(reportProblems(bad).map((p) => p.field)).toEqual(['windowSeconds', 'usage', 'pods[0].name', 'pods[0].containers[0]']);
    expect(reportProblems({ ...good, timestamp: 'yesterday', pods: 3 }).map((p) => p.field)).toEqual(['timestamp', 'pods']);
    expect(reportProblems('x')).toEqual([{ field: '', message: 'must be an object' }]);
  });
});
