import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import { decideEviction, EVICTION_REFUSED_MESSAGE } from './eviction.js';

const NOW = new Date('2026-05-01T10:00:00Z');
const pdb = (status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
  kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', generation: 1 },
  spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } }, ...spec },
  status: { observedGeneration: 1, desiredHealthy: 2, expectedPods: 3, ...status },
});
const pod = (o: { ready?: boolean; phase?: string; deleting?: boolean; name?: string } = {}): KubeObject => ({
  kind: 'Pod', metadata: { name: o.name ?? 'web-a', namespace: 'default', ...(o.deleting ? { deletionTimestamp: '2026-05-01T10:00:30Z' } : {}) },
  status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

describe('eviction admission decision', () => {
  it('charges the budget: disruptionsAllowed - 1 and disruptedPods[pod] = now', () => {
    const verdict = decideEviction(pod(), [pdb({ disruptionsAllowed: 1, currentHealthy: 3 })], NOW);
    expect(verdict.allowed).toBe(true);
    if (!verdict.allowed) return;
    expect(verdict.charge!.status).toMatchObject({ disruptionsAllowed: 0, disruptedPods: { 'web-a': '2026-05-01T10:00:00Z' }, currentHealthy: 3 });
    expect(verdict.charge!.status.conditions).toEqual([expect.objectContaining({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' })]);
  });

  it('refuses with 429 TooManyRequests and the DisruptionBudget cause when no disruption is left', () => {
    const verdict = decideEviction(pod(), [pdb({ disruptionsAllowed: 0, currentHealthy: 2 })], NOW);
    expect(verdict.allowed).toBe(false);
    if (verdict.allowed) return;
    expect(verdict.error.toStatus()).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 429, reason: 'TooManyRequests', message: EVICTION_REFUSED_MESSAGE,
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }] },
    });
  });

  it('refuses while the budget status is behind its spec', () => {
    const verdict = decideEviction(pod(), [{ ...pdb({ disruptionsAllowed: 5 }), metadata: { name: 'web', namespace: 'default', generation: 2 } }], NOW);
    expect(verdict.allowed ? undefined : verdict.error.details?.causes?.[0]?.message).toBe('The disruption budget web is still being processed by the server.');
  });

  it('ignores budgets for terminating, finished and Pending pods, and admits pods no budget covers', () => {
    const none = pdb({ disruptionsAllowed: 0 });
    for (const p of [pod({ deleting: true }), pod({ phase: 'Succeeded' }), pod({ phase: 'Failed' }), pod({ phase: 'Pending' })]) {
      expect(decideEviction(p, [none], NOW)).toEqual({ allowed: true });
    }
    expect(decideEviction(pod(), [], NOW)).toEqual({ allowed: true });
  });

  it('evicts an unready pod without charging when the budget is met (IfHealthyBudget), else checks it', () => {
    expect(decideEviction(pod({ ready: false }), [pdb({ disruptionsAllowed: 0, currentHealthy: 2 })], NOW)).toEqual({ allowed: true });
    expect(decideEviction(pod({ ready: false }), [pdb({ disruptionsAllowed: 0, currentHealthy: 1 })], NOW).allowed).toBe(false);
    expect(decideEviction(pod({ ready: false }), [pdb({ disruptionsAllowed: 0, currentHealthy: 1 }, { unhealthyPodEvictionPolicy: 'AlwaysAllow' })], NOW)).toEqual({ allowed: true });
  });

  it('answers 500 for a pod covered by two budgets', () => {
    const verdict = decideEviction(pod(), [pdb({ disruptionsAllowed: 1 }), pdb({ disruptionsAllowed: 1 })], NOW);
    expect(verdict.allowed ? 0 : verdict.error.code).toBe(500);
  });

  it('does not charge twice for a pod already charged, nor at all in a dry run', () => {
    expect(decideEviction(pod(), [pdb({ disruptionsAllowed: 0, disruptedPods: { 'web-a': '2026-05-01T09:59:59Z' } })], NOW)).toEqual({ allowed: true });
    expect(decideEviction(pod(), [pdb({ disruptionsAllowed: 1, currentHealthy: 3 })], NOW, true)).toEqual({ allowed: true });
  });
});
