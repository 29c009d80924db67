import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import { budgetCovers, budgetNeedsScale, budgetStatus, expectedCounts, failSafeStatus, InvalidBudgetError, prunedDisruptedPods, scaledValue } from './budget.js';

const NOW = new Date('2026-05-01T10:00:00Z');
const pdb = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', generation: 2 },
  spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(status ? { status } : {}),
});
const pod = (name: string, o: { ready?: boolean; deleting?: boolean; labels?: Record<string, string>; namespace?: string } = {}): KubeObject => ({
  kind: 'Pod', metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-05-01T10:00:30Z' } : {}) },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

describe('IntOrString scaling', () => {
  it('reads ints as they are and rounds percentages up (or down when asked)', () => {
    expect(scaledValue(2, 10, true)).toBe(2);
    expect(scaledValue('50%', 3, true)).toBe(2);
    expect(scaledValue('50%', 3, false)).toBe(1);
    expect(scaledValue('34%', 3, true)).toBe(2);
    expect(scaledValue('0%', 3, true)).toBe(0);
    expect(() => scaledValue('half', 3, true)).toThrow(InvalidBudgetError);
  });
});

describe('expected and desired counts', () => {
  it('minAvailable int: desired is it, expected the matching pods', () => {
    expect(budgetNeedsScale(pdb({ minAvailable: 2 }))).toBe(false);
    expect(expectedCounts(pdb({ minAvailable: 2 }), 3)).toEqual({ expectedPods: 3, desiredHealthy: 2 });
  });
  it('minAvailable percent: of the controllers\' scale, rounded up', () => {
    expect(budgetNeedsScale(pdb({ minAvailable: '50%' }))).toBe(true);
    expect(expectedCounts(pdb({ minAvailable: '50%' }), 2, 5)).toEqual({ expectedPods: 5, desiredHealthy: 3 });
  });
  it('maxUnavailable int or percent (rounded up): desired is scale minus it, never below 0', () => {
    expect(budgetNeedsScale(pdb({ maxUnavailable: 1 }))).toBe(true);
    expect(expectedCounts(pdb({ maxUnavailable: 1 }), 3, 3)).toEqual({ expectedPods: 3, desiredHealthy: 2 });
    expect(expectedCounts(pdb({ maxUnavailable: '25%' }), 10, 10)).toEqual({ expectedPods: 10, desiredHealthy: 7 });
    expect(expectedCounts(pdb({ maxUnavailable: 5 }), 3, 3)).toEqual({ expectedPods: 3, desiredHealthy: 0 });
  });
});

describe('budget status', () => {
  it('counts Ready, non-terminating, not-disrupted pods and allows the surplus', () => {
    const pods = [pod('a'), pod('b'), pod('c'), pod('d', { ready: false }), pod('e', { deleting: true })];
    const { status } = budgetStatus(pdb({ minAvailable: 2 }), pods, NOW);
    expect(status).toMatchObject({ observedGeneration: 2, currentHealthy: 3, desiredHealthy: 2, expectedPods: 5, disruptionsAllowed: 1 });
    expect(status.conditions).toEqual([{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: '2026-05-01T10:00:00Z' }]);
  });
  it('allows nothing at the minimum (InsufficientPods), and keeps the transition time while it holds', () => {
    const first = budgetStatus(pdb({ minAvailable: 3 }), [pod('a'), pod('b'), pod('c')], NOW).status;
    expect(first).toMatchObject({ disruptionsAllowed: 0, conditions: [expect.objectContaining({ status: 'False', reason: 'InsufficientPods' })] });
    const later = budgetStatus(pdb({ minAvailable: 3 }, first as unknown as Record<string, unknown>), [pod('a'), pod('b')], new Date('2026-05-01T10:05:00Z')).status;
    expect(later.conditions[0]!.lastTransitionTime).toBe('2026-05-01T10:00:00Z');
  });
  it('excludes pods with a pending admitted eviction; drops entries for gone, terminating or expired pods', () => {
    const disruptedPods = { a: '2026-05-01T09:59:30Z', gone: '2026-05-01T09:59:30Z', e: '2026-05-01T09:59:30Z', old: '2026-05-01T09:50:00Z' };
    const pods = [pod('a'), pod('b'), pod('c'), pod('e', { deleting: true }), pod('old')];
    const { status, recheckAt } = budgetStatus(pdb({ minAvailable: 2 }, { disruptedPods }), pods, NOW);
    expect(status.disruptedPods).toEqual({ a: '2026-05-01T09:59:30Z' });
    expect(status).toMatchObject({ currentHealthy: 3, disruptionsAllowed: 1 });
    expect(recheckAt).toBe(Date.parse('2026-05-01T10:01:30Z'));
    expect(prunedDisruptedPods([], {}, NOW)).toEqual({ disruptedPods: {} });
  });
  it('allows nothing when nothing is expected', () => {
    expect(budgetStatus(pdb({ maxUnavailable: 1 }), [], NOW, 0).status.disruptionsAllowed).toBe(0);
  });
  it('fails safe: no disruptions, DisruptionAllowed False with SyncFailed', () => {
    const s = failSafeStatus(pdb({ maxUnavailable: 1 }, { disruptionsAllowed: 3, currentHealthy: 4 }), 'found no controller ref for pod "x"', NOW);
    expect(s).toMatchObject({ disruptionsAllowed: 0, currentHealthy: 4, conditions: [expect.objectContaining({ status: 'False', reason: 'SyncFailed', message: 'found no controller ref for pod "x"' })] });
  });
});

describe('coverage', () => {
  it('matches the selector in the budget\'s namespace; no selector covers nothing, an empty one everything', () => {
    expect(budgetCovers(pdb({}), pod('a'))).toBe(true);
    expect(budgetCovers(pdb({}), pod('a', { namespace: 'other' }))).toBe(false);
    expect(budgetCovers(pdb({}), pod('a', { labels: { app: 'db' } }))).toBe(false);
    expect(budgetCovers(pdb({ selector: undefined }), pod('a'))).toBe(false);
    expect(budgetCovers(pdb({ selector: {} }), pod('a', { labels: {} }))).toBe(true);
  });
});
