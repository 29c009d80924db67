import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import {
  isSilent, lastHeardFrom, nextTaints, NODE_STATUS_UNKNOWN_MESSAGE, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE,
  unknownConditions, wantedTaints,
} from './health.js';

const T0 = Date.parse('2026-05-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const iso = (s: number) => at(s).toISOString().replace(/\.\d{3}Z$/, 'Z');

function node(o: { ready?: string; heartbeat?: number; unschedulable?: boolean; taints?: unknown[]; pressure?: boolean } = {}): KubeObject {
  const conditions = [
    { type: 'MemoryPressure', status: o.pressure ? 'True' : 'False', lastHeartbeatTime: iso(o.heartbeat ?? 0), lastTransitionTime: iso(-100), reason: 'KubeletHasSufficientMemory' },
    ...(o.ready ? [{ type: 'Ready', status: o.ready, lastHeartbeatTime: iso(o.heartbeat ?? 0), lastTransitionTime: iso(-100), reason: 'KubeletReady', message: 'kubelet is posting ready status' }] : []),
  ];
  return { kind: 'Node', metadata: { name: 'n1', creationTimestamp: iso(-1000) }, spec: { unschedulable: o.unschedulable, taints: o.taints }, status: { conditions } };
}
const lease = (renew: number): KubeObject => ({ kind: 'Lease', spec: { renewTime: at(renew).toISOString(), leaseDurationSeconds: 40 } });

describe('lease staleness', () => {
  it('hears from the lease renewal, else the Ready heartbeat, else the creation', () => {
    expect(lastHeardFrom(node({ ready: 'True', heartbeat: 0 }), lease(30))).toBe(at(30).getTime());
    expect(lastHeardFrom(node({ ready: 'True', heartbeat: 50 }), lease(30))).toBe(at(50).getTime());
    expect(lastHeardFrom(node({ ready: 'True', heartbeat: 5 }), undefined)).toBe(at(5).getTime());
    expect(lastHeardFrom({ metadata: { creationTimestamp: iso(-1000) } }, undefined)).toBe(at(-1000).getTime());
  });

  it('is silent only past the grace period', () => {
    const n = node({ ready: 'True', heartbeat: 0 });
    expect(isSilent(n, lease(10), at(50), 40_000)).toBe(false);
    expect(isSilent(n, lease(10), at(51), 40_000)).toBe(true);
    expect(isSilent(n, lease(45), at(51), 40_000)).toBe(false);
  });
});

describe('conditions of a silent node', () => {
  it('turns every condition Unknown with NodeStatusUnknown, keeping heartbeats, transition now', () => {
    const next = unknownConditions((node({ ready: 'True', heartbeat: 0 }).status as { conditions: Record<string, unknown>[] }).conditions, at(60))!;
    expect(next).toHaveLength(2);
    for (const c of next) {
      expect(c).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: NODE_STATUS_UNKNOWN_MESSAGE, lastHeartbeatTime: iso(0), lastTransitionTime: iso(60) });
    }
    expect(unknownConditions(next, at(90))).toBeUndefined();
  });

  it('adds a Ready Unknown (NodeStatusNeverUpdated) to a node that never posted one', () => {
    const next = unknownConditions([], at(60))!;
    expect(next).toEqual([expect.objectContaining({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated' })]);
  });
});

describe('condition taints', () => {
  it('wants unreachable for Unknown, not-ready for False, nothing for True or no Ready condition yet, unschedulable when cordoned', () => {
    const keys = (n: KubeObject) => wantedTaints(n).map((t) => `${t.key}:${t.effect}`);
    expect(keys(node({ ready: 'True' }))).toEqual([]);
    expect(keys(node({ ready: 'Unknown' }))).toEqual([`${TAINT_UNREACHABLE}:NoSchedule`, `${TAINT_UNREACHABLE}:NoExecute`]);
    expect(keys(node({}))).toEqual([]); // never posted status: the monitor marks it Unknown after the grace period first
    expect(keys(node({ ready: 'False' }))).toEqual([`${TAINT_NOT_READY}:NoSchedule`, `${TAINT_NOT_READY}:NoExecute`]);
    expect(keys(node({ ready: 'True', unschedulable: true, pressure: true }))).toEqual(['node.kubernetes.io/memory-pressure:NoSchedule', `${TAINT_UNSCHEDULABLE}:NoSchedule`]);
  });

  it('adds missing taints (timeAdded on NoExecute only), keeps present ones and the user\'s, removes stale owned ones', () => {
    const user = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const unknown = node({ ready: 'Unknown', taints: [user] });
    const added = nextTaints([user], wantedTaints(unknown), at(60))!;
    expect(added).toEqual([user, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: iso(60) }]);
    // Nothing to do the next time: timeAdded is not refreshed.
    expect(nextTaints(added, wantedTaints(unknown), at(90))).toBeUndefined();
    // Unknown → False swaps unreachable for not-ready.
    const swapped = nextTaints(added, wantedTaints(node({ ready: 'False' })), at(95))!;
    expect(swapped.map((t) => t.key)).toEqual(['dedicated', TAINT_NOT_READY, TAINT_NOT_READY]);
    // Back to Ready: only the user's taint stays.
    expect(nextTaints(swapped, wantedTaints(node({ ready: 'True' })), at(120))).toEqual([user]);
  });
});
