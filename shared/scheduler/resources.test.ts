import { describe, expect, it } from '@jest/globals';
import { nodeAllocatable, nonZeroRequests, podRequests } from './resources.js';
import { testNode, testPod } from './testing.js';

const Mi = 1024 ** 2;

describe('podRequests', () => {
  it('sums the containers and counts one pod slot', () => {
    const pod = testPod('p', { spec: { containers: [
      { name: 'a', resources: { requests: { cpu: '250m', memory: '64Mi' } } },
      { name: 'b', resources: { requests: { cpu: '0.5', memory: '1Gi' } } },
    ] } });
    expect(podRequests(pod)).toEqual({ milliCpu: 750, memory: 64 * Mi + 1024 * Mi, pods: 1 });
  });

  it('takes a limit as the request where no request is set', () => {
    const pod = testPod('p', { spec: { containers: [{ name: 'a', resources: { limits: { cpu: '1', memory: '1Mi' }, requests: { memory: '512Ki' } } }] } });
    expect(podRequests(pod)).toEqual({ milliCpu: 1000, memory: 512 * 1024, pods: 1 });
  });

  it('takes the largest init container when it exceeds the containers, and adds overhead', () => {
    const pod = testPod('p', { spec: {
      containers: [{ name: 'a', resources: { requests: { cpu: '100m', memory: '10Mi' } } }],
      initContainers: [
        { name: 'i1', resources: { requests: { cpu: '2', memory: '1Mi' } } },
        { name: 'i2', resources: { requests: { cpu: '500m', memory: '50Mi' } } },
      ],
      overhead: { cpu: '10m', memory: '1Mi' },
    } });
    expect(podRequests(pod)).toEqual({ milliCpu: 2010, memory: 51 * Mi, pods: 1 });
  });

  it('adds restartable sidecar init containers to the running total', () => {
    const pod = testPod('p', { spec: {
      containers: [{ name: 'a', resources: { requests: { cpu: '100m' } } }],
      initContainers: [{ name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '200m' } } }, { name: 'init', resources: { requests: { cpu: '250m' } } }],
    } });
    // Running: 100m + 200m sidecar; while init runs: 250m + 200m sidecar.
    expect(podRequests(pod).milliCpu).toBe(450);
  });

  it('is zero for a pod without requests, and scoring substitutes defaults', () => {
    const r = podRequests(testPod('p'));
    expect(r).toEqual({ milliCpu: 0, memory: 0, pods: 1 });
    expect(nonZeroRequests(r)).toEqual({ milliCpu: 100, memory: 200 * Mi, pods: 1 });
  });
});

describe('nodeAllocatable', () => {
  it('reads allocatable, falling back to capacity', () => {
    expect(nodeAllocatable(testNode('n', { cpu: '3500m', memory: '2Gi', pods: '10' }))).toEqual({ milliCpu: 3500, memory: 2048 * Mi, pods: 10 });
    expect(nodeAllocatable({ status: { capacity: { cpu: '2', memory: '1Gi', pods: '5' } } })).toEqual({ milliCpu: 2000, memory: 1024 * Mi, pods: 5 });
    expect(nodeAllocatable({})).toEqual({ milliCpu: 0, memory: 0, pods: 0 });
  });
});
