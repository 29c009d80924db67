/**
 * `@kubernetes/client-node` against `coracle up`: typed CoreV1/AppsV1 calls, a Watch, an
 * informer (list + watch), and a watch that resumes from its last resourceVersion after the
 * cluster restarts, receiving the changes made while it was away.
 */
import { jest } from '@jest/globals';
import {
  AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, Watch, makeInformer, setHeaderOptions, type V1ConfigMap,
} from '@kubernetes/client-node';
import { startCluster, type Cluster } from './support/cluster.js';

jest.setTimeout(60_000);

let cluster: Cluster;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;

beforeAll(async () => {
  cluster = await startCluster();
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
});
afterAll(async () => {
  await cluster?.destroy();
});

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cm = (name: string, data: Record<string, string> = {}): V1ConfigMap => ({ metadata: { name, labels: { suite: 'client-node' } }, data });

test('CoreV1Api: create, list with a selector, merge-patch, read, delete; NotFound as a 404 ApiException', async () => {
  await core.createNamespacedConfigMap({ namespace: 'default', body: cm('typed', { a: '1' }) });
  const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'suite=client-node' });
  expect(list.items.map((i) => i.metadata?.name)).toEqual(['typed']);
  expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
  await core.patchNamespacedConfigMap({ name: 'typed', namespace: 'default', body: { data: { b: '2' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  expect((await core.readNamespacedConfigMap({ name: 'typed', namespace: 'default' })).data).toEqual({ a: '1', b: '2' });
  await core.deleteNamespacedConfigMap({ name: 'typed', namespace: 'default' });
  await expect(core.readNamespacedConfigMap({ name: 'typed', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  const namespaces = await core.listNamespace();
  expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
});

test('AppsV1Api: create a deployment, scale it through the scale subresource, strategic-merge-patch it', async () => {
  const created = await apps.createNamespacedDeployment({ namespace: 'default', body: {
    metadata: { name: 'typed-web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'typed-web' } },
      template: { metadata: { labels: { app: 'typed-web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  } });
  expect(created.metadata?.generation).toBe(1);
  await apps.replaceNamespacedDeploymentScale({ name: 'typed-web', namespace: 'default',
    body: { metadata: { name: 'typed-web', namespace: 'default' }, spec: { replicas: 4 } } });
  expect((await apps.readNamespacedDeploymentScale({ name: 'typed-web', namespace: 'default' })).spec?.replicas).toBe(4);
  await apps.patchNamespacedDeployment({ name: 'typed-web', namespace: 'default',
    body: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] } } } } },
  setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  const d = await apps.readNamespacedDeployment({ name: 'typed-web', namespace: 'default' });
  expect([d.spec?.replicas, d.spec?.template.spec?.containers.map((c) => c.image), d.metadata?.generation]).toEqual([4, ['busybox:1.37'], 3]);
});

test('Watch and an informer see every change', async () => {
  const events: string[] = [];
  const watch = new Watch(kc);
  const start = await core.listNamespacedConfigMap({ namespace: 'default' });
  const req = await watch.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: start.metadata?.resourceVersion },
    (type: string, obj: V1ConfigMap) => events.push(`${type} ${obj.metadata?.name}`), () => undefined);
  const informer = makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  const seen: string[] = [];
  informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
  informer.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
  informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
  await informer.start();
  try {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('watched') });
    await core.patchNamespacedConfigMap({ name: 'watched', namespace: 'default', body: { data: { x: 'y' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
    await waitFor(() => events.includes('DELETED watched') && seen.includes('delete watched'));
    expect(events.filter((e) => e.endsWith(' watched'))).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
    expect(seen.filter((e) => e.endsWith(' watched'))).toEqual(['add watched', 'update watched', 'delete watched']);
    expect(informer.list().map((o) => o.metadata?.name)).not.toContain('watched');
  } finally {
    req.abort();
    await informer.stop();
  }
});

test('a watch resumes from its last resourceVersion after coracle up restarts', async () => {
  await core.createNamespacedConfigMap({ namespace: 'default', body: cm('r0') });
  const events: string[] = [];
  let lastRv = (await core.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion!;
  const onEvent = (type: string, obj: V1ConfigMap) => {
    events.push(`${type} ${obj.metadata?.name}`);
    lastRv = obj.metadata!.resourceVersion!;
  };
  let ended = false;
  const first = await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: lastRv }, onEvent, () => (ended = true));
  await core.createNamespacedConfigMap({ namespace: 'default', body: cm('r1') });
  await waitFor(() => events.includes('ADDED r1'));
  await cluster.stop();
  await waitFor(() => ended);
  first.abort();
  await cluster.restart();
  // Changes after the watcher's last event, made before it comes back.
  await core.createNamespacedConfigMap({ namespace: 'default', body: cm('r2') });
  await core.deleteNamespacedConfigMap({ name: 'r0', namespace: 'default' });
  const second = await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: lastRv }, onEvent, () => undefined);
  try {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('r3') });
    await waitFor(() => events.includes('ADDED r3'));
    expect(events.filter((e) => /r\d$/.test(e))).toEqual(['ADDED r1', 'ADDED r2', 'DELETED r0', 'ADDED r3']);
  } finally {
    second.abort();
  }
});
