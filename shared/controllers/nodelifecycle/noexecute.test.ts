import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import { evictionDeadline, planNoExecuteEvictions, type NoExecuteToleration } from './noexecute.js';
import type { NodeTaint } from './health.js';

const T0 = Date.parse('2026-05-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const unreachable: NodeTaint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-05-01T10:00:00Z' };
const defaulted = (seconds = 300): NoExecuteToleration[] => [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
];
const pod = (name: string, tolerations: NoExecuteToleration[], deleting = false): KubeObject => ({
  kind: 'Pod', metadata: { name, namespace: 'default', ...(deleting ? { deletionTimestamp: '2026-05-01T09:00:00Z' } : {}) }, spec: { tolerations },
});

describe('toleration timing', () => {
  it('counts tolerationSeconds from the taint\'s timeAdded', () => {
    expect(evictionDeadline(defaulted(300), [unreachable])).toBe(at(300).getTime());
  });
  it('evicts at once without a matching toleration, never with an unlimited one', () => {
    expect(evictionDeadline([], [unreachable])).toBe(0);
    expect(evictionDeadline([{ key: 'other', operator: 'Exists' }], [unreachable])).toBe(0);
    expect(evictionDeadline([{ operator: 'Exists' }], [unreachable])).toBe(Infinity);
    expect(evictionDeadline([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }], [unreachable])).toBe(Infinity);
  });
  it('takes the smallest limit among matching tolerations, and a negative one as zero', () => {
    expect(evictionDeadline([{ operator: 'Exists' }, ...defaulted(60)], [unreachable])).toBe(at(60).getTime());
    expect(evictionDeadline(defaulted(-5), [unreachable])).toBe(at(0).getTime());
  });
  it('ignores NoSchedule taints, and tolerations for another effect do not match', () => {
    expect(evictionDeadline([], [{ key: 'x', effect: 'NoSchedule' }])).toBe(Infinity);
    expect(evictionDeadline([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }], [unreachable])).toBe(0);
  });
  it('reads a taint without timeAdded as added long ago', () => {
    expect(evictionDeadline(defaulted(300), [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }])).toBe(300_000);
  });
});

describe('planNoExecuteEvictions', () => {
  const pods = [pod('short', defaulted(15)), pod('default', defaulted(300)), pod('forever', [{ operator: 'Exists' }]), pod('none', []), pod('going', [], true)];
  const names = (list: readonly KubeObject[]) => list.map((p) => (p.metadata as { name: string }).name);

  it('evicts what is due, skips terminating pods, and says when to look again', () => {
    const early = planNoExecuteEvictions(pods, [unreachable], at(10));
    expect(names(early.evict)).toEqual(['none']);
    expect(early.nextAt).toBe(at(15).getTime());
    const later = planNoExecuteEvictions(pods, [unreachable], at(15));
    expect(names(later.evict)).toEqual(['short', 'none']);
    expect(later.nextAt).toBe(at(300).getTime());
  });
  it('does nothing on a node without NoExecute taints', () => {
    expect(planNoExecuteEvictions(pods, [{ key: 'x', effect: 'NoSchedule' }], at(1000))).toEqual({ evict: [] });
  });
});
