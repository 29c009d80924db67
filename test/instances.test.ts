/**
 * The Azure-shaped local mode, end to end: `coracle up --instances 3` (three HTTP host processes
 * behind the round-robin front, one durable, one change feed/timers, on the Cosmos DB emulator
 * and Azurite) with two simulated nodes, driven by real kubectl. One cluster for the whole file
 * (start-up is the slow part). functionTimeout is cut to 8 s (`AzureFunctionsJobHost__functionTimeout`,
 * as an app setting overrides host.json in Azure) and watches end after 2–4 s, so a minute of
 * traffic crosses several of both. Also here, on the same cluster: kill -9 of each kind of instance
 * mid-rollout, kubectl drain, a node joined with a bootstrap token confined (403) and revoked (401)
 * on every HTTP instance, and a moby node (the shared private dockerd) given the API server by this
 * machine's host name, whose pod calls the API by that name with its own token and ca.crt (the
 * real kubectl in the pod, in-cluster config: its list, a 403 from RBAC), and through
 * `kubernetes.default.svc`. Other suites run in this mode with CORACLE_E2E_INSTANCES=3 (README).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { createBlobLogSink } from '../adapters/logs/blob/index.js';
import { CLI, startCluster, type Cluster } from './support/cluster.js';
import { kubectl, kubectlPath } from './support/kubectl.js';
import { until } from './support/until.js';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { buildImageFromContext } from '../cli/images.js';
import { dockerUnavailable, startTestDocker } from './support/docker.js';

const FUNCTION_TIMEOUT_S = 8;
let cluster: Cluster;
let instances: { name: string; pid: number; url: string }[];
const k = (args: string[], input?: string) => kubectl(args, { kubeconfig: cluster.kubeconfigPath, input, timeoutMs: 120_000 });

/** coracle runs the CLI against the cluster's kubeconfig. */
const coracle = (...args: string[]) => new Promise<{ code: number | null; stdout: string }>((resolve) => {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.on('close', (code) => resolve({ code, stdout }));
});

// A node given `https://<this machine's host name>:<port>` (a name the serving certificate carries)
// needs a Docker engine, and a host name this machine resolves to its loopback, where the front listens.
const HOST_NAME = os.hostname().toLowerCase();
const hostNameAnswer = await lookup(HOST_NAME).then((a) => a.address, () => undefined);
const podApiSkip = dockerUnavailable() ?? (hostNameAnswer && /^127\./.test(hostNameAnswer) ? undefined : `${HOST_NAME} resolves to ${hostNameAnswer ?? 'nothing'}, not to the loopback the front listens on`);
if (podApiSkip) console.warn(`instances: the pod-calls-the-API case is skipped: ${podApiSkip}`);
const podApi = podApiSkip ? it.skip : it;

/** call sends one request straight to an instance (not through the front). */
async function call(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(p, base), {
    method, headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const deployment = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [ { name: web, image: "${image}" } ] }
`;

beforeAll(async () => {
  cluster = await startCluster({
    nodes: 2,
    extraArgs: ['--instances', '3', '--runtime', 'simulated', '--min-request-timeout', '2', '--watch-keepalive', '1'],
    env: { AzureFunctionsJobHost__functionTimeout: `00:00:0${FUNCTION_TIMEOUT_S}` },
    timeoutMs: 180_000,
  });
  instances = [...cluster.stdout().matchAll(/(\S+) \(pid (\d+), (http:\/\/\S+)\)/g)].map((m) => ({ name: m[1]!, pid: Number(m[2]), url: m[3]! }));
}, 200_000);

afterAll(async () => {
  await cluster?.destroy();
}, 60_000);

describe('coracle up --instances 3', () => {
  it('runs five host processes split as Flex Consumption splits the app', () => {
    expect(instances.map((i) => i.name)).toEqual(['http-0', 'http-1', 'http-2', 'durable-0', 'triggers-0']);
    expect(new Set(instances.map((i) => i.pid)).size).toBe(5);
  });

  it('reads are linearizable across instances: 1,000 writes through one, each read at once through another', async () => {
    const http = instances.filter((i) => i.name.startsWith('http-'));
    const base = '/api/v1/namespaces/default/configmaps';
    const created = await call(http[0]!.url, 'POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'linear' }, data: { n: '0' } });
    expect(created.status).toBe(201);
    let rv = (created.json.metadata as { resourceVersion: string }).resourceVersion;
    const stale: string[] = [];
    const started = Date.now();
    for (let i = 1; i <= 1000; i++) {
      const writer = http[i % 3]!;
      const reader = http[(i + 1) % 3]!;
      const put = await call(writer.url, 'PUT', `${base}/linear`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'linear', resourceVersion: rv }, data: { n: String(i) } });
      expect(put.status).toBe(200);
      rv = (put.json.metadata as { resourceVersion: string }).resourceVersion;
      const got = await call(reader.url, 'GET', `${base}/linear`);
      if ((got.json.data as { n: string }).n !== String(i)) stale.push(`GET ${i} on ${reader.name}: n=${(got.json.data as { n: string }).n}`);
      if (i % 10 === 0) {
        const list = await call(reader.url, 'GET', base);
        const item = (list.json.items as { metadata: { name: string }; data: { n: string } }[]).find((c) => c.metadata.name === 'linear');
        if (item?.data.n !== String(i)) stale.push(`LIST ${i} on ${reader.name}: n=${item?.data.n}`);
      }
    }
    process.stdout.write(`linearizable reads: 1,000 write→read pairs (+100 lists) across 3 instances in ${((Date.now() - started) / 1000).toFixed(1)} s, ${stale.length} stale\n`);
    expect(stale).toEqual([]);
  }, 300_000);

  it('apply, rollout, logs through the front', async () => {
    expect((await k(['apply', '-f', '-'], deployment('coracle/web:v1'))).code).toBe(0);
    const status = await k(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    expect(status.stdout).toContain('successfully rolled out');
    // Logs are read by an HTTP instance from Azurite, where agents ship them; simulated nodes run
    // no processes, so the test ships the lines as an agent would.
    const pod = JSON.parse((await k(['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout).items[0] as { metadata: { name: string; uid: string } };
    const sink = createBlobLogSink({ connectionString: (await readFile(path.join(cluster.dataDir, 'logs-connection-string'), 'utf8')).trim() });
    await sink.append({ namespace: 'default', pod: pod.metadata.name, podUid: pod.metadata.uid, container: 'web', restart: 0 },
      [{ time: new Date().toISOString(), stream: 'stdout', text: 'hello from web' }]);
    await sink.close?.();
    const logs = await k(['logs', pod.metadata.name]);
    expect(logs.stdout).toContain('hello from web');
  }, 180_000);

  it('kill -9 of the durable instance during a rollout loses nothing, and the rollout finishes', async () => {
    const durable = instances.find((i) => i.name === 'durable-0')!;
    expect((await k(['set', 'image', 'deployment/web', 'web=coracle/web:v2'])).code).toBe(0);
    await until('the rollout to start', async () => JSON.parse((await k(['get', 'rs', '-l', 'app=web', '-o', 'json'])).stdout).items.length === 2);
    process.kill(durable.pid, 'SIGKILL');
    const status = await k(['rollout', 'status', 'deployment/web', '--timeout=110s']);
    expect(status.stdout).toContain('successfully rolled out');
    const pods = JSON.parse((await k(['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout).items as { spec: { containers: { image: string }[] }; metadata: { deletionTimestamp?: string } }[];
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    expect(live.map((p) => p.spec.containers[0]!.image)).toEqual(['coracle/web:v2', 'coracle/web:v2', 'coracle/web:v2']);
    expect(cluster.stderr()).toMatch(/"instance":"durable-0".*starting it again|instance exited; starting it again/);
  }, 180_000);

  // Rolled images: v3 with http-1 killed, v4 with triggers-0 (change feed, timers) killed.
  for (const [victim, image] of [['http-1', 'coracle/web:v3'], ['triggers-0', 'coracle/web:v4']] as const) {
    it(`kill -9 of ${victim} during a rollout loses nothing, and the rollout finishes`, async () => {
      const instance = instances.find((i) => i.name === victim)!;
      const restartsBefore = (cluster.stderr().match(new RegExp(`"instance":"${victim}"[^\n]*starting it again`, 'g')) ?? []).length;
      expect((await k(['set', 'image', 'deployment/web', `web=${image}`])).code).toBe(0);
      await until('the rollout to start', async () => (JSON.parse((await k(['get', 'rs', '-l', 'app=web', '-o', 'json'])).stdout).items as { spec: { template: { spec: { containers: { image: string }[] } } } }[])
        .some((rs) => rs.spec.template.spec.containers[0]!.image === image));
      process.kill(instance.pid, 'SIGKILL');
      const status = await k(['rollout', 'status', 'deployment/web', '--timeout=110s']);
      expect(status.stdout).toContain('successfully rolled out');
      const pods = JSON.parse((await k(['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout).items as { spec: { containers: { image: string }[] }; metadata: { deletionTimestamp?: string } }[];
      const live = pods.filter((p) => !p.metadata.deletionTimestamp);
      expect(live.map((p) => p.spec.containers[0]!.image)).toEqual([image, image, image]);
      const deploy = JSON.parse((await k(['get', 'deployment', 'web', '-o', 'json'])).stdout) as { status: { replicas: number; updatedReplicas: number; availableReplicas: number } };
      expect(deploy.status).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
      expect((cluster.stderr().match(new RegExp(`"instance":"${victim}"[^\n]*starting it again`, 'g')) ?? []).length).toBeGreaterThan(restartsBefore);
    }, 180_000);
  }

  it('an invocation that outlives functionTimeout is cut off and its instance restarted (kubectl logs -f)', async () => {
    const count = (re: RegExp) => (cluster.stderr().match(re) ?? []).length;
    const timeouts = count(/Timeout value of \d+ ms exceeded by function/g);
    const restarts = count(/instance exited; starting it again/g);
    const pod = (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    const started = Date.now();
    const follow = await k(['logs', '-f', pod]);
    const lasted = Date.now() - started;
    process.stdout.write(`kubectl logs -f was cut after ${(lasted / 1000).toFixed(1)} s (functionTimeout ${FUNCTION_TIMEOUT_S} s), exit ${follow.code}\n`);
    expect(lasted).toBeGreaterThanOrEqual(FUNCTION_TIMEOUT_S * 1000);
    expect(lasted).toBeLessThan(60_000);
    expect(count(/Timeout value of \d+ ms exceeded by function/g)).toBeGreaterThan(timeouts);
    await until('the instance to be started again', async () => count(/instance exited; starting it again/g) > restarts);
    expect((await k(['get', 'deployment', 'web'])).code).toBe(0);
  }, 120_000);

  it(`a watch outlives three functionTimeouts (${FUNCTION_TIMEOUT_S} s) by reconnecting from its resourceVersion, missing and repeating nothing`, async () => {
    // kubectl get -w exits when the server ends a watch (as against any API server); what lives on
    // is a reflector: client-node's Watch, watched again from the last resourceVersion each time it ends.
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const seen: string[] = [];
    let lastRv = JSON.parse((await k(['get', 'configmaps', '-o', 'json'])).stdout).metadata.resourceVersion as string;
    let watches = 0;
    let stopped = false;
    let current: AbortController | undefined;
    const rewatch = async (): Promise<void> => {
      if (stopped) return;
      watches++;
      current = await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: lastRv, labelSelector: 'watched=yes', allowWatchBookmarks: true },
        (type: string, obj: V1ConfigMap) => {
          lastRv = obj.metadata?.resourceVersion ?? lastRv;
          if (type !== 'BOOKMARK') seen.push(`${type} ${obj.data?.count}`);
        },
        () => void rewatch());
    };
    await rewatch();
    const written: string[] = [];
    const started = Date.now();
    const deadline = started + 3 * FUNCTION_TIMEOUT_S * 1000 + 3000;
    // (a YAML key `n` would be the boolean false to kubectl's YAML 1.1 reader)
    expect((await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: watched, labels: { watched: "yes" } }\ndata: { count: "0" }\n')).code).toBe(0);
    written.push('ADDED 0');
    for (let n = 1; Date.now() < deadline; n++) {
      expect((await k(['patch', 'configmap', 'watched', '-p', JSON.stringify({ data: { count: String(n) } })])).code).toBe(0);
      written.push(`MODIFIED ${n}`);
    }
    try {
      await until('the watch to see the last write', async () => seen.at(-1) === written.at(-1), 30_000);
    } finally {
      stopped = true;
      current?.abort();
    }
    process.stdout.write(`watch: ${written.length} writes over ${((Date.now() - started) / 1000).toFixed(0)} s, ${seen.length} events over ${watches} watch requests\n`);
    expect(seen).toEqual(written);
    expect(watches).toBeGreaterThanOrEqual(4);
  }, 150_000);

  it('a change-feed batch that fails is delivered again', async () => {
    // The change-feed instance signals orchestrations through the durable task hub (durable.db).
    // Holding its write lock longer than a writer waits (5 s) makes that invocation fail.
    const db = new Database(path.join(cluster.dataDir, 'durable.db'));
    const failuresBefore = (cluster.stderr().match(/change feed invocation failed/g) ?? []).length;
    db.exec('BEGIN EXCLUSIVE');
    try {
      expect((await k(['create', 'deployment', 'again', '--image=coracle/web:v1', '--replicas=2'])).code).toBe(0);
      await until('a failed change feed invocation', async () => (cluster.stderr().match(/change feed invocation failed/g) ?? []).length > failuresBefore, 30_000);
    } finally {
      db.exec('COMMIT');
      db.close();
    }
    const status = await k(['rollout', 'status', 'deployment/again', '--timeout=90s']);
    expect(status.stdout).toContain('successfully rolled out');
  }, 150_000);

  it('kubectl drain moves every pod off a node through evictions, and uncordon lets pods back', async () => {
    const drained = await k(['drain', 'node-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s']);
    expect(drained.stderr).not.toMatch(/error/i);
    expect(drained.code).toBe(0);
    expect(drained.stdout).toContain('node/node-1 drained');
    const pods = JSON.parse((await k(['get', 'pods', '-o', 'json'])).stdout).items as { spec: { nodeName?: string }; metadata: { deletionTimestamp?: string } }[];
    expect(pods.filter((p) => !p.metadata.deletionTimestamp && p.spec.nodeName === 'node-1')).toEqual([]);
    expect((await k(['rollout', 'status', 'deployment/web', '--timeout=90s'])).stdout).toContain('successfully rolled out');
    expect(JSON.parse((await k(['get', 'node', 'node-1', '-o', 'json'])).stdout).spec.unschedulable).toBe(true);
    expect((await k(['uncordon', 'node-1'])).code).toBe(0);
    expect(JSON.parse((await k(['get', 'node', 'node-1', '-o', 'json'])).stdout).spec.unschedulable).toBeUndefined();
  }, 180_000);

  it('a node joined with a bootstrap token reads no other node\'s pods and no Secret it does not run (403) on any instance; revoked through one, it gets 401 on every one', async () => {
    const http = instances.filter((i) => i.name.startsWith('http-'));
    const bootstrap = (await coracle('token', 'create', '--ttl', '10m')).stdout.trim();
    expect(bootstrap).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const credentialFile = path.join(cluster.dataDir, 'joined', 'node-credential');
    let agent: ChildProcess | undefined;
    try {
      agent = spawn(process.execPath, [CLI, 'agent', '--node-name', 'joined', '--server', cluster.url, '--ca-file', path.join(cluster.dataDir, 'ca.crt'),
        '--runtime', 'simulated', '--bootstrap-token', bootstrap, '--credential-file', credentialFile, '--queue-url', cluster.url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let agentOut = '';
      agent.stdout!.on('data', (d: Buffer) => (agentOut += d.toString()));
      agent.stderr!.on('data', (d: Buffer) => (agentOut += d.toString()));
      await until('the joining agent to be ready', async () => agentOut.includes(': ready'), 60_000);
      const credential = (await readFile(credentialFile, 'utf8')).trim();
      expect(credential).toMatch(/^node:joined:/);
      const as = async (base: string, p: string) => (await fetch(new URL(p, base), { headers: { authorization: `Bearer ${credential}` } })).status;
      expect((await k(['create', 'secret', 'generic', 'mine', '--from-literal=k=v'])).code).toBe(0);
      expect((await k(['create', 'secret', 'generic', 'theirs', '--from-literal=k=v'])).code).toBe(0);
      const pod = (name: string, nodeName: string, secret: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name },
        spec: { nodeName, containers: [{ name: 'c', image: 'coracle/busybox', env: [{ name: 'S', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }] }] } });
      expect((await k(['create', '-f', '-'], pod('on-joined', 'joined', 'mine'))).code).toBe(0);
      expect((await k(['create', '-f', '-'], pod('on-other', 'node-2', 'theirs'))).code).toBe(0);
      await until('the joined node to run its pod', async () => (await k(['get', 'pod', 'on-joined', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 60_000);
      for (const instance of http) {
        expect([instance.name, await as(instance.url, '/api/v1/namespaces/default/pods/on-joined')]).toEqual([instance.name, 200]);
        expect([instance.name, await as(instance.url, '/api/v1/namespaces/default/secrets/mine')]).toEqual([instance.name, 200]);
        expect([instance.name, await as(instance.url, '/api/v1/namespaces/default/pods/on-other')]).toEqual([instance.name, 403]);
        expect([instance.name, await as(instance.url, '/api/v1/namespaces/default/secrets/theirs')]).toEqual([instance.name, 403]);
        expect([instance.name, await as(instance.url, '/api/v1/namespaces/kube-system/secrets/node-credential-joined')]).toEqual([instance.name, 403]);
      }
      // Revoked through the front (one instance); at once, every instance refuses it.
      expect((await coracle('node', 'revoke', 'joined')).code).toBe(0);
      for (const instance of http) expect([instance.name, await as(instance.url, '/api/v1/nodes/joined')]).toEqual([instance.name, 401]);
    } finally {
      agent?.kill('SIGTERM');
    }
  }, 180_000);

  podApi('a pod on a moby node that reaches the API server by host name gets that name, and calls the API with it, its own token and ca.crt: its list, and 403 where RBAC denies', async () => {
    const port = Number(new URL(cluster.url).port);
    const docker = await startTestDocker();
    const node = 'podapi';
    let agent: ChildProcess | undefined;
    try {
      // The real kubectl inside the pod: with no kubeconfig it takes client-go's in-cluster config
      // (KUBERNETES_SERVICE_HOST/PORT, the mounted token and ca.crt) and verifies TLS for that host.
      const context = await mkdtemp(path.join(os.tmpdir(), 'podapi-image-'));
      await copyFile(kubectlPath(), path.join(context, 'kubectl'));
      await writeFile(path.join(context, 'Dockerfile'), 'FROM coracle/busybox\nCOPY kubectl /bin/kubectl\nRUN ["/bin/mkdir", "-p", "/tmp"]\n');
      await buildImageFromContext(docker.docker, context, { tag: 'coracle/kubectl:podapi' });
      await rm(context, { recursive: true, force: true });
      const bootstrap = (await coracle('token', 'create', '--ttl', '10m')).stdout.trim();
      agent = spawn(process.execPath, [CLI, 'agent', '--node-name', node, '--server', `https://${HOST_NAME}:${port}`, '--ca-file', path.join(cluster.dataDir, 'ca.crt'),
        '--runtime', 'moby', '--docker-host', `unix://${docker.socketPath}`, '--bootstrap-token', bootstrap, '--credential-file', path.join(cluster.dataDir, node, 'node-credential'),
        '--queue-url', cluster.url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let agentOut = '';
      agent.stdout!.on('data', (d: Buffer) => (agentOut += d.toString()));
      agent.stderr!.on('data', (d: Buffer) => (agentOut += d.toString()));
      await until('the moby agent to be ready', async () => agentOut.includes(': ready'), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${agentOut}`);
      });
      for (const args of [['create', 'namespace', 'podapi'], ['create', 'serviceaccount', 'robot', '-n', 'podapi'], ['create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=podapi:robot', '-n', 'podapi']]) {
        expect((await k(args)).stderr).toBe('');
      }
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'caller', namespace: 'podapi' }, spec: { nodeName: node, serviceAccountName: 'robot', terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: 'coracle/kubectl:podapi', command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'] }] } };
      expect((await k(['create', '-f', '-'], JSON.stringify(pod))).stderr).toBe('');
      expect((await k(['wait', '-n', 'podapi', '--for=condition=Ready', 'pod/caller', '--timeout=90s'])).stderr).toBe('');
      const inPod = (script: string) => k(['exec', '-n', 'podapi', 'caller', '--', 'sh', '-c', script]);
      expect((await inPod('echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT $KUBERNETES_PORT')).stdout).toBe(`${HOST_NAME}:${port} tcp://${HOST_NAME}:${port}\n`);
      const inCluster = (args: string) => inPod(`kubectl --cache-dir=/tmp/kube ${args}`);
      expect((await inCluster('auth whoami -o jsonpath={.status.userInfo.username}')).stdout).toBe('system:serviceaccount:podapi:robot');
      const listed = await inCluster('get pods -o name');
      expect(listed.stderr).toBe('');
      expect(listed.stdout).toBe('pod/caller\n');
      const denied = await inCluster('get secrets');
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toBe('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:podapi:robot" cannot list resource "secrets" in API group "" in the namespace "podapi"\ncommand terminated with exit code 1\n');
      // The `kubernetes` Service has endpoints in this mode too (the front), reached through the node's relay.
      const viaService = await inPod('wget -q -O- --header "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" https://kubernetes.default.svc/api/v1/namespaces/podapi/pods; echo " rc=$?"');
      expect(viaService.stdout).toMatch(/"name":"caller".* rc=0\n$/s);
      expect((await k(['delete', 'pod', 'caller', '-n', 'podapi', '--wait=true', '--timeout=60s'])).stderr).toBe('');
    } finally {
      agent?.kill('SIGTERM');
      await docker.stop();
    }
  }, 240_000);

  it('kill -9 of coracle up leaves no host process running', async () => {
    // Instances are found by the data folder in their environment (their pids change on restarts).
    const { readdir } = await import('node:fs/promises');
    const running = async () => {
      const found: number[] = [];
      for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
        const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
        if (environ.split('\0').includes(`CORACLE_DATA_DIR=${cluster.dataDir}`)) found.push(Number(pid));
      }
      return found;
    };
    expect((await running()).length).toBe(5);
    expect((await cluster.kill('SIGKILL')).signal).toBe('SIGKILL');
    await until('every host process to stop', async () => (await running()).length === 0, 15_000);
  }, 60_000);
});
