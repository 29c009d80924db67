import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../api/objects.js';
import { gateDecision, isFinished, progressOf, runSpecOf, surgeFor, undrainableOutcome, upgradeRunUpdateCauses, validateUpgradeRun, withNodeStep, drainDeadlinePassed, type RunNode } from './run.js';
import { availableUpgrades, poolNodes, previewUpgrade, type PreviewInput } from './preview.js';

const A = 'v1.35.0-coracle';
const B = 'v1.35.1-coracle';
const run = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({ apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata: { name: 'r' }, spec, ...(status ? { status } : {}) });
const fields = (obj: KubeObject) => validateUpgradeRun(obj).map((c) => `${c.field}: ${c.message}`);

describe('UpgradeRun validation', () => {
  it('needs a release target, a known scope, and a pool exactly when scoped to one', () => {
    expect(fields(run({ targetVersion: B }))).toEqual([]);
    expect(fields(run({}))).toEqual(['spec.targetVersion: Required value']);
    expect(fields(run({ targetVersion: 'latest', scope: 'Everything' }))).toEqual([
      'spec.targetVersion: Invalid value: "latest": must be a release version such as v1.35.0-coracle',
      'spec.scope: Unsupported value: "Everything": supported values: "Cluster", "ControlPlane", "Pool"',
    ]);
    expect(fields(run({ targetVersion: B, scope: 'Pool' }))).toEqual(['spec.pool: Required value: a pool is required when scope is Pool']);
    expect(fields(run({ targetVersion: B, pool: 'node' }))).toEqual(['spec.pool: Forbidden: may only be set when scope is Pool']);
    expect(fields(run({ targetVersion: B, paused: 'yes' }))).toEqual(['spec.paused: Invalid value: "yes": must be a boolean']);
  });

  it('keeps the target immutable and cancel final; pause may go back and forth', () => {
    const old = run({ targetVersion: B, scope: 'Cluster', cancel: true });
    expect(upgradeRunUpdateCauses(run({ targetVersion: B, scope: 'Cluster', cancel: false }), old).map((c) => c.field)).toEqual(['spec.cancel']);
    expect(upgradeRunUpdateCauses(run({ targetVersion: 'v1.36.0-coracle', scope: 'Cluster', cancel: true }), old).map((c) => c.field)).toEqual(['spec.targetVersion']);
    const paused = run({ targetVersion: B, scope: 'Cluster', paused: true });
    expect(upgradeRunUpdateCauses(run({ targetVersion: B, scope: 'Cluster', paused: false }), paused)).toEqual([]);
  });

  it('reads defaults and finished phases', () => {
    expect(runSpecOf(run({ targetVersion: B }))).toEqual({ targetVersion: B, scope: 'Cluster', pool: undefined, force: false, paused: false, cancel: false });
    expect(isFinished(run({}, { phase: 'Pools' }))).toBe(false);
    expect(isFinished(run({}, { phase: 'Paused' }))).toBe(false);
    expect(['Succeeded', 'Failed', 'Cancelled'].every((phase) => isFinished(run({}, { phase })))).toBe(true);
  });
});

describe('run decisions', () => {
  it('cancel wins over pause at a step boundary', () => {
    expect(gateDecision(runSpecOf(run({ targetVersion: B })))).toBe('continue');
    expect(gateDecision(runSpecOf(run({ targetVersion: B, paused: true })))).toBe('pause');
    expect(gateDecision(runSpecOf(run({ targetVersion: B, paused: true, cancel: true })))).toBe('cancel');
  });

  it('counts replaced nodes and sets one node\'s step', () => {
    const nodes: RunNode[] = ['node-1', 'node-2', 'node-3'].map((name) => ({ name, pool: 'node', fromVersion: A, toVersion: B, step: 'Waiting' }));
    let next = withNodeStep(nodes, 'node-1', 'Draining', 'evicting 2 pod(s)');
    expect(next[0]).toEqual({ name: 'node-1', pool: 'node', fromVersion: A, toVersion: B, step: 'Draining', message: 'evicting 2 pod(s)' });
    next = withNodeStep(next, 'node-1', 'Replaced');
    next = withNodeStep(next, 'node-2', 'Undrainable', 'PodDisruptionBudget default/web');
    expect(next[0]).not.toHaveProperty('message');
    expect(progressOf(next)).toEqual({ done: 1, total: 3 });
    expect(nodes[0]!.step).toBe('Waiting');
  });

  it('surges at most the batch, times drains out, and follows undrainableNodeBehavior', () => {
    expect(surgeFor(1, 2)).toBe(1);
    expect(surgeFor(3, 2)).toBe(2);
    expect(drainDeadlinePassed(0, 29_999, 30)).toBe(false);
    expect(drainDeadlinePassed(0, 30_000, 30)).toBe(true);
    expect(undrainableOutcome('Cordon')).toEqual({ uncordon: false, stopRun: false });
    expect(undrainableOutcome('Schedule')).toEqual({ uncordon: true, stopRun: true });
  });
});

const node = (name: string, version = A): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { nodeInfo: { kubeletVersion: version } } });
const pod = (name: string, nodeName: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } }, spec: { nodeName },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});
const pdb = (minAvailable: number): KubeObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable, selector: { matchLabels: { app: 'web' } } } });
const input = (over: Partial<PreviewInput> = {}): PreviewInput => ({
  spec: runSpecOf(run({ targetVersion: B })),
  cluster: { apiVersion: 'coracle.io/v1', kind: 'Cluster', metadata: { name: 'local' }, spec: { version: A }, status: { controlPlaneVersion: A } },
  catalog: [A, B], nodePools: [{ apiVersion: 'coracle.io/v1', kind: 'NodePool', metadata: { name: 'node' }, spec: { version: A } }],
  nodes: [node('node-1'), node('node-2'), node('node-3'), node('other-1')], pods: ['node-1', 'node-2', 'node-3'].map((n, i) => pod(`web-${i}`, n)), pdbs: [], ...over,
});

describe('previewUpgrade', () => {
  it('plans the control plane step, then the pool (its nodes only), and may start', () => {
    const plan = previewUpgrade(input());
    expect(plan.controlPlane).toEqual({ fromVersion: A, toVersion: B });
    expect(plan.pools.map((p) => p.batches.map((b) => b.map((n) => n.name)))).toEqual([[['node-1'], ['node-2'], ['node-3']]]);
    expect(plan).toMatchObject({ problems: [], canStart: true });
  });

  it('names every problem: not in the catalog, a skipped minor, an unknown pool', () => {
    expect(previewUpgrade(input({ spec: runSpecOf(run({ targetVersion: 'v1.37.0-coracle' })) })).problems.map((p) => p.type)).toEqual(['NotInCatalog', 'VersionSkew', 'VersionSkew']);
    expect(previewUpgrade(input({ spec: runSpecOf(run({ targetVersion: B, scope: 'Pool', pool: 'gpu' })) })).problems).toEqual([
      { type: 'UnknownPool', field: 'spec.pool', message: 'node pool "gpu" does not exist' },
    ]);
    // A pool alone may not pass the control plane.
    const poolOnly = previewUpgrade(input({ spec: runSpecOf(run({ targetVersion: B, scope: 'Pool', pool: 'node' })) }));
    expect(poolOnly.problems.map((p) => p.message)).toEqual([`node pool node: a node pool cannot be newer than the control plane (${B} > ${A})`]);
    expect(poolOnly.controlPlane).toBeUndefined();
  });

  it('refuses a blocking budget unless forced, and plans no pool for the control plane alone', () => {
    const blocked = previewUpgrade(input({ pdbs: [pdb(3)] }));
    expect(blocked.canStart).toBe(false);
    expect(blocked.problems).toEqual([expect.objectContaining({ type: 'BlockingBudget', field: 'spec.force', message: expect.stringContaining('PodDisruptionBudget default/web blocks the drain of node pool node: minAvailable 3') })]);
    expect(previewUpgrade(input({ pdbs: [pdb(3)], spec: runSpecOf(run({ targetVersion: B, force: true })) })).canStart).toBe(true);
    const cp = previewUpgrade(input({ pdbs: [pdb(3)], spec: runSpecOf(run({ targetVersion: B, scope: 'ControlPlane' })) }));
    expect(cp).toMatchObject({ pools: [], problems: [], canStart: true });
  });

  it('lists available upgrades one minor at a time and a pool\'s nodes by name', () => {
    expect(availableUpgrades([A, B, 'v1.36.0-coracle', 'v1.37.0-coracle', 'v1.34.0-coracle'], A)).toEqual([B, 'v1.36.0-coracle']);
    expect(poolNodes([node('node-1'), node('node-10'), node('nodes-1'), node('node-x')], 'node').map((n) => (n.metadata as { name: string }).name)).toEqual(['node-1', 'node-10']);
    const labelled = { ...node('pool00001x'), metadata: { name: 'pool00001x', labels: { 'coracle.io/nodepool': 'node' } } };
    expect(poolNodes([labelled, node('node-2')], 'node').map((n) => (n.metadata as { name: string }).name)).toEqual(['pool00001x', 'node-2']);
  });
});
