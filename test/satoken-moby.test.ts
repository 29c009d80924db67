/**
 * Issue 16's last part with real kubectl v1.35 and real containers, on one `coracle up --nodes 1`
 * (moby runtime on a private dockerd) for the whole file: a pod gets its ServiceAccount's projected
 * volume (token, ca.crt, namespace) mounted read-only; the token, read from inside the pod with
 * `kubectl exec`, authenticates as `system:serviceaccount:<ns>:<sa>`: 403 without a binding, the
 * pods once bound to `view`, called both from the test and from inside the container (busybox
 * `wget` to `https://kubernetes.default.svc`, through the node proxy's relay to the API server's
 * loopback address); the serving certificate verifies under that name with the pod's `ca.crt`;
 * once the pod is deleted its token gets 401; and
 * `automountServiceAccountToken: false` mounts nothing. Skipped, saying why, when no dockerd can run here.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import https from 'node:https';
import { clusterRequest, startCluster, type Cluster } from './support/cluster.js';
import { dockerUnavailable } from './support/docker.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';
import { until } from './support/until.js';

jest.setTimeout(180_000);

const why = dockerUnavailable();
const suite = why ? describe.skip : describe;
if (why) console.warn(`satoken-moby: skipped: no Docker engine can run here (${why})`);

const NS = 'sa-e2e';
const MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
let cluster: Cluster;
const k = (args: string[], input?: string): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath, input, timeoutMs: 90_000 });

/** runPod creates a busybox pod in NS that sleeps, and waits until it is Ready. */
async function runPod(name: string, spec: Record<string, unknown> = {}): Promise<void> {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'coracle/busybox', command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'] }], ...spec },
  };
  const created = await k(['create', '-f', '-'], JSON.stringify(pod));
  expect(created.stderr).toBe('');
  const ready = await k(['wait', '-n', NS, '--for=condition=Ready', `pod/${name}`, '--timeout=90s']);
  expect(ready.stderr).toBe('');
}

/** inPod runs a shell script in the pod's container. */
const inPod = (pod: string, script: string) => k(['exec', '-n', NS, pod, '--', 'sh', '-c', script]);


suite('pods call the API as their ServiceAccount (projected token, real containers)', () => {
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, timeoutMs: 120_000 });
    for (const args of [['create', 'namespace', NS], ['create', 'serviceaccount', 'robot', '-n', NS]]) expect((await k(args)).stderr).toBe('');
    await runPod('caller', { serviceAccountName: 'robot' });
  }, 170_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('mounts token, ca.crt and namespace read-only, and sets KUBERNETES_SERVICE_*', async () => {
    const pod = JSON.parse((await k(['get', 'pod', 'caller', '-n', NS, '-o', 'json'])).stdout);
    expect(pod.spec.serviceAccountName).toBe('robot');
    expect(pod.spec.volumes[0].name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(pod.spec.containers[0].volumeMounts).toEqual([{ name: pod.spec.volumes[0].name, readOnly: true, mountPath: MOUNT }]);
    const files = await inPod('caller', `ls ${MOUNT}; cat ${MOUNT}/namespace; echo; cat ${MOUNT}/ca.crt`);
    expect(files.stdout).toBe(`ca.crt\nnamespace\ntoken\n${NS}\n${cluster.caPem}`);
    const write = await inPod('caller', `echo x > ${MOUNT}/token`);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('Read-only file system');
    const env = await inPod('caller', 'echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT');
    expect(env.stdout).toMatch(/^\d+\.\d+\.\d+\.\d+:443\n$/);
    const cm = JSON.parse((await k(['get', 'configmap', 'kube-root-ca.crt', '-n', NS, '-o', 'json'])).stdout);
    expect(cm.data['ca.crt']).toBe(cluster.caPem);
  });

  it('authenticates the mounted token as the pod\'s ServiceAccount: 403 unbound, its pods once bound to view', async () => {
    const token = (await inPod('caller', `cat ${MOUNT}/token`)).stdout;
    const who = await clusterRequest(cluster, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
    });
    expect(who.status).toBe(201);
    expect(JSON.parse(who.body).status.userInfo).toMatchObject({ username: `system:serviceaccount:${NS}:robot`, extra: { 'authentication.kubernetes.io/pod-name': ['caller'] } });
    const refused = await clusterRequest(cluster, `/api/v1/namespaces/${NS}/pods`, { token });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toBe(`pods is forbidden: User "system:serviceaccount:${NS}:robot" cannot list resource "pods" in API group "" in the namespace "${NS}"`);
    expect((await k(['create', 'rolebinding', 'robot-view', '--clusterrole=view', `--serviceaccount=${NS}:robot`, '-n', NS])).stderr).toBe('');
    const listed = await clusterRequest(cluster, `/api/v1/namespaces/${NS}/pods`, { token });
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body).items.map((p: { metadata: { name: string } }) => p.metadata.name)).toContain('caller');
    const secrets = await clusterRequest(cluster, `/api/v1/namespaces/${NS}/secrets`, { token });
    expect(secrets.status).toBe(403);
  });

  it('calls the API from inside the container at https://kubernetes.default.svc with its own token', async () => {
    const call = (path: string) => inPod('caller', `wget -q -O- --header "Authorization: Bearer $(cat ${MOUNT}/token)" https://kubernetes.default.svc${path}; echo " rc=$?"`);
    const listed = await call(`/api/v1/namespaces/${NS}/pods`);
    expect(listed.stdout).toMatch(/ rc=0\n$/);
    expect(JSON.parse(listed.stdout.replace(/ rc=0\n$/, '')).items.map((p: { metadata: { name: string } }) => p.metadata.name)).toContain('caller');
    const secrets = await call(`/api/v1/namespaces/${NS}/secrets`);
    expect(secrets.stdout).toMatch(/ rc=1\n$/);
    expect(secrets.stderr).toContain('403 Forbidden');
    // The Service's address answers this machine too (the proxy's rules cover the node's own
    // traffic), and the serving certificate verifies as kubernetes.default.svc with the pod's ca.crt.
    const host = (await inPod('caller', 'echo $KUBERNETES_SERVICE_HOST')).stdout.trim();
    const ca = (await inPod('caller', `cat ${MOUNT}/ca.crt`)).stdout;
    const version = await new Promise<string>((resolve, reject) => {
      https.get({ host, port: 443, path: '/version', servername: 'kubernetes.default.svc', ca }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect(JSON.parse(version).gitVersion).toMatch(/^v1\.35\./);
  });

  it('mounts nothing with automountServiceAccountToken: false', async () => {
    await runPod('quiet', { automountServiceAccountToken: false });
    const pod = JSON.parse((await k(['get', 'pod', 'quiet', '-n', NS, '-o', 'json'])).stdout);
    expect(pod.spec.volumes).toBeUndefined();
    const ls = await inPod('quiet', `ls ${MOUNT}`);
    expect(ls.code).not.toBe(0);
  });

  it('refuses the token once its pod is deleted (401), and a pod naming a missing ServiceAccount (403)', async () => {
    const token = (await inPod('caller', `cat ${MOUNT}/token`)).stdout;
    expect((await clusterRequest(cluster, `/api/v1/namespaces/${NS}/pods`, { token })).status).toBe(200);
    expect((await k(['delete', 'pod', 'caller', '-n', NS, '--wait=true', '--timeout=90s'])).stderr).toBe('');
    await until('the deleted pod\'s token to be refused', async () => (await clusterRequest(cluster, `/api/v1/namespaces/${NS}/pods`, { token })).status === 401, 30_000);
    const ghost = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ghostly', namespace: NS }, spec: { serviceAccountName: 'ghost', containers: [{ name: 'main', image: 'coracle/busybox' }] } };
    const refused = await k(['create', '-f', '-'], JSON.stringify(ghost));
    expect(refused.stderr).toBe(`Error from server (Forbidden): error when creating "STDIN": pods "ghostly" is forbidden: error looking up service account ${NS}/ghost: serviceaccount "ghost" not found\n`);
  });
});
