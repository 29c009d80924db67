/**
 * `npm run bench:scheduler`: the scheduler's targets (issue 5) in the style of kube-scheduler's
 * scheduler_perf, on the local host with the SQLite store: `coracle up`, 1,000 hollow nodes in one
 * `coracle agent --hollow 1000` process, then 100 ReplicaSets of 100 replicas (10,000 pods made
 * by the ReplicaSet controller, placed by the scheduler, run by the hollow nodes). Measured from a
 * watch of the pods in this process:
 * - scheduling throughput: pods bound per second, overall and the best 5-second window, next to
 *   the rate pods were created at (the scheduler cannot bind pods faster than they appear);
 * - time from the first ReplicaSet create until all 10,000 pods are Running;
 * - pod startup latency p50/p99: pod first seen (ADDED; creationTimestamp has whole-second
 *   resolution, so the watch's sighting stands in for it) → Running seen;
 * - API mutating-call p99 during the run, client side: the bench's own ReplicaSet creates plus a
 *   prober that writes a ConfigMap every 50 ms (the SLO's "mutating API call" sample).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { onWatchEvents, percentile, startChild, stopChild, type Conn } from './support.js';

// The workload's shape; the environment may shrink it for a quick look (the targets are for the defaults).
const envInt = (name: string, fallback: number) => Number(process.env[name] ?? '') || fallback;
const NODES = envInt('BENCH_NODES', 1000);
const REPLICASETS = envInt('BENCH_REPLICASETS', 100);
const REPLICAS = envInt('BENCH_REPLICAS', 100);
const PODS = REPLICASETS * REPLICAS;
const DEADLINE_MS = envInt('BENCH_DEADLINE_S', 240) * 1000;


function request(c: Conn, method: string, p: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(new URL(p, c.url), {
      method, agent: c.agent, ca: c.ca,
      headers: { authorization: `Bearer ${c.token}`, accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** PodTimes are when this process saw a pod appear, get a node, and run. */
interface PodTimes { added: number; bound?: number; running?: number }

/** watchPods records PodTimes for every pod of `default` from `rv` on; returns a closer. */
function watchPods(c: Conn, rv: string, times: Map<string, PodTimes>): () => void {
  const req = https.request(new URL(`/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}`, c.url), {
    ca: c.ca, headers: { authorization: `Bearer ${c.token}`, accept: 'application/json' },
  }, (res) => {
    onWatchEvents<{ metadata: { name: string }; spec?: { nodeName?: string }; status?: { phase?: string } }>(res, (e, now) => {
      if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
      const name = e.object.metadata.name;
      let t = times.get(name);
      if (!t) times.set(name, (t = { added: now }));
      if (e.object.spec?.nodeName && t.bound === undefined) t.bound = now;
      if (e.object.status?.phase === 'Running' && t.running === undefined) t.running = now;
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

const replicaSet = (i: number) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `rs-${i}` },
  spec: {
    replicas: REPLICAS, selector: { matchLabels: { app: `rs-${i}` } },
    template: {
      metadata: { labels: { app: `rs-${i}` } },
      spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
    },
  },
});

/** startProber writes a ConfigMap every `everyMs` until stopped, recording each write's latency. */
function startProber(c: Conn, latencies: number[], everyMs = 50): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    await request(c, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'probe' }, data: { n: '0' } });
    for (let n = 1; !stopped; n++) {
      const t0 = performance.now();
      await request(c, 'PUT', '/api/v1/namespaces/default/configmaps/probe', { metadata: { name: 'probe' }, data: { n: String(n) } });
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (performance.now() - t0))));
    }
  })();
  return async () => { stopped = true; await loop; };
}

const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);
function report(label: string, value: number, target: number, unit: string, higherIsBetter = false): void {
  const met = higherIsBetter ? value >= target : value < target;
  console.log(`${label.padEnd(44)} ${value.toFixed(1).padStart(9)} ${unit.padEnd(5)} target ${higherIsBetter ? '≥' : '<'} ${target} ${unit}   ${met ? 'MET' : 'MISSED'}`);
}

/** bestWindowRate is the most events in any `windowMs` window of `sorted` times, per second. */
function bestWindowRate(sorted: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! > windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return (best * 1000) / windowMs;
}

async function waitAllRunning(times: Map<string, PodTimes>, deadline: number): Promise<number> {
  for (;;) {
    let running = 0;
    for (const t of times.values()) if (t.running !== undefined) running++;
    if (running >= PODS || performance.now() > deadline) return running;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function run(c: Conn): Promise<void> {
  const times = new Map<string, PodTimes>();
  const list = JSON.parse((await request(c, 'GET', '/api/v1/namespaces/default/pods?limit=1')).body);
  const closeWatch = watchPods(c, list.metadata.resourceVersion, times);
  const mutating: number[] = [];
  const stopProber = startProber(c, mutating);
  const t0 = performance.now();
  for (let i = 0; i < REPLICASETS; i += 10) {
    await Promise.all(Array.from({ length: 10 }, async (_, k) => {
      const s = performance.now();
      const res = await request(c, 'POST', '/apis/apps/v1/namespaces/default/replicasets', replicaSet(i + k));
      mutating.push(performance.now() - s);
      if (res.status !== 201) throw new Error(`creating rs-${i + k}: ${res.status} ${res.body}`);
    }));
  }
  const running = await waitAllRunning(times, t0 + DEADLINE_MS);
  const tEnd = performance.now();
  await stopProber();
  closeWatch();

  const all = [...times.values()];
  const added = sortNum(all.map((t) => t.added));
  const bound = sortNum(all.flatMap((t) => (t.bound === undefined ? [] : [t.bound])));
  const startup = sortNum(all.flatMap((t) => (t.running === undefined ? [] : [t.running - t.added])));
  const lag = sortNum(all.flatMap((t) => (t.bound === undefined ? [] : [t.bound - t.added])));
  const span = (xs: number[]) => ((xs.at(-1) ?? 0) - (xs[0] ?? 0)) / 1000;
  console.log(`pods: ${all.length} seen, ${bound.length} bound, ${running} running${running < PODS ? ` (gave up after ${DEADLINE_MS / 1000} s)` : ''}`);
  console.log(`pod creation (ReplicaSet controller): ${(added.length / span(added)).toFixed(1)} pods/s over ${span(added).toFixed(1)} s`);
  console.log(`binding lag (seen → bound): p50 ${percentile(lag, 50).toFixed(0)} ms, p99 ${percentile(lag, 99).toFixed(0)} ms`);
  console.log(`mutating calls sampled: ${mutating.length} (100 ReplicaSet creates + ConfigMap prober every 50 ms); p50 ${percentile(sortNum(mutating), 50).toFixed(1)} ms\n`);
  report('scheduling throughput (overall)', bound.length / Math.max(0.001, span([added[0] ?? 0, bound.at(-1) ?? 0])), 500, 'pods/s', true);
  report('scheduling throughput (best 5 s)', bestWindowRate(bound, 5000), 500, 'pods/s', true);
  console.log(`${'time until all pods Running'.padEnd(44)} ${((tEnd - t0) / 1000).toFixed(1).padStart(9)} s`);
  console.log(`${'pod startup latency p50'.padEnd(44)} ${(percentile(startup, 50) / 1000).toFixed(2).padStart(9)} s`);
  report('pod startup latency p99', percentile(startup, 99) / 1000, 5, 's');
  report('API mutating-call p99 during the run', percentile(sortNum(mutating), 99), 1000, 'ms');
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'coracle-bench-scheduler-'));
  const up = await startChild(['up', '--port', '0', '--data-dir', dataDir], /cluster ready at (https:\/\/\S+)/, {},
    // BENCH_UP_NODE_ARGS: node options for `coracle up` alone, e.g. `--prof` or `--cpu-prof --cpu-prof-dir=DIR`.
    (process.env.BENCH_UP_NODE_ARGS ?? '').split(' ').filter(Boolean));
  const c: Conn = {
    url: up.match[1]!, ca: await readFile(path.join(dataDir, 'ca.crt'), 'utf8'),
    token: (await readFile(path.join(dataDir, 'tokens.csv'), 'utf8')).split(',')[0]!,
    agent: new https.Agent({ keepAlive: true, maxSockets: 32 }),
  };
  let agent: ChildProcess | undefined;
  try {
    console.log(`coracle up at ${c.url} (SQLite store in ${dataDir}); node ${process.version}, ${os.cpus().length} CPUs`);
    const started = performance.now();
    const hollow = await startChild(['agent', '--hollow', String(NODES), '--node-name', 'hollow', '--server', c.url, '--ca-file', path.join(dataDir, 'ca.crt'), '--runtime', 'simulated'],
      /ready \(\d+ hollow nodes\)/, { CORACLE_AGENT_TOKEN: c.token });
    agent = hollow.child;
    console.log(`${NODES} hollow nodes registered in ${((performance.now() - started) / 1000).toFixed(1)} s (4 cpu, 16Gi, 110 pods each); ` +
      `${REPLICASETS} ReplicaSets × ${REPLICAS} replicas (100m cpu, 64Mi each)\n`);
    await run(c);
  } catch (err) {
    console.error(`coracle up stderr (tail):\n${up.stderr().slice(-3000)}`);
    throw err;
  } finally {
    c.agent.destroy();
    if (agent) await stopChild(agent);
    await stopChild(up.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
