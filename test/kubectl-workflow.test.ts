/**
 * The everyday kubectl workflow against `coracle up`: apply (client- and server-side), get in every
 * output format, describe, label/annotate, the three patch types, scale, replace with a stale
 * object, delete in each cascade mode, paging, explain, namespaces, and errors as kubectl prints them.
 */
import { jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl } from './support/kubectl.js';

jest.setTimeout(120_000);

let cluster: Cluster;
let tmp: string;
const k = (...args: string[]) => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
const kIn = (input: string, ...args: string[]) => kubectl(args, { kubeconfig: cluster.kubeconfigPath, input });
/** ok runs kubectl and expects success, returning stdout. */
async function ok(...args: string[]): Promise<string> {
  const r = await k(...args);
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  return r.stdout;
}

const MANIFEST = (replicas: number, mode: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  labels: {app: demo}
data:
  mode: ${mode}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
  labels: {app: demo}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: demo
spec:
  selector: {app: demo}
  ports:
  - port: 80
    targetPort: 8080
`;

beforeAll(async () => {
  [cluster, tmp] = await Promise.all([startCluster(), mkdtemp(path.join(os.tmpdir(), 'coracle-kw-'))]);
});
afterAll(async () => {
  await cluster?.destroy();
  await rm(tmp, { recursive: true, force: true });
});

async function manifest(name: string, text: string): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, text);
  return file;
}

describe('apply', () => {
  test('a multi-document file: created, then unchanged, then a three-way merge that keeps others\' fields', async () => {
    const v1 = await manifest('v1.yaml', MANIFEST(2, 'fast'));
    expect(await ok('apply', '-f', v1)).toBe('configmap/app-config created\ndeployment.apps/demo created\nservice/demo created\n');
    expect(await ok('apply', '-f', v1)).toBe('configmap/app-config unchanged\ndeployment.apps/demo unchanged\nservice/demo unchanged\n');
    expect(await ok('label', 'deployment', 'demo', 'team=blue')).toBe('deployment.apps/demo labeled\n');
    const v2 = await manifest('v2.yaml', MANIFEST(3, 'slow'));
    expect(await ok('apply', '-f', v2)).toBe('configmap/app-config configured\ndeployment.apps/demo configured\nservice/demo unchanged\n');
    const d = JSON.parse(await ok('get', 'deployment', 'demo', '-o', 'json'));
    expect([d.metadata.labels, d.spec.replicas]).toEqual([{ app: 'demo', team: 'blue' }, 3]);
    expect(await ok('get', 'configmap', 'app-config', '-o', 'jsonpath={.data.mode}')).toBe('slow');
  });

  test('--server-side: applied, then a conflict with another manager unless --force-conflicts', async () => {
    const v2 = await manifest('v2.yaml', MANIFEST(3, 'slow'));
    expect(await ok('apply', '--server-side', '-f', v2)).toContain('deployment.apps/demo serverside-applied');
    await ok('scale', 'deployment', 'demo', '--replicas=4');
    const v3 = await manifest('v3.yaml', MANIFEST(5, 'slow'));
    const conflict = await k('apply', '--server-side', '-f', v3);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
    expect(conflict.stderr).toContain('re-run the apply\n  command with the `--force-conflicts` flag');
    await ok('apply', '--server-side', '--force-conflicts', '-f', v3);
    expect(await ok('get', 'deployment', 'demo', '-o', 'jsonpath={.spec.replicas}')).toBe('5');
  });
});

describe('get and describe', () => {
  test('every output format', async () => {
    const wide = (await ok('get', 'deployment', 'demo', '-o', 'wide')).split('\n');
    expect(wide[0]!.split(/\s+/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    // The Deployment controller runs (its pods stay Pending: this cluster has no nodes), so UP-TO-DATE is anywhere from 0 to 5 while its pods are being created.
    expect(wide[1]).toMatch(/^demo\s+0\/5\s+[0-5]\s+0\s+\d+s\s+main\s+busybox:1\.36\s+app=demo$/);
    const svc = (await ok('get', 'service', 'demo')).split('\n');
    expect(svc[0]!.split(/\s+/)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(svc[1]).toMatch(/^demo\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/);
    expect(await ok('get', 'configmap', 'app-config', '-o', 'yaml')).toMatch(/^apiVersion: v1\ndata:\n {2}mode: slow\nkind: ConfigMap\n/);
    expect(JSON.parse(await ok('get', 'configmap', 'app-config', '-o', 'json')).metadata.labels).toEqual({ app: 'demo' });
    expect(await ok('get', 'deploy,svc,cm', '-l', 'app=demo', '-o', 'name')).toBe('deployment.apps/demo\nconfigmap/app-config\n');
    expect(await ok('get', 'deployment', 'demo', '-o', 'jsonpath={.metadata.name}:{.spec.template.spec.containers[0].ports[0].containerPort}'))
      .toBe('demo:80');
    expect(await ok('get', 'deployment', '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,IMAGE:.spec.template.spec.containers[0].image'))
      .toMatch(/^NAME\s+REPLICAS\s+IMAGE\ndemo\s+5\s+busybox:1\.36\n$/);
  });

  test('describe a pod, a deployment, a node and a namespace', async () => {
    await ok('run', 'solo', '--image=busybox', '--labels=app=solo', '--restart=Never');
    const pod = await ok('describe', 'pod', 'solo');
    expect(pod).toMatch(/^Name:\s+solo\nNamespace:\s+default\n/);
    expect(pod).toMatch(/Labels:\s+app=solo/);
    expect(pod).toMatch(/Status:\s+Pending/);
    expect(pod).toMatch(/Image:\s+busybox/);
    // Its pods stay Pending (no nodes); once the controller has created all five, describe shows them.
    await ok('wait', 'deployment/demo', '--for=jsonpath={.status.updatedReplicas}=5', '--timeout=60s');
    const deploy = await ok('describe', 'deployment', 'demo');
    expect(deploy).toMatch(/Replicas:\s+5 desired \| 5 updated \| 5 total \| 0 available \| 5 unavailable/);
    expect(deploy).toMatch(/RollingUpdateStrategy:\s+25% max unavailable, 25% max surge/);
    await kIn('apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\n  labels: {zone: a}\n', 'apply', '-f', '-');
    const node = await ok('describe', 'node', 'worker-1');
    expect(node).toMatch(/^Name:\s+worker-1\nRoles:\s+<none>\nLabels:\s+zone=a\n/);
    expect(node).toMatch(/Taints:\s+<none>/);
    expect(await ok('describe', 'namespace', 'default')).toMatch(/^Name:\s+default\nLabels:\s+kubernetes\.io\/metadata\.name=default\nAnnotations:\s+<none>\nStatus:\s+Active\n/);
  });
});

describe('change', () => {
  test('label and annotate, with --overwrite and removal', async () => {
    await ok('annotate', 'deployment', 'demo', 'note=one');
    const refused = await k('annotate', 'deployment', 'demo', 'note=two');
    expect(refused.stderr).toBe("error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (one)\n");
    await ok('annotate', 'deployment', 'demo', 'note=two', '--overwrite');
    expect(await ok('get', 'deployment', 'demo', '-o', 'jsonpath={.metadata.annotations.note}')).toBe('two');
    expect(await ok('annotate', 'deployment', 'demo', 'note-')).toBe('deployment.apps/demo annotated\n');
    expect(await ok('label', 'deployment', 'demo', 'team-')).toBe('deployment.apps/demo unlabeled\n');
    const meta = JSON.parse(await ok('get', 'deployment', 'demo', '-o', 'jsonpath={.metadata}'));
    expect([meta.labels, meta.annotations?.note]).toEqual([{ app: 'demo' }, undefined]);
  });

  test('patch: strategic (containers merged by name), merge and json', async () => {
    await ok('patch', 'deployment', 'demo', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"busybox:1.37"}]}}}}');
    await ok('patch', 'deployment', 'demo', '--type=merge', '-p', '{"metadata":{"labels":{"patched":"yes"}}}');
    await ok('patch', 'deployment', 'demo', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":1}]');
    const d = JSON.parse(await ok('get', 'deployment', 'demo', '-o', 'json'));
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect([d.spec.template.spec.containers[0].image, d.spec.template.spec.containers[0].ports, d.metadata.labels.patched, d.spec.replicas])
      .toEqual(['busybox:1.37', [{ containerPort: 80, protocol: 'TCP' }], 'yes', 1]);
  });

  test('scale, and replace with a stale object answers 409', async () => {
    expect(await ok('scale', 'deployment', 'demo', '--replicas=3')).toBe('deployment.apps/demo scaled\n');
    expect(await ok('get', 'deployment', 'demo', '-o', 'jsonpath={.spec.replicas}')).toBe('3');
    const stale = await manifest('stale.yaml', await ok('get', 'configmap', 'app-config', '-o', 'yaml'));
    await ok('label', 'configmap', 'app-config', 'touched=1');
    const r = await k('replace', '-f', stale);
    expect([r.code, r.stderr]).toEqual([1, `Error from server (Conflict): error when replacing "${stale}": Operation cannot be fulfilled on configmaps "app-config": the object has been modified; please apply your changes to the latest version and try again\n`]);
  });
});

describe('delete, paging, explain, namespaces', () => {
  test('delete plainly, with --cascade=background, foreground and orphan', async () => {
    for (const name of ['d-plain', 'd-bg', 'd-fg', 'd-orphan']) await ok('create', 'deployment', name, '--image=busybox');
    expect(await ok('delete', 'deployment', 'd-plain')).toBe('deployment.apps "d-plain" deleted from default namespace\n');
    await ok('delete', 'deployment', 'd-bg', '--cascade=background');
    expect((await k('get', 'deployment', 'd-plain')).code).toBe(1);
    expect((await k('get', 'deployment', 'd-bg')).code).toBe(1);
    // Foreground and orphan hand the object to the garbage collector: it carries a deletionTimestamp and
    // the mode's finalizer until the collector finishes (at once here: the deployments have no dependents).
    await ok('delete', 'deployment', 'd-fg', '--cascade=foreground', '--wait=false');
    await ok('delete', 'deployment', 'd-orphan', '--cascade=orphan', '--wait=false');
    for (const [name, finalizer] of [['d-fg', 'foregroundDeletion'], ['d-orphan', 'orphan']] as const) {
      const r = await k('get', 'deployment', name, '-o', 'jsonpath={.metadata}');
      if (r.code === 0) expect(JSON.parse(r.stdout)).toMatchObject({ finalizers: [finalizer], deletionTimestamp: expect.any(String) });
      else expect(r.stderr).toBe(`Error from server (NotFound): deployments.apps "${name}" not found\n`);
    }
  });

  test('--chunk-size=2 pages through 7 objects and gets all 7', async () => {
    await ok('create', 'namespace', 'paging');
    const docs = Array.from({ length: 7 }, (_, i) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `page-${i}` } }));
    expect((await kIn(docs.join('\n'), 'create', '-n', 'paging', '-f', '-')).code).toBe(0);
    const r = await k('get', 'configmaps', '-n', 'paging', '--chunk-size=2', '-o', 'name', '-v=6');
    expect(r.stdout.trim().split('\n').filter((l) => l.includes('page-'))).toHaveLength(7);
    expect(r.stderr.match(/limit=2/g)?.length).toBeGreaterThanOrEqual(4);
    expect(r.stderr).toContain('continue=');
  });

  test('explain', async () => {
    const out = await ok('explain', 'deployment.spec.replicas');
    expect(out).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n\nFIELD: replicas <integer>\n/);
  });

  test('create and delete a namespace (Terminating until the namespace controller finishes it)', async () => {
    expect(await ok('create', 'namespace', 'short-lived')).toBe('namespace/short-lived created\n');
    expect(await ok('delete', 'namespace', 'short-lived', '--wait=false')).toBe('namespace "short-lived" deleted\n');
    const r = await k('get', 'namespace', 'short-lived', '--no-headers');
    if (r.code === 0) expect(r.stdout).toMatch(/^short-lived\s+Terminating\s+\d+s\n$/);
    else expect(r.stderr).toBe('Error from server (NotFound): namespaces "short-lived" not found\n');
  });
});

describe('errors as kubectl prints them', () => {
  test('NotFound, AlreadyExists, unknown type, Invalid with field causes', async () => {
    expect((await k('get', 'pod', 'nope')).stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
    expect((await k('create', 'configmap', 'app-config')).stderr).toBe('error: failed to create configmap: configmaps "app-config" already exists\n');
    expect((await k('get', 'foos')).stderr).toBe('error: the server doesn\'t have a resource type "foos"\n');
    const bad = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  replicas: -1
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: x}]}
`;
    const r = await kIn(bad, 'apply', '-f', '-');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('The Deployment "bad" is invalid: \n* spec.replicas: Invalid value: -1: must be greater than or equal to 0\n' +
      '* spec.template.metadata.labels: Invalid value: {"app":"b"}: `selector` does not match template `labels`\n');
  });
});
