/**
 * `npm run bench:overload` (issue 15): the control plane under overload. `coracle up` with 20
 * hollow nodes of 600 pods; a Deployment scaled 0 → 10,000 → 0 (10,000 pods created, bound, run
 * and deleted by the controllers and the hollow nodes) while 5,000 API requests go out 200 at a
 * time (paged and unpaged lists, gets, ConfigMap creates, updates and deletes). Meanwhile
 * `/readyz` is probed every 250 ms and the node Leases are read every second. Printed next to
 * their targets: /readyz p99, the worst Lease renewal lag (now − renewTime; agents renew every
 * 10 s), 429s served (shed load), 5xx (must be 0), and the control plane's peak RSS (VmHWM).
 * BENCH_PODS, BENCH_REQUESTS and BENCH_CONCURRENCY shrink the shape for a quick look.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { peakRssBytes, percentile, report, request, startChild, stopChild, type Child, type Conn } from './support.js';

const envInt = (name: string, fallback: number) => Number(process.env[name] ?? '') || fallback;
const PODS = envInt('BENCH_PODS', 10_000);
const REQUESTS = envInt('BENCH_REQUESTS', 5_000);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 200);
const NODES = 20;
const DEPLOYMENT = '/apis/apps/v1/namespaces/default/deployments';

/** Tally counts the answers of the request mix. */
interface Tally { byStatus: Map<number, number>; latencies: number[] }

function count(t: Tally, status: number): void {
  t.byStatus.set(status, (t.byStatus.get(status) ?? 0) + 1);
}

/** oneRequest is request `i` of the mix: reads, writes and an occasional unpaged list. */
function oneRequest(c: Conn, i: number): Promise<{ status: number; ms: number }> {
  const cm = `/api/v1/namespaces/default/configmaps`;
  switch (i % 10) {
    case 0: return request(c, 'POST', cm, { metadata: { name: `load-${i}` }, data: { i: String(i) } });
    case 1: return request(c, 'PUT', `${cm}/load-${i - 1}`, { metadata: { name: `load-${i - 1}` }, data: { i: 'updated' } });
    case 2: return request(c, 'DELETE', `${cm}/load-${i - 2}`);
    case 3: return request(c, 'GET', '/api/v1/namespaces/default/pods');
    case 4: case 5: return request(c, 'GET', '/api/v1/namespaces/default/pods?limit=100');
    case 6: return request(c, 'GET', `${DEPLOYMENT}/churn`);
    case 7: return request(c, 'GET', '/api/v1/nodes?limit=50');
    default: return request(c, 'GET', '/api/v1/namespaces/default/events?limit=50');
  }
}

/** runMix sends REQUESTS requests, CONCURRENCY at a time. */
async function runMix(c: Conn): Promise<Tally> {
  const tally: Tally = { byStatus: new Map(), latencies: [] };
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < REQUESTS; i = next++) {
      const r = await oneRequest(c, i);
      count(tally, r.status);
      tally.latencies.push(r.ms);
    }
  }));
  return tally;
}

/** Probes watches /readyz and the Leases until stopped. */
function startProbes(c: Conn, tally: Tally) {
  const readyz: number[] = [];
  let leaseLagMs = 0;
  // prom-client's event-loop delay gauges cover the time since the previous scrape: one a second.
  const loopDelayMaxMs: number[] = [];
  let stopped = false;
  const probeAgent = new https.Agent({ keepAlive: false });
  const loops = [
    (async () => {
      while (!stopped) {
        const r = await request({ ...c, agent: probeAgent }, 'GET', '/readyz', undefined, { auth: false, timeoutMs: 10_000 });
        readyz.push(r.status === 200 ? r.ms : Math.max(r.ms, 10_000));
        if (r.status >= 500) count(tally, r.status);
        await new Promise((res) => setTimeout(res, 250));
      }
    })(),
    (async () => {
      while (!stopped) {
        const r = await request(c, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
        if (r.status === 200) {
          const now = Date.now();
          for (const lease of JSON.parse(r.body).items) leaseLagMs = Math.max(leaseLagMs, now - Date.parse(lease.spec.renewTime));
        }
        const m = await request(c, 'GET', '/metrics');
        const max = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(m.status === 200 ? m.body : '');
        if (max) loopDelayMaxMs.push(Number(max[1]) * 1000);
        await new Promise((res) => setTimeout(res, 1000));
      }
    })(),
  ];
  return {
    stop: async () => { stopped = true; await Promise.all(loops); probeAgent.destroy(); return { readyz, leaseLagMs, loopDelayMaxMs }; },
  };
}

async function podCount(c: Conn): Promise<number> {
  const r = await request(c, 'GET', '/api/v1/namespaces/default/pods?limit=1');
  if (r.status !== 200) return -1;
  const list = JSON.parse(r.body);
  return list.items.length + (list.metadata.remainingItemCount ?? 0);
}

/**
 * scaleTo patches the Deployment's scale, retrying a 429 after its Retry-After as kubectl does.
 * A patch left unanswered (60 s) is counted in `tally` (it is a failure of the server) and sent
 * again — setting the same replicas twice is harmless — so a starved server yields figures
 * instead of aborting the run.
 */
async function scaleTo(c: Conn, replicas: number, tally: Tally): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const r = await request(c, 'PATCH', `${DEPLOYMENT}/churn/scale`, { spec: { replicas } }, { contentType: 'application/merge-patch+json' });
    if (r.status === 200) return;
    if (r.status <= 0) count(tally, r.status);
    if ((r.status !== 429 && r.status > 0) || attempt >= 60) throw new Error(`scale to ${replicas}: ${r.status} ${r.body}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

async function waitPods(c: Conn, want: (n: number) => boolean, deadlineMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const n = await podCount(c);
    if (want(n) || performance.now() - t0 > deadlineMs) return n;
    await new Promise((res) => setTimeout(res, 1000));
  }
}

async function run(c: Conn, up: Child): Promise<void> {
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'churn' }, spec: { replicas: 0, selector: { matchLabels: { app: 'churn' } }, template: { metadata: { labels: { app: 'churn' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } };
  const created = await request(c, 'POST', DEPLOYMENT, deployment);
  if (created.status !== 201) throw new Error(`deployment: ${created.status} ${created.body}`);
  const tally: Tally = { byStatus: new Map(), latencies: [] };
  const probes = startProbes(c, tally);
  const t0 = performance.now();
  await scaleTo(c, PODS, tally);
  // The request mix starts while the pods are being created and runs through their deletion.
  const mix = (async () => {
    await waitPods(c, (n) => n >= PODS / 4, 120_000);
    return runMix(c);
  })();
  const upPods = await waitPods(c, (n) => n >= PODS, 240_000);
  const tUp = performance.now();
  await scaleTo(c, 0, tally);
  const downPods = await waitPods(c, (n) => n === 0, 240_000);
  const tDown = performance.now();
  const mixed = await mix;
  const { readyz, leaseLagMs, loopDelayMaxMs } = await probes.stop();
  for (const [status, n] of mixed.byStatus) for (let k = 0; k < n; k++) count(tally, status);
  const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
  console.log(`pods: ${upPods} up in ${((tUp - t0) / 1000).toFixed(1)} s, ${downPods} left ${((tDown - tUp) / 1000).toFixed(1)} s after the scale to 0`);
  console.log(`request mix: ${REQUESTS} requests, ${CONCURRENCY} at a time; answers ${statuses}; p50 ${percentile(mixed.latencies, 50).toFixed(0)} ms, p99 ${percentile(mixed.latencies, 99).toFixed(0)} ms`);
  console.log(`/readyz probes: ${readyz.length}; event-loop delay, worst per second: p50 ${percentile(loopDelayMaxMs, 50).toFixed(0)} ms, p99 ${percentile(loopDelayMaxMs, 99).toFixed(0)} ms, max ${Math.max(0, ...loopDelayMaxMs).toFixed(0)} ms (${loopDelayMaxMs.length} scrapes)\n`);
  const fivexx = [...tally.byStatus].filter(([s]) => s >= 500 || s <= 0).reduce((n, [, k]) => n + k, 0);
  report('/readyz p99', percentile(readyz, 99), 1000, 'ms');
  report('Lease renewal lag, max', leaseLagMs, 15_000, 'ms');
  console.log(`${'429s served (load shed)'.padEnd(40)} ${String(tally.byStatus.get(429) ?? 0).padStart(10)}        (expected > 0 at ${CONCURRENCY} at a time)`);
  report('5xx and unanswered', fivexx, 0, '');
  report('control plane peak RSS', peakRssBytes(up.child.pid!) / 2 ** 20, 1024, 'MiB');
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'coracle-bench-overload-'));
  // BENCH_UP_NODE_ARGS: node options for `coracle up` alone, e.g. `--cpu-prof --cpu-prof-dir=DIR`.
  const up = await startChild(['up', '--port', '0', '--data-dir', dataDir], /cluster ready at (https:\/\/\S+)/, {}, (process.env.BENCH_UP_NODE_ARGS ?? '').split(' ').filter(Boolean));
  const c: Conn = {
    url: up.match[1]!, ca: await readFile(path.join(dataDir, 'ca.crt'), 'utf8'),
    token: (await readFile(path.join(dataDir, 'tokens.csv'), 'utf8')).split(',')[0]!,
    agent: new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY + 8 }),
  };
  let hollow: Child | undefined;
  try {
    console.log(`coracle up at ${c.url}; node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}`);
    hollow = await startChild(['agent', '--hollow', String(NODES), '--pods', String(Math.ceil(PODS / NODES) + 100), '--node-name', 'hollow', '--server', c.url, '--ca-file', path.join(dataDir, 'ca.crt'), '--runtime', 'simulated'],
      /ready \(\d+ hollow nodes\)/, { CORACLE_AGENT_TOKEN: c.token });
    console.log(`${NODES} hollow nodes; ${PODS} pods created and deleted by a Deployment while ${REQUESTS} requests run ${CONCURRENCY} at a time\n`);
    await run(c, up);
  } catch (err) {
    console.error(`coracle up stderr (tail):\n${up.stderr().slice(-3000)}`);
    throw err;
  } finally {
    c.agent.destroy();
    if (hollow) await stopChild(hollow.child);
    await stopChild(up.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
