import { describe, expect, it } from '@jest/globals';
import { statsFromDocker, workingSetBytes } from './stats.js';
import { LABELS } from './containers.js';

describe('moby stats', () => {
  it('counts the working set as usage less inactive file pages (cgroup v1 and v2), never below zero', () => {
    expect(workingSetBytes({ usage: 100, stats: { total_inactive_file: 30, inactive_file: 99 } })).toBe(70);
    expect(workingSetBytes({ usage: 100, stats: { inactive_file: 40 } })).toBe(60);
    expect(workingSetBytes({ usage: 10, stats: { inactive_file: 40 } })).toBe(0);
    expect(workingSetBytes(undefined)).toBe(0);
  });

  it('reads the cumulative CPU counter, the read time and the pod from the labels', () => {
    const labels = { [LABELS.podNamespace]: 'ns', [LABELS.podName]: 'p', [LABELS.podUid]: 'u', [LABELS.container]: 'c' };
    const stats = statsFromDocker({ Id: 'abc', Labels: labels, Created: 1_700_000_000 }, {
      read: '2026-12-06T10:00:00.250Z', cpu_stats: { cpu_usage: { total_usage: 123456789 } }, memory_stats: { usage: 2048, stats: { inactive_file: 1024 } },
    }, 0);
    expect(stats).toEqual({
      namespace: 'ns', podName: 'p', podUid: 'u', container: 'c', instanceId: 'abc', startedAtMs: 1_700_000_000_000,
      cpuUsageNanoSeconds: 123456789, memoryWorkingSetBytes: 1024, atMs: Date.parse('2026-12-06T10:00:00.250Z'),
    });
    expect(statsFromDocker({ Id: 'x', Labels: labels, Created: 0 }, { read: '0001-01-01T00:00:00Z' }, 5)).toBeUndefined();
  });
});
