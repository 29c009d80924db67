/**
 * The garbage collector end to end: real kubectl against `coracle up`, ConfigMaps owning other
 * ConfigMaps through ownerReferences, deleted with each `--cascade` policy. Needs dist/.
 */
import { jest } from '@jest/globals';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl as run, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(120_000);

let cluster: Cluster;
const kubectl = (args: string[], input?: string): Promise<KubectlResult> => run(args, { kubeconfig: cluster.kubeconfigPath, input });

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});

/** family creates an owner ConfigMap and `n` dependents (blockOwnerDeletion as given); answers the owner's uid. */
async function family(owner: string, n: number, blockOwnerDeletion: boolean): Promise<string> {
  expect((await kubectl(['create', 'configmap', owner])).code).toBe(0);
  const uid = (await kubectl(['get', 'configmap', owner, '-o', 'jsonpath={.metadata.uid}'])).stdout;
  expect(uid).toMatch(/^[0-9a-f-]{36}$/);
  const docs = Array.from({ length: n }, (_, i) => JSON.stringify({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: `${owner}-dep-${i}`, labels: { family: owner }, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid, blockOwnerDeletion }] },
  }));
  const applied = await kubectl(['apply', '-f', '-'], docs.join('\n---\n'));
  expect(applied.stderr).toBe('');
  return uid;
}

async function dependents(owner: string): Promise<Array<{ metadata: { name: string; ownerReferences?: unknown[] } }>> {
  const res = await kubectl(['get', 'configmaps', '-l', `family=${owner}`, '-o', 'json']);
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout).items;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('--cascade=background deletes the owner at once and its dependents shortly after', async () => {
  await family('bg', 3, false);
  const res = await kubectl(['delete', 'configmap', 'bg', '--cascade=background']);
  expect(res).toMatchObject({ code: 0, stdout: 'configmap "bg" deleted from default namespace\n' });
  await eventually(async () => (await dependents('bg')).length === 0);
});

test('--cascade=foreground returns once the dependents and then the owner are gone', async () => {
  await family('fg', 3, true);
  const res = await kubectl(['delete', 'configmap', 'fg', '--cascade=foreground']);
  expect(res).toMatchObject({ code: 0, stdout: 'configmap "fg" deleted from default namespace\n' });
  // kubectl waited for the owner, which goes only after its blocking dependents.
  expect(await dependents('fg')).toEqual([]);
  expect((await kubectl(['get', 'configmap', 'fg'])).stderr).toContain('NotFound');
});

test('--cascade=orphan leaves the dependents, without the owner reference', async () => {
  await family('or', 2, true);
  const res = await kubectl(['delete', 'configmap', 'or', '--cascade=orphan']);
  expect(res).toMatchObject({ code: 0, stdout: 'configmap "or" deleted from default namespace\n' });
  expect((await kubectl(['get', 'configmap', 'or'])).stderr).toContain('NotFound');
  const left = await dependents('or');
  expect(left.map((d) => d.metadata.name).sort()).toEqual(['or-dep-0', 'or-dep-1']);
  for (const d of left) expect(d.metadata.ownerReferences).toBeUndefined();
});

test('a dependent whose owner does not exist is collected', async () => {
  const doc = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', labels: { family: 'stray' }, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never', uid: '00000000-0000-0000-0000-000000000001' }] } };
  expect((await kubectl(['apply', '-f', '-'], JSON.stringify(doc))).code).toBe(0);
  await eventually(async () => (await dependents('stray')).length === 0);
});
