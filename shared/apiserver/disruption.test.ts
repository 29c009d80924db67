import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startApiServer, TOKEN, type Harness } from '../../test/support/apiserver.js';
import { ApiClient } from '../controllers/client.js';
import type { ControllerContext } from '../controllers/controller.js';
import { reconcileDisruptionBudget } from '../controllers/disruption/reconcile.js';
import { admitEvictionByBudgets } from './disruption.js';

const PODS = '/api/v1/namespaces/default/pods';
const RS = '/apis/apps/v1/namespaces/default/replicasets';
const PDBS = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';
let h: Harness;
let ctx: ControllerContext;
beforeEach(async () => {
  h = await startApiServer({ admitEviction: admitEvictionByBudgets });
  ctx = { client: new ApiClient(h.handler, { baseUrl: 'https://coracle.test', token: TOKEN }), now: () => new Date() };
});
afterEach(async () => { await h.close(); });

/** seedReplicaSet creates a ReplicaSet of `replicas` and that many Ready, Running pods it owns, bound to node-1. */
async function seedReplicaSet(replicas: number): Promise<void> {
  const rs = await h.json('POST', RS, {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.body.metadata.uid, controller: true };
  for (let i = 0; i < replicas; i++) {
    const created = await h.json('POST', PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}`, labels: { app: 'web' }, ownerReferences: [owner] },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx' }] },
    });
    await h.json('PUT', `${PODS}/web-${i}/status`, { ...created.body, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  }
}
async function seedBudget(spec: Record<string, unknown>): Promise<void> {
  await h.json('POST', PDBS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
  await reconcileDisruptionBudget('default/web', ctx);
}
const evict = (name: string, dryRun = false) => h.json('POST', `${PODS}/${name}/eviction${dryRun ? '?dryRun=All' : ''}`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } });
const budget = async () => (await h.json('GET', `${PDBS}/web`)).body;

describe('PodDisruptionBudget status controller', () => {
  it('keeps the status from the pods and the ReplicaSet\'s scale', async () => {
    await seedReplicaSet(4);
    await seedBudget({ maxUnavailable: '25%' });
    expect((await budget()).status).toMatchObject({ observedGeneration: 1, expectedPods: 4, desiredHealthy: 3, currentHealthy: 4, disruptionsAllowed: 1 });
    const before = (await budget()).metadata.resourceVersion;
    await reconcileDisruptionBudget('default/web', ctx);
    expect((await budget()).metadata.resourceVersion).toBe(before);
  });

  it('fails safe when a percentage needs a controller and a pod has none', async () => {
    await h.json('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    await seedBudget({ minAvailable: '50%' });
    expect((await budget()).status).toMatchObject({ disruptionsAllowed: 0, conditions: [expect.objectContaining({ reason: 'SyncFailed', message: 'found no controller ref for pod "bare"' })] });
  });
});

describe('eviction admission', () => {
  it('evicts within the budget, then answers 429 with the budget\'s cause', async () => {
    await seedReplicaSet(3);
    await seedBudget({ minAvailable: 2 });
    const first = await evict('web-0');
    expect(first.status).toBe(201);
    expect((await h.json('GET', `${PODS}/web-0`)).body.metadata.deletionTimestamp).toBeDefined();
    expect((await budget()).status).toMatchObject({ disruptionsAllowed: 0, disruptedPods: { 'web-0': expect.any(String) } });
    const second = await evict('web-1');
    expect(second.status).toBe(429);
    expect(second.body).toMatchObject({
      reason: 'TooManyRequests', message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 3 currently' }] },
    });
    // The controller sees web-0 terminating: it no longer counts, and nothing is allowed.
    await reconcileDisruptionBudget('default/web', ctx);
    expect((await budget()).status).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 0 });
    expect((await budget()).status.disruptedPods).toBeUndefined();
  });

  it('lets exactly one of two concurrent evictions spend the last disruption', async () => {
    await seedReplicaSet(3);
    await seedBudget({ minAvailable: 2 });
    const results = await Promise.all([evict('web-1'), evict('web-2')]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 429]);
    const status = (await budget()).status;
    expect(status.disruptionsAllowed).toBe(0);
    expect(Object.keys(status.disruptedPods)).toHaveLength(1);
  });

  it('does not charge the budget in a dry run, and refuses a budget not yet observed', async () => {
    await seedReplicaSet(3);
    await seedBudget({ minAvailable: 2 });
    expect((await evict('web-0', true)).status).toBe(201);
    expect((await budget()).status.disruptionsAllowed).toBe(1);
    const b = await budget();
    await h.json('PUT', `${PDBS}/web`, { ...b, spec: { ...b.spec, minAvailable: 1 } });
    const refused = await evict('web-0');
    expect(refused.status).toBe(429);
    expect(refused.body.details.causes[0].message).toBe('The disruption budget web is still being processed by the server.');
  });

  it('answers 500 for a pod covered by two budgets', async () => {
    await seedReplicaSet(3);
    await seedBudget({ minAvailable: 1 });
    await h.json('POST', PDBS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web2' }, spec: { selector: { matchLabels: { app: 'web' } }, minAvailable: 1 } });
    const res = await evict('web-0');
    expect(res.status).toBe(500);
    expect(res.body.message).toContain('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  });
});
