/** Node object rendering: labels, conditions (transition times kept while a status holds), Lease MicroTime. */
import { describe, expect, it } from '@jest/globals';
import { buildLease, nodeConditions, nodeLabels, type NodeConfig } from './node.js';

const config: NodeConfig = { name: 'n1', cpu: 2, memoryBytes: 1 << 30, pods: 110, internalIP: '10.0.0.5', containerRuntimeVersion: 'simulated://0.1.0', arch: 'arm64' };

describe('node rendering', () => {
  it('labels: hostname, os, arch always; zone and instance type only when set; extra labels win', () => {
    expect(nodeLabels(config)).toEqual({
      'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64',
      'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'arm64',
    });
    const more = nodeLabels({ ...config, zone: 'z1', instanceType: 'big', labels: { 'kubernetes.io/os': 'plan9' } });
    expect(more['topology.kubernetes.io/zone']).toBe('z1');
    expect(more['node.kubernetes.io/instance-type']).toBe('big');
    expect(more['kubernetes.io/os']).toBe('plan9');
  });

  it('conditions: heartbeat moves, lastTransitionTime stays while the status holds and moves when it changes', () => {
    const first = nodeConditions(new Date('2026-01-01T00:00:00Z'));
    const later = nodeConditions(new Date('2026-01-01T00:01:00Z'), first);
    const ready = later.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'True', lastHeartbeatTime: '2026-01-01T00:01:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' });
    const wasNotReady = first.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c));
    expect(nodeConditions(new Date('2026-01-01T00:02:00Z'), wasNotReady).find((c) => c.type === 'Ready')!.lastTransitionTime).toBe('2026-01-01T00:02:00Z');
  });

  it('lease: renewTime is a MicroTime; a renewal keeps metadata (resourceVersion) of the previous copy', () => {
    const created = buildLease('n1', new Date('2026-01-01T00:00:00.123Z'));
    expect(created.spec).toEqual({ holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:00.123000Z' });
    const renewed = buildLease('n1', new Date('2026-01-01T00:00:10Z'), { ...created, metadata: { name: 'n1', namespace: 'kube-node-lease', resourceVersion: '7' } });
    expect(renewed.metadata).toMatchObject({ resourceVersion: '7' });
    expect((renewed.spec as Record<string, unknown>).renewTime).toBe('2026-01-01T00:00:10.000000Z');
  });
});
