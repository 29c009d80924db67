import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { reconcileDeployment } from './reconcile.js';

const DEPLOYS = '/apis/apps/v1/namespaces/default/deployments';
const RSS = '/apis/apps/v1/namespaces/default/replicasets';
const PODS = '/api/v1/namespaces/default/pods';
const EVENTS = '/api/v1/namespaces/default/events';

let f: ControllerFixture;
let clock: Date;
beforeEach(async () => {
  clock = new Date('2026-05-01T10:00:00Z');
  f = await startControllerFixture(() => clock);
});
afterEach(async () => { await f.close(); });

const tick = (seconds: number) => { clock = new Date(clock.getTime() + seconds * 1000); };
const reconcile = () => reconcileDeployment('default/web', f.ctx);

function deployment(extra: { replicas?: number; image?: string; strategy?: unknown; annotations?: Record<string, string>; progressDeadlineSeconds?: number } = {}) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', annotations: extra.annotations },
    spec: {
      replicas: extra.replicas ?? 3, selector: { matchLabels: { app: 'web' } }, progressDeadlineSeconds: extra.progressDeadlineSeconds ?? 600,
      strategy: extra.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: extra.image ?? 'coracle/web:v1' }] } },
    },
  };
}

const replicaSets = async () => ((await f.get(RSS)).items as any[]).sort((a, b) => Number(a.metadata.annotations['deployment.kubernetes.io/revision']) - Number(b.metadata.annotations['deployment.kubernetes.io/revision']));
const sizes = async () => (await replicaSets()).map((rs) => `${rs.spec.template.spec.containers[0].image}=${rs.spec.replicas}`);
const deploy = () => f.get(`${DEPLOYS}/web`);
const condition = async (type: string) => ((await deploy()).status.conditions as any[]).find((c) => c.type === type);
const events = async () => ((await f.get(EVENTS)).items as any[]).map((e) => `${e.type} ${e.reason} ${e.message}`);

/** settle plays the ReplicaSet controller: each ReplicaSet reports `spec.replicas` pods, `ready` of them ready (default all). */
async function settle(ready: Record<string, number> = {}): Promise<void> {
  for (const rs of await replicaSets()) {
    const image = rs.spec.template.spec.containers[0].image;
    const n = Math.min(rs.spec.replicas, ready[image] ?? rs.spec.replicas);
    const status = { replicas: rs.spec.replicas, fullyLabeledReplicas: rs.spec.replicas, readyReplicas: n, availableReplicas: n, observedGeneration: rs.metadata.generation };
    const res = await f.harness.json('PATCH', `${RSS}/${rs.metadata.name}/status`, { status }, { 'content-type': 'application/merge-patch+json' });
    expect(res.status).toBe(200);
  }
}

async function setImage(image: string): Promise<void> {
  const res = await f.harness.json('PATCH', `${DEPLOYS}/web`, { spec: { template: { spec: { containers: [{ name: 'web', image }] } } } }, { 'content-type': 'application/strategic-merge-patch+json' });
  expect(res.status).toBe(200);
}

describe('deployment reconcile', () => {
  it('returns quietly for a Deployment that does not exist', async () => {
    expect(await reconcileDeployment('default/absent', f.ctx)).toBeUndefined();
    expect(f.takeWrites()).toEqual([]);
  });

  it('creates the first ReplicaSet with its revision, an event, and the Progressing condition; a second pass writes nothing', async () => {
    const [d] = await f.seed([DEPLOYS, deployment()]);
    const outcome = await reconcile();
    // As upstream: the status is written once with the new condition, once more with the counts.
    expect(f.takeWrites()).toEqual([`POST ${RSS}`, `POST ${EVENTS}`, `PATCH ${DEPLOYS}/web`, `PUT ${DEPLOYS}/web/status`, `PUT ${DEPLOYS}/web/status`]);
    const [rs] = await replicaSets();
    expect(rs.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(rs.spec.replicas).toBe(3);
    expect(rs.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
    expect((await deploy()).metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');
    expect(await condition('Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rs.metadata.name}"` });
    expect(await events()).toEqual([`Normal ScalingReplicaSet Scaled up replica set ${rs.metadata.name} from 0 to 3`]);
    expect(outcome?.requeueAfterMs).toBeGreaterThan(599_000);
    await reconcile();
    expect(f.takeWrites()).toEqual([]);
  });

  it('rolls out with maxSurge 1 / maxUnavailable 0 one pod at a time, never below 3 available, then reports success', async () => {
    await f.seed([DEPLOYS, deployment()]);
    await reconcile();
    await settle();
    await reconcile();
    expect(await condition('Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable' });
    await setImage('coracle/web:v2');
    await reconcile();
    expect(await sizes()).toEqual(['coracle/web:v1=3', 'coracle/web:v2=1']);
    await settle({ 'coracle/web:v2': 0 });
    await reconcile();
    expect(await sizes()).toEqual(['coracle/web:v1=3', 'coracle/web:v2=1']); // the new pod is not available yet
    const steps: string[] = [];
    for (let i = 0; i < 8 && (await condition('Progressing')).reason !== 'NewReplicaSetAvailable'; i++) {
      await settle();
      const available = (await replicaSets()).reduce((n, rs) => n + rs.status.availableReplicas, 0);
      expect(available).toBeGreaterThanOrEqual(3);
      await reconcile();
      steps.push((await sizes()).join(' '));
    }
    expect(steps).toEqual([
      'coracle/web:v1=2 coracle/web:v2=1', 'coracle/web:v1=2 coracle/web:v2=2', 'coracle/web:v1=1 coracle/web:v2=2',
      'coracle/web:v1=1 coracle/web:v2=3', 'coracle/web:v1=0 coracle/web:v2=3', 'coracle/web:v1=0 coracle/web:v2=3',
    ]);
    const d = await deploy();
    expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 2 });
    expect((await events()).filter((e) => e.includes('Scaled down'))).toHaveLength(3);
  });

  it('Recreate scales the old ReplicaSet to 0, waits for its pods to be gone, then starts the new one at full size', async () => {
    await f.seed([DEPLOYS, deployment({ strategy: { type: 'Recreate' } })]);
    await reconcile();
    await settle();
    await reconcile();
    const [old] = await replicaSets();
    await f.seed([PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'old-pod', labels: { app: 'web', 'pod-template-hash': old.metadata.labels['pod-template-hash'] }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: old.metadata.name, uid: old.metadata.uid, controller: true }] }, spec: { containers: [{ name: 'web', image: 'coracle/web:v1' }] } }]);
    await setImage('coracle/web:v2');
    expect((await reconcile())?.requeueAfterMs).toBeLessThanOrEqual(2000);
    expect(await sizes()).toEqual(['coracle/web:v1=0']);
    await settle();
    expect((await reconcile())?.requeueAfterMs).toBeLessThanOrEqual(2000); // old-pod is still there
    expect(await sizes()).toEqual(['coracle/web:v1=0']);
    await f.harness.json('DELETE', `${PODS}/old-pod?gracePeriodSeconds=0`);
    await reconcile();
    expect(await sizes()).toEqual(['coracle/web:v1=0', 'coracle/web:v2=3']);
  });

  it('when paused, makes no rollout progress but still scales, and says DeploymentPaused', async () => {
    await f.seed([DEPLOYS, deployment()]);
    await reconcile();
    await settle();
    await reconcile();
    await f.harness.json('PATCH', `${DEPLOYS}/web`, { spec: { paused: true } }, { 'content-type': 'application/merge-patch+json' });
    await setImage('coracle/web:v2');
    await reconcile();
    expect(await sizes()).toEqual(['coracle/web:v1=3']);
    expect(await condition('Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
    await f.harness.json('PATCH', `${DEPLOYS}/web/scale`, { spec: { replicas: 5 } }, { 'content-type': 'application/merge-patch+json' });
    await reconcile();
    expect(await sizes()).toEqual(['coracle/web:v1=5']);
    await f.harness.json('PATCH', `${DEPLOYS}/web`, { spec: { paused: false } }, { 'content-type': 'application/merge-patch+json' });
    await reconcile();
    expect(await sizes()).toEqual(['coracle/web:v1=5', 'coracle/web:v2=1']);
  });

  it('adopts an orphan ReplicaSet whose labels match', async () => {
    await f.seed([RSS, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-orphan', labels: { app: 'web' } }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: deployment().spec.template } }]);
    const [d] = await f.seed([DEPLOYS, deployment()]);
    await reconcile();
    const [rs] = await replicaSets();
    expect(rs.metadata.name).toBe('web-orphan');
    expect(rs.metadata.ownerReferences[0]).toMatchObject({ kind: 'Deployment', uid: d.metadata.uid, controller: true });
  });

  it('with coracle.io/auto-rollback, rolls a rollout that passed its deadline back to the last available revision, once', async () => {
    await f.seed([DEPLOYS, deployment({ progressDeadlineSeconds: 10, annotations: { 'coracle.io/auto-rollback': 'true' } })]);
    await reconcile();
    await settle();
    await reconcile();
    const [good] = await replicaSets();
    expect((await deploy()).metadata.annotations['coracle.io/last-available-replicaset']).toBe(good.metadata.name);
    await setImage('coracle/web:nope');
    await reconcile();
    await settle({ 'coracle/web:nope': 0 });
    tick(5);
    expect((await reconcile())?.requeueAfterMs).toBeGreaterThan(9000); // progress (1 updated replica) moved the deadline
    tick(9);
    await reconcile();
    expect(await condition('Progressing')).toMatchObject({ reason: 'ReplicaSetUpdated' });
    tick(2);
    await reconcile(); // timed out: status first, then the rollback in the same pass
    const d = await deploy();
    expect(d.spec.template.spec.containers[0].image).toBe('coracle/web:v1');
    expect(d.metadata.annotations).toMatchObject({ 'coracle.io/rolled-back-from': '2', 'coracle.io/rolled-back-to': '1' });
    expect(d.metadata.annotations['coracle.io/rollback-reason']).toMatch(/has timed out progressing/);
    expect(await condition('Progressing')).toMatchObject({ status: 'True', reason: 'RolledBack' });
    expect((await events()).filter((e) => e.startsWith('Warning RolledBack'))).toEqual([
      expect.stringMatching(/^Warning RolledBack Rolled back from revision 2 to revision 1 \(replica set web-\w+\): ReplicaSet "web-\w+" has timed out progressing\.$/),
    ]);
    await reconcile();
    await settle();
    await reconcile();
    expect(await sizes()).toEqual(['coracle/web:nope=0', 'coracle/web:v1=3']); // v1 is revision 3 now
    expect(await condition('Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable' });
    // The good revision failing later is not rolled back again (no loop).
    tick(60);
    await reconcile();
    expect((await events()).filter((e) => e.startsWith('Warning RolledBack'))).toHaveLength(1);
  });
});
