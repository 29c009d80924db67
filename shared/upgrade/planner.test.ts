import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../api/objects.js';
import { planPoolUpgrade, type PoolPlanInput } from './planner.js';
import { durationSeconds, resolveUpgradeSettings, upgradeSettingsProblems } from './settings.js';

const A = 'v1.35.0-coracle';
const B = 'v1.35.1-coracle';

const node = (name: string, version = A): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { nodeInfo: { kubeletVersion: version } } });
const pod = (name: string, nodeName: string, labels: Record<string, string> = { app: 'web' }, extra: Partial<{ ready: boolean; phase: string; grace: number; namespace: string }> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: extra.namespace ?? 'default', labels },
  spec: { nodeName, ...(extra.grace !== undefined ? { terminationGracePeriodSeconds: extra.grace } : {}) },
  status: { phase: extra.phase ?? 'Running', conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }] },
});
const pdb = (name: string, spec: Record<string, unknown>, expectedPods?: number): KubeObject => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(expectedPods !== undefined ? { status: { expectedPods } } : {}),
});
const web6 = ['node-1', 'node-1', 'node-2', 'node-2', 'node-3', 'node-3'].map((n, i) => pod(`web-${i}`, n));
const base = (over: Partial<PoolPlanInput> = {}): PoolPlanInput => ({
  pool: 'node', nodes: [node('node-1'), node('node-2'), node('node-3')], pods: web6, pdbs: [], target: B, controlPlaneVersion: B, ...over,
});

const problems = (s: Parameters<typeof upgradeSettingsProblems>[0]) => upgradeSettingsProblems(s).map((p) => `${p.field}: ${p.message}`);

describe('upgrade settings', () => {
  it('defaults as AKS: maxSurge 10% rounded up, maxUnavailable 0, drain 30m, soak 0, Cordon', () => {
    expect(resolveUpgradeSettings(undefined, 3)).toEqual({ surge: 1, unavailable: 0, drainTimeoutSeconds: 1800, soakSeconds: 0, undrainableNodeBehavior: 'Cordon' });
    expect(resolveUpgradeSettings(undefined, 20).surge).toBe(2);
    expect(resolveUpgradeSettings(undefined, 21).surge).toBe(3);
    expect(resolveUpgradeSettings({ maxSurge: '50%', maxUnavailable: '50%' }, 5)).toMatchObject({ surge: 3, unavailable: 2 });
    expect(resolveUpgradeSettings({ maxSurge: 0, maxUnavailable: 1 }, 5)).toMatchObject({ surge: 0, unavailable: 1 });
  });

  it('names each bad setting', () => {
    expect(problems({ maxSurge: 0, maxUnavailable: 0, drainTimeout: 'soon', nodeSoakDuration: '5m', undrainableNodeBehavior: 'Ignore' as 'Cordon' })).toEqual([
      'spec.upgradeSettings.maxSurge: Invalid value: 0: may not be 0 when maxUnavailable is 0',
      'spec.upgradeSettings.drainTimeout: Invalid value: "soon": must be a duration such as 30m, 1h or 90s',
      'spec.upgradeSettings.undrainableNodeBehavior: Unsupported value: "Ignore": supported values: "Cordon", "Schedule"',
    ]);
    expect(problems({ maxSurge: 'lots' })).toEqual(['spec.upgradeSettings.maxSurge: Invalid value: "lots": must be a non-negative integer or percentage']);
    expect([durationSeconds('1h30m'), durationSeconds('90s'), durationSeconds('0'), durationSeconds(''), durationSeconds('5d')]).toEqual([5400, 90, 0, undefined, undefined]);
  });
});

describe('planPoolUpgrade', () => {
  it('batches the old nodes one surge at a time and lists each drain\'s evictions', () => {
    const plan = planPoolUpgrade(base({ pods: [...web6, pod('done', 'node-1', {}, { phase: 'Succeeded' })] }));
    expect(plan.problems).toEqual([]);
    expect(plan.batches.map((b) => b.map((n) => n.name))).toEqual([['node-1'], ['node-2'], ['node-3']]);
    expect(plan.batches[0]![0]!.evictions.map((e) => e.name)).toEqual(['web-0', 'web-1']);
    expect(plan.surgeCapacityOk).toBe(true);
    // Per batch: node Ready 15 + grace 30 + pod Ready 5 + soak 0 + removal 5.
    expect(plan.estimateSeconds).toBe(3 * 55);
  });

  it('leaves nodes already at the target, and widens batches by maxSurge + maxUnavailable', () => {
    const plan = planPoolUpgrade(base({ nodes: [node('node-1', B), node('node-2'), node('node-3'), node('node-4'), node('node-5')], settings: { maxSurge: 2, maxUnavailable: 1, nodeSoakDuration: '1m' } }));
    expect(plan.upToDate).toEqual(['node-1']);
    expect(plan.batches.map((b) => b.map((n) => n.name))).toEqual([['node-2', 'node-3', 'node-4'], ['node-5']]);
    expect(plan.estimateSeconds).toBe((15 + 35 + 60 + 5) + (15 + 0 + 60 + 5));
  });

  it('names a budget that can never allow an eviction as blocking, with its reason', () => {
    const plan = planPoolUpgrade(base({ pdbs: [pdb('web-all', { minAvailable: 6 })] }));
    expect(plan.budgets).toEqual([{ budget: 'default/web-all', severity: 'blocks', nodes: ['node-1', 'node-2', 'node-3'],
      reason: 'minAvailable 6 requires all 6 pod(s) it covers to stay available: no eviction is ever allowed, so draining node-1, node-2, node-3 cannot finish' }]);
    expect(plan.problems).toEqual([`PodDisruptionBudget default/web-all blocks the drain: ${plan.budgets[0]!.reason}`]);
    expect(plan.batches[0]![0]!.evictions[0]!.budgets).toEqual(['default/web-all']);
    expect(planPoolUpgrade(base({ pdbs: [pdb('none', { maxUnavailable: 0 }, 6)] })).budgets[0]).toMatchObject({ severity: 'blocks' });
    expect(planPoolUpgrade(base({ pdbs: [pdb('pct', { minAvailable: '100%' }, 6)] })).budgets[0]).toMatchObject({ severity: 'blocks' });
  });

  it('lets minAvailable 5 of 6 through, and says when a budget holds drains for now', () => {
    expect(planPoolUpgrade(base({ pdbs: [pdb('web', { minAvailable: 5 })] })).budgets).toEqual([]);
    const unready = web6.map((p, i) => (i === 0 ? pod('web-0', 'node-1', { app: 'web' }, { ready: false }) : p));
    const plan = planPoolUpgrade(base({ pods: unready, pdbs: [pdb('web', { minAvailable: 5 })] }));
    expect(plan.budgets).toEqual([{ budget: 'default/web', severity: 'holds', nodes: ['node-1', 'node-2', 'node-3'],
      reason: 'minAvailable 5: 5 of 6 pod(s) healthy, 5 needed; it allows no disruption until more are Ready' }]);
    expect(plan.problems).toEqual([]);
  });

  it('ignores budgets whose pods are elsewhere (other namespace, other labels, up-to-date nodes)', () => {
    const pods = [pod('db-0', 'node-1', { app: 'db' }), pod('web-x', 'node-1', { app: 'web' }, { namespace: 'other' }), pod('web-new', 'node-9')];
    expect(planPoolUpgrade(base({ pods, pdbs: [pdb('web', { minAvailable: 1 })] })).budgets).toEqual([]);
  });

  it('refuses skew and missing surge capacity', () => {
    expect(planPoolUpgrade(base({ controlPlaneVersion: A })).problems).toEqual([`a node pool cannot be newer than the control plane (${B} > ${A})`]);
    const plan = planPoolUpgrade(base({ surgeCapacity: 0 }));
    expect(plan.surgeCapacityOk).toBe(false);
    expect(plan.problems).toEqual(['the pool needs 1 surge node(s) per batch and the provider can add 0']);
  });
});
