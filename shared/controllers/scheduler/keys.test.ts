import { describe, expect, it } from '@jest/globals';
import type { Change } from '../change.js';
import { testNode, testPod } from '../../scheduler/testing.js';
import { isPendingPod, SCHEDULER_KEY, schedulerKeys } from './keys.js';

const put = (value: Record<string, unknown>, prevValue?: Record<string, unknown>): Change => ({ key: 'k', type: 'put', value, prevValue, revision: 1 });
const del = (value: Record<string, unknown>): Change => ({ key: 'k', type: 'delete', value, revision: 1 });

describe('isPendingPod', () => {
  it('is true only for unbound, live, unfinished pods of the default scheduler', () => {
    expect(isPendingPod(testPod('p'))).toBe(true);
    expect(isPendingPod(testPod('p', { spec: { schedulerName: 'default-scheduler' } }))).toBe(true);
    expect(isPendingPod(testPod('p', { nodeName: 'n' }))).toBe(false);
    expect(isPendingPod(testPod('p', { spec: { schedulerName: 'other' } }))).toBe(false);
    expect(isPendingPod(testPod('p', { phase: 'Failed' }))).toBe(false);
    expect(isPendingPod({ ...testPod('p'), metadata: { name: 'p', deletionTimestamp: '2026-01-01T00:00:00Z' } })).toBe(false);
  });
});

describe('schedulerKeys', () => {
  it('wakes for pending pods and for pods leaving a node', () => {
    expect(schedulerKeys(put(testPod('p')))).toEqual([SCHEDULER_KEY]);
    const unschedulable = { ...testPod('p'), status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } };
    expect(schedulerKeys(put(unschedulable, testPod('p')))).toEqual([]);
    expect(schedulerKeys(put(testPod('p', { cpu: '1' }), testPod('p')))).toEqual([SCHEDULER_KEY]);
    expect(schedulerKeys(put(testPod('p', { labels: { a: 'b' } }), testPod('p')))).toEqual([SCHEDULER_KEY]);
    const running = testPod('p', { nodeName: 'n', phase: 'Running' });
    expect(schedulerKeys(put(running, running))).toEqual([]);
    expect(schedulerKeys(put(testPod('p', { nodeName: 'n', phase: 'Succeeded' }), running))).toEqual([SCHEDULER_KEY]);
    expect(schedulerKeys(del(running))).toEqual([SCHEDULER_KEY]);
    expect(schedulerKeys(del(testPod('p')))).toEqual([]);
  });

  it('wakes for new nodes and changes that matter, not for heartbeats', () => {
    const node = testNode('n');
    expect(schedulerKeys(put(node))).toEqual([SCHEDULER_KEY]);
    const beat = structuredClone(node) as any;
    beat.status.conditions[0].lastHeartbeatTime = '2026-01-01T00:00:10Z';
    expect(schedulerKeys(put(beat, node))).toEqual([]);
    expect(schedulerKeys(put(testNode('n', { ready: false }), node))).toEqual([SCHEDULER_KEY]);
    expect(schedulerKeys(put(node, testNode('n', { unschedulable: true })))).toEqual([SCHEDULER_KEY]);
    expect(schedulerKeys(put(testNode('n', { cpu: '8' }), node))).toEqual([SCHEDULER_KEY]);
    expect(schedulerKeys(put(testNode('n', { labels: { disk: 'ssd' } }), node))).toEqual([SCHEDULER_KEY]);
    expect(schedulerKeys(del(node))).toEqual([]);
    expect(schedulerKeys(put({ kind: 'ConfigMap', metadata: { name: 'x' } }))).toEqual([]);
  });
});
