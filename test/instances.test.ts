/**
 * The Azure-shaped local mode, end to end: `coracle up --instances 3` (three HTTP host processes
 * behind the round-robin front, one durable, one change feed/timers, on the Cosmos DB emulator
 * and Azurite) with two simulated nodes, driven by real kubectl. One cluster for the whole file
 * (start-up is the slow part). functionTimeout is cut to 8 s (`AzureFunctionsJobHost__functionTimeout`,
 * as an app setting overrides host.json in Azure) and watches end after 2–4 s, so a minute of
 * traffic crosses several of both.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { createBlobLogSink } from '../adapters/logs/blob/index.js';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl } from './support/kubectl.js';
import { until } from './support/until.js';
import { readFile } from 'node:fs/promises';

const FUNCTION_TIMEOUT_S = 8;
let cluster: Cluster;
let instances: { name: string; pid: number; url: string }[];
const k = (args: string[], input?: string) => kubectl(args, { kubeconfig: cluster.kubeconfigPath, input, timeoutMs: 120_000 });

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
});
