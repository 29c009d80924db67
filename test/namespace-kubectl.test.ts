/**
 * Namespace deletion end to end: real kubectl against `coracle up`. `kubectl delete namespace`
 * (which waits by default) returns once everything in it and then the namespace are gone; a
 * cluster killed in the middle of a namespace deletion finishes it after a restart. Needs dist/.
 */
import { jest } from '@jest/globals';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl as run, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(180_000);

let cluster: Cluster;
const kubectl = (args: string[], input?: string, timeoutMs?: number): Promise<KubectlResult> =>
  run(args, { kubeconfig: cluster.kubeconfigPath, input, timeoutMs });

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});

/** fill creates `n` ConfigMaps, an unbound pod and a pod bound to a node that has no agent in namespace `ns`. */
async function fill(ns: string, n: number): Promise<void> {
  expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
  const docs = Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns }, data: { i: String(i) } }));
  const pod = (name: string, nodeName?: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
  });
  const input = [...docs, pod('unbound'), pod('bound', 'no-such-node')].map((d) => JSON.stringify(d)).join('\n---\n');
  const applied = await kubectl(['apply', '-f', '-'], input);
  expect(applied).toMatchObject({ code: 0, stderr: '' });
}

async function namespaceGone(ns: string): Promise<boolean> {
  return (await kubectl(['get', 'namespace', ns])).stderr.includes('NotFound');
}

test('kubectl delete namespace returns once its content and then the namespace are gone', async () => {
  await fill('doomed', 5);
  const res = await kubectl(['delete', 'namespace', 'doomed'], undefined, 60_000);
  expect(res).toMatchObject({ code: 0, stdout: 'namespace "doomed" deleted\n' });
  expect(await namespaceGone('doomed')).toBe(true);
  const left = await kubectl(['get', 'configmaps,pods', '-n', 'doomed', '-o', 'name']);
  expect(left.stdout).toBe('');
});

test('a terminating namespace says what it waits for, and refuses new content', async () => {
  await fill('held', 1);
  const held = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: 'held', finalizers: ['example.com/hold'] } };
  expect((await kubectl(['apply', '-f', '-'], JSON.stringify(held))).code).toBe(0);
  expect((await kubectl(['delete', 'namespace', 'held', '--wait=false'])).code).toBe(0);
  let conditions: Array<{ type: string; status: string; message: string }> = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ns = JSON.parse((await kubectl(['get', 'namespace', 'held', '-o', 'json'])).stdout);
    expect(ns.status.phase).toBe('Terminating');
    conditions = ns.status.conditions ?? [];
    if (conditions.some((c) => c.type === 'NamespaceContentRemaining' && c.message === 'Some resources are remaining: configmaps. has 1 resource instances')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(conditions).toEqual(expect.arrayContaining([
    expect.objectContaining({ type: 'NamespaceFinalizersRemaining', status: 'True', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances' }),
  ]));
  const refused = await kubectl(['create', 'configmap', 'late', '-n', 'held']);
  expect(refused.stderr).toContain('because it is being terminated');
  // The last finalizer goes: the namespace finishes.
  expect((await kubectl(['patch', 'configmap', 'held', '-n', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}'])).code).toBe(0);
  expect((await kubectl(['wait', '--for=delete', 'namespace/held', '--timeout=30s'])).code).toBe(0);
});

test('a coracle up killed in the middle of a namespace deletion finishes it after a restart', async () => {
  await fill('interrupted', 40);
  expect((await kubectl(['delete', 'namespace', 'interrupted', '--wait=false'])).code).toBe(0);
  await cluster.kill('SIGKILL');
  await cluster.restart();
  const waited = await kubectl(['wait', '--for=delete', 'namespace/interrupted', '--timeout=60s'], undefined, 70_000);
  expect(waited.code).toBe(0);
  expect(await namespaceGone('interrupted')).toBe(true);
  expect((await kubectl(['get', 'configmaps', '-n', 'interrupted', '-o', 'name'])).stdout).toBe('');
});
