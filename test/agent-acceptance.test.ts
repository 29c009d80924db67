/**
 * Issue 4's acceptance with real kubectl on `coracle up --nodes 2` and the moby runtime, the way a
 * newcomer runs it: no DOCKER_HOST, so (as root with dockerd installed) `coracle up` starts its
 * own private dockerd and builds the sample images into it. Agents take their work from the node
 * queues. A pod bound to node-1 runs a real container (Running with its IP and node in
 * `get pods -o wide`, its output in `kubectl logs`, gone from the engine after `kubectl delete`);
 * an unbound pod is scheduled; an exiting container is restarted (RESTARTS grows); a failing
 * liveness probe restarts its container; a missing image shows ErrImagePull/ImagePullBackOff;
 * a container that ignores SIGTERM is stopped once the grace period is over. `kubectl top pods`
 * shows a busy container's CPU within 30 s of its start and `kubectl top nodes` both nodes (the
 * agents' usage reports, from the engine's stats); `/metrics` parses as Prometheus text and counts
 * this test's requests; a node's credential cannot report another node's usage. Skipped, saying
 * why, when no Docker engine can run here.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { get } from 'node:http';
import path from 'node:path';
import { LABELS } from '../agent/runtime/moby/containers.js';
import { clusterRequest, E2E_INSTANCES, startCluster, type Cluster } from './support/cluster.js';
import { counterValue, parseExposition } from './support/prometheus.js';
import { dockerUnavailable } from './support/docker.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(120_000);

const why = dockerUnavailable();
const suite = why ? describe.skip : describe;
if (why) console.warn(`agent-acceptance: skipped: no Docker engine can run here (${why})`);

let cluster: Cluster;
let docker: Docker;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
const apply = (manifest: object): Promise<KubectlResult> => kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: JSON.stringify(manifest) });
const json = async (...args: string[]) => {
  const r = await run(...args, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let failure: unknown;
  for (;;) {
    const value = await probe().catch((err: unknown) => void (failure = err));
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${failure ? ` (last error: ${(failure as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** podRow is the pod's line of `kubectl get pod <name>` (columns NAME READY STATUS RESTARTS AGE …), split. */
async function podRow(name: string, ...args: string[]): Promise<string[]> {
  const r = await run('get', 'pod', name, '--no-headers', ...args);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split(/\s+/);
}

/** containersOf lists the engine's containers of a pod (running or not). */
async function containersOf(pod: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABELS.podName}=${pod}`] } });
}

/** engineSocket is the engine `coracle up` chose: its private dockerd, else DOCKER_HOST or the system socket. */
function engineSocket(): string {
  const own = path.join(cluster.dataDir, 'dockerd', 'docker.sock');
  if (existsSync(own)) return own;
  return process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock';
}

/** agentArgs returns the command line of the agent of `node` for this cluster. */
async function agentArgs(node: string): Promise<string[]> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.includes('agent') && args.includes(node) && args.includes(cluster.url)) return args;
  }
  throw new Error(`no agent process for ${node}`);
}

function httpText(url: string): Promise<string> {
  return new Promise((done, fail) => {
    get(url, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => done(body));
    }).on('error', fail);
  });
}

/** nodeToken reads node `name`'s credential from the cluster's token file. */
async function nodeToken(name: string): Promise<string> {
  const text = await readFile(path.join(cluster.dataDir, 'tokens.csv'), 'utf8');
  const line = text.split('\n').find((l) => l.split(',')[1] === `system:node:${name}`);
  if (!line) throw new Error(`no token for ${name}`);
  return line.split(',')[0]!;
}

/** topRows runs `kubectl top <args> --no-headers` and splits its lines into columns. */
async function topRows(...args: string[]): Promise<string[][]> {
  const r = await run('top', ...args, '--no-headers');
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
}

/** millicores reads kubectl top's CPU column (`123m`). */
const millicores = (cell: string | undefined): number => (/^\d+m$/.test(cell ?? '') ? Number(cell!.slice(0, -1)) : NaN);

const pod = (name: string, spec: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'node-1', ...spec } });

beforeAll(async () => {
  if (why) return;
  // Info logs: the request log and the controllers' reconcile lines, whose request ids a test follows.
  cluster = await startCluster({ nodes: 2, extraArgs: ['--runtime', 'moby'], timeoutMs: 110_000, env: { CORACLE_LOG_LEVEL: 'info' } });
  docker = new Docker({ socketPath: engineSocket() });
}, 120_000);

afterAll(async () => {
  if (why || !cluster) return;
  await run('delete', 'pods', '--all', '--grace-period=1', '--timeout=30s').catch(() => undefined);
  // Stops the agents, the host, Azurite and the private dockerd coracle up started.
  await cluster.destroy();
});

suite('acceptance: coracle up --nodes 2 (moby) with kubectl', () => {
  it('nodes take their work from the node queues', async () => {
    for (const node of ['node-1', 'node-2']) expect(await agentArgs(node)).toContain('--queue-url');
    const nodes = await json('get', 'nodes');
    for (const n of nodes.items) expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^docker:\/\//);
  });

  it('runs a pod bound to node-1: Running with IP and node in get -o wide, output in kubectl logs, stopped by kubectl delete', async () => {
    expect((await apply(pod('web', { containers: [{ name: 'web', image: 'coracle/web:v1', ports: [{ containerPort: 8080 }] }] }))).code).toBe(0);
    const p = await until('web Running', async () => {
      const got = await json('get', 'pod', 'web');
      return got.status?.phase === 'Running' && got;
    });
    const ip: string = p.status.podIP;
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const wide = await run('get', 'pods', '-o', 'wide');
    expect(wide.stdout).toMatch(new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${ip.replace(/\./g, '\\.')}\\s+node-1`));
    const running = (await containersOf('web')).filter((c) => c.State === 'running');
    expect(running.map((c) => c.Labels[LABELS.container]).sort()).toEqual(['POD', 'web']);

    // The container serves, and what it prints reaches kubectl logs.
    expect(await httpText(`http://${ip}:8080/`)).toBe('coracle web v1\n');
    const logs = await until('the request in kubectl logs', async () => {
      const r = await run('logs', 'web');
      return r.code === 0 && /response:200/.test(r.stdout) && r.stdout;
    }, 20_000);
    expect(logs).toContain(`[::ffff:`);

    const started = Date.now();
    expect((await run('delete', 'pod', 'web', '--timeout=60s')).code).toBe(0);
    // coracle/web stops on SIGTERM: no waiting out the 30 s grace period.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await containersOf('web')).toHaveLength(0);
    expect((await run('get', 'pod', 'web')).code).not.toBe(0);
  });

  it('schedules an unbound pod (kubectl run) onto a node, where it runs', async () => {
    expect((await run('run', 'free', '--image=coracle/web:v1')).code).toBe(0);
    const p = await until('free Running', async () => {
      const got = await json('get', 'pod', 'free');
      return got.status?.phase === 'Running' && got;
    });
    expect(['node-1', 'node-2']).toContain(p.spec.nodeName);
    const row = await podRow('free', '-o', 'wide');
    expect(row.slice(1, 4)).toEqual(['1/1', 'Running', '0']);
    expect(row[6]).toBe(p.spec.nodeName);
    expect((await containersOf('free')).filter((c) => c.State === 'running')).toHaveLength(2);
    expect((await run('delete', 'pod', 'free', '--timeout=30s')).code).toBe(0);
  });

  it('restarts a container that exits: RESTARTS grows, CrashLoopBackOff in between', async () => {
    expect((await apply(pod('crash', { containers: [{ name: 'crash', image: 'coracle/crash:latest' }] }))).code).toBe(0);
    const statuses = new Set<string>();
    // The first restart is immediate, the next after the kubelet's 10 s back-off.
    await until('crash RESTARTS ≥ 2', async () => {
      const row = await podRow('crash');
      statuses.add(row[2]);
      return Number(row[3]) >= 2;
    }, 40_000);
    expect(statuses).toContain('CrashLoopBackOff');
    const r = await run('logs', 'crash', '--previous');
    expect(r.stdout).toContain('crashing now');
  });

  it('restarts a container whose liveness probe fails', async () => {
    expect((await apply(pod('unlive', {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'main', image: 'coracle/busybox:latest', command: ['sh', '-c', 'touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 3600'],
        livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 },
      }],
    }))).code).toBe(0);
    await until('unlive RESTARTS ≥ 1', async () => Number((await podRow('unlive'))[3]) >= 1, 30_000);
    const status = (await json('get', 'pod', 'unlive')).status.containerStatuses[0];
    expect(status.lastState.terminated.exitCode).toBeGreaterThan(0);
  });

  it('shows ErrImagePull / ImagePullBackOff for a missing image', async () => {
    expect((await apply(pod('missing', { containers: [{ name: 'main', image: 'coracle/missing:v0' }] }))).code).toBe(0);
    const row = await until('missing shows a pull error', async () => {
      const r = await podRow('missing');
      return /^(ErrImagePull|ImagePullBackOff)$/.test(r[2]) && r;
    });
    expect(row[1]).toBe('0/1');
    expect((await json('get', 'pod', 'missing')).status.phase).toBe('Pending');
  });

  it('stops a pod whose container ignores SIGTERM once its grace period is over', async () => {
    expect((await apply(pod('stubborn', {
      terminationGracePeriodSeconds: 3,
      containers: [{ name: 'deaf', image: 'coracle/busybox:latest', command: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'] }],
    }))).code).toBe(0);
    await until('stubborn Running', async () => (await podRow('stubborn'))[2] === 'Running');
    const started = Date.now();
    expect((await run('delete', 'pod', 'stubborn', '--timeout=30s')).code).toBe(0);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(2_500);
    expect(took).toBeLessThan(3_000 + 7_000);
    expect(await containersOf('stubborn')).toHaveLength(0);
  });

  it('kubectl top pods shows a busy pod\'s CPU within 30 s of its start; kubectl top nodes lists both nodes', async () => {
    // A shell loop that never sleeps, capped at 200m so that it stays polite on a shared machine.
    expect((await apply(pod('busy', {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'spin', image: 'coracle/busybox:latest', command: ['sh', '-c', 'while true; do :; done'], resources: { limits: { cpu: '200m' } } }],
    }))).code).toBe(0);
    await until('busy Running', async () => (await json('get', 'pod', 'busy')).status?.phase === 'Running');
    const running = Date.now();
    const row = await until('busy with CPU above 0 in kubectl top pods', async () => {
      const found = (await topRows('pods')).find((r) => r[0] === 'busy');
      return found && millicores(found[1]) > 0 && found;
    }, 30_000);
    expect(Date.now() - running).toBeLessThan(30_000);
    // Well above idle, and not above its limit (with a little slack for the window's edges).
    expect(millicores(row[1])).toBeGreaterThan(20);
    expect(millicores(row[1])).toBeLessThanOrEqual(230);
    expect(row[2]).toMatch(/^\d+Mi$/);
    const containers = await topRows('pod', 'busy', '--containers');
    expect(containers[0]!.slice(0, 2)).toEqual(['busy', 'spin']);
    expect(millicores(containers[0]![2])).toBeGreaterThan(0);
    const nodes = await until('both nodes in kubectl top nodes', async () => {
      const rows = await topRows('nodes');
      // A node without a fresh report shows <unknown>: wait until both have figures.
      return rows.length === 2 && rows.every((r) => millicores(r[1]) >= 0) && rows;
    }, 30_000);
    expect(nodes.map((r) => r[0]).sort()).toEqual(['node-1', 'node-2']);
    for (const r of nodes) {
      expect(millicores(r[1])).toBeGreaterThanOrEqual(0);
      expect(r[2]).toMatch(/^\d+%$/);
      expect(r[3]).toMatch(/^\d+Mi$/);
    }
    // node-1 runs busy: its total holds busy's CPU.
    expect(millicores(nodes.find((r) => r[0] === 'node-1')![1])).toBeGreaterThan(20);
    expect((await run('delete', 'pod', 'busy', '--timeout=30s')).code).toBe(0);
  });

  it('/metrics parses as Prometheus text and its apiserver_request_total grows by the requests this test made', async () => {
    const scrape = async () => {
      const r = await clusterRequest(cluster, '/metrics', { token: cluster.token });
      expect(r.status).toBe(200);
      return parseExposition(r.body);
    };
    const probe = { verb: 'GET', group: '', resource: 'configmaps', code: '404' };
    const before = await scrape();
    for (let i = 0; i < 5; i++) expect((await run('get', 'configmap', `metrics-probe-${i}`)).stderr).toContain('NotFound');
    const after = await scrape();
    // With several API instances behind the front (CORACLE_E2E_INSTANCES) each counts only what it served.
    const oneInstance = E2E_INSTANCES === undefined;
    if (oneInstance) expect(counterValue(after, 'apiserver_request_total', probe) - counterValue(before, 'apiserver_request_total', probe)).toBe(5);
    expect(after.find((f) => f.name === 'apiserver_request_total')?.type).toBe('COUNTER');
    expect(after.find((f) => f.name === 'apiserver_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(after.find((f) => f.name === 'apiserver_longrunning_requests')?.type).toBe('GAUGE');
    // kubectl top asked the Metrics API above.
    if (oneInstance) expect(counterValue(after, 'apiserver_request_total', { verb: 'LIST', group: 'metrics.k8s.io', resource: 'pods', code: '200' })).toBeGreaterThan(0);
    expect(counterValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    const anonymous = await clusterRequest(cluster, '/metrics');
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('/metrics counts the store, the controllers\' work queue, the node queues and the durable orchestrations as this test moves them', async () => {
    const scrape = async () => {
      const r = await clusterRequest(cluster, '/metrics', { token: cluster.token });
      expect(r.status).toBe(200);
      return parseExposition(r.body);
    };
    const before = await scrape();
    for (let i = 0; i < 3; i++) expect((await run('create', 'configmap', `store-probe-${i}`, '--from-literal=k=v')).code).toBe(0);
    // An unbound pod: the scheduler orchestration binds it, podwork puts it on its node's queue, the agent takes it.
    expect((await run('run', 'metrics-pod', '--image=coracle/web:v1')).code).toBe(0);
    await until('metrics-pod Running', async () => (await podRow('metrics-pod'))[2] === 'Running', 60_000);
    const grew = (after: typeof before, name: string, labels: Record<string, string>) => counterValue(after, name, labels) - counterValue(before, name, labels);
    const after = await scrape();
    for (const [name, type] of [['etcd_requests_total', 'COUNTER'], ['etcd_request_duration_seconds', 'HISTOGRAM'], ['apiserver_storage_objects', 'GAUGE'],
      ['workqueue_depth', 'GAUGE'], ['workqueue_adds_total', 'COUNTER'], ['workqueue_queue_duration_seconds', 'HISTOGRAM'], ['workqueue_work_duration_seconds', 'HISTOGRAM'], ['workqueue_retries_total', 'COUNTER'],
      ['coracle_nodequeue_requests_total', 'COUNTER'], ['coracle_nodequeue_messages_received_total', 'COUNTER'],
      ['coracle_durable_orchestrations', 'GAUGE'], ['coracle_durable_activity_duration_seconds', 'HISTOGRAM']]) {
      expect([name, after.find((f) => f.name === name)?.type]).toEqual([name, type]);
    }
    // With several instances the store, controllers and durable engine are other processes (each serves its own /metrics).
    if (E2E_INSTANCES !== undefined) return;
    expect(grew(after, 'etcd_requests_total', { operation: 'create', type: 'configmaps' })).toBe(3);
    expect(grew(after, 'apiserver_storage_objects', { resource: 'configmaps' })).toBe(3);
    expect(grew(after, 'etcd_requests_total', { operation: 'create', type: 'pods' })).toBeGreaterThanOrEqual(1);
    expect(grew(after, 'workqueue_adds_total', { name: 'podwork' })).toBeGreaterThan(0);
    expect(grew(after, 'coracle_nodequeue_requests_total', { operation: 'send', result: 'ok' })).toBeGreaterThan(0);
    expect(grew(after, 'coracle_nodequeue_messages_received_total', {})).toBeGreaterThan(0);
    expect(counterValue(after, 'coracle_durable_orchestrations')).toBeGreaterThan(0);
    expect((await run('delete', 'pod', 'metrics-pod', '--grace-period=1', '--timeout=30s')).code).toBe(0);
  });

  it("a kubectl call's request id is its Audit-Id, in the API's request log line and in the log lines of the controllers that act on its write", async () => {
    // A new namespace: the ServiceAccount controller and the root CA publisher act on it.
    const r = await run('create', 'namespace', 'trace-probe', '-v=8');
    expect(r.code).toBe(0);
    // kubectl -v=8 prints each response's headers; the POST's is the last.
    const ids = [...r.stderr.matchAll(/Audit-Id: ([0-9a-f-]{36})/gi)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThan(0);
    const requestId = ids.at(-1)!;
    const logLines = () => cluster.stderr().split('\n').filter((l) => l.includes(requestId)).flatMap((l): Array<Record<string, unknown>> => {
      try {
        return [JSON.parse(l)];
      } catch {
        return []; // not a JSON log line
      }
    });
    const reconciles = await until('a controller reconcile logged with the request id', async () => {
      const found = logLines().filter((l) => l.msg === 'reconcile');
      return found.length > 0 && found;
    }, 30_000);
    expect(reconciles[0]).toMatchObject({ requestId, key: 'trace-probe', result: 'ok', component: 'coracle-controller-manager' });
    expect(reconciles.map((l) => l.controller)).toEqual(expect.arrayContaining(['serviceaccount']));
    expect(logLines().find((l) => l.msg === 'request')).toMatchObject({ requestId, verb: 'create', resource: 'namespaces', status: 201, user: 'admin' });
    expect((await run('delete', 'namespace', 'trace-probe', '--wait=false')).code).toBe(0);
  });

  it("a node's credential cannot report another node's usage (403)", async () => {
    const token = await nodeToken('node-1');
    const report = (node: string) => JSON.stringify({
      apiVersion: 'coracle.io/v1', kind: 'NodeMetricsReport', metadata: { name: node }, timestamp: new Date().toISOString(), windowSeconds: 15,
      usage: { cpuNanoCores: 1, memoryBytes: 1 }, pods: [],
    });
    const put = (node: string) => clusterRequest(cluster, `/apis/coracle.io/v1/nodemetricsreports/${node}`, { method: 'PUT', token, body: report(node), headers: { 'content-type': 'application/json' } });
    const other = await put('node-2');
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect(JSON.parse(other.body).message).toContain(`node 'node-1' cannot report metrics of node 'node-2'`);
    // The same credential reports its own node.
    expect((await put('node-1')).status).toBe(200);
  });
});
