/**
 * `npm run bench:scheduler`: the scheduler's targets (issues 5 and 13) in the style of
 * kube-scheduler's scheduler_perf, on the local host with the SQLite store: `coracle up`, 1,000
 * hollow nodes in one `coracle agent --hollow 1000` process, then 100 ReplicaSets of 100 replicas
 * (10,000 pods made by the ReplicaSet controller, placed by the scheduler, run by the hollow
 * nodes). `--nodes 5000 --pods 30000` runs the larger case of issue 13 (ReplicaSets of
 * `--replicas`, default 100, each). Measured from watches in this process:
 * - scheduling throughput: pods bound per second, overall and the best 5-second window, next to
 *   the rate pods were created at (the scheduler cannot bind pods faster than they appear);
 * - time from the first ReplicaSet create until all pods are Running;
 * - pod startup latency p50/p99: pod first seen (ADDED; creationTimestamp has whole-second
 *   resolution, so the watch's sighting stands in for it) → Running seen;
 * - API mutating-call p99 during the run, client side: the bench's own ReplicaSet creates plus a
 *   prober that writes a ConfigMap every 50 ms (the SLO's "mutating API call" sample);
 * - the control plane's resident memory at the end (and its peak);
 * - every node Lease's renewals: the longest gap, and how many Leases once went longer than
 *   their leaseDurationSeconds without one.
 * Both processes run under the inspector and are CPU-profiled for the run (`--no-profile`: not);
 * for each target missed the report prints why and the profile's top entries
 * (bench/scheduler-report.ts). Profiles stay in `--profile-dir` (default: a temporary folder).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LEASE_DURATION_SECONDS } from '../agent/node.js';
import { INSPECT_FLAG, InspectorProfiler } from './inspector.js';
import { printRunReport, type LeaseFigures, type PodTimes } from './scheduler-report.js';
import { onWatchEvents, processTreeRss, request, startChild, stopChild, type Child, type Conn } from './support.js';

// The workload's shape: options, else BENCH_* (the targets are for the defaults).
const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string' }, pods: { type: 'string' }, replicas: { type: 'string' }, deadline: { type: 'string' },
    'no-profile': { type: 'boolean' }, 'profile-dir': { type: 'string' },
  },
});
const intOf = (option: string | undefined, env: string, fallback: number) => Number(option ?? process.env[env] ?? '') || fallback;
const NODES = intOf(opts.nodes, 'BENCH_NODES', 1000);
const REPLICAS = intOf(opts.replicas, 'BENCH_REPLICAS', 100);
const REPLICASETS = opts.pods ? Math.ceil(Number(opts.pods) / REPLICAS) : intOf(undefined, 'BENCH_REPLICASETS', 100);
const PODS = REPLICASETS * REPLICAS;
// 240 s for 10,000 pods, proportionally more for more.
const DEADLINE_MS = intOf(opts.deadline, 'BENCH_DEADLINE_S', Math.max(240, Math.ceil((240 * PODS) / 10_000))) * 1000;
const PROFILE = !opts['no-profile'];

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

/** loadAverage is the machine's load (other work skews every figure: print it beside them). */
const loadAverage = () => `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;

async function waitAllRunning(times: Map<string, PodTimes>, deadline: number): Promise<void> {
  for (;;) {
    let running = 0;
    for (const t of times.values()) if (t.running !== undefined) running++;
    if (running >= PODS || performance.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** LeaseWatch records when each node Lease's renewals arrive; `figures()` sums them up at the end. */
function watchLeases(c: Conn, durationSeconds: number): { close(): void; figures(): LeaseFigures } {
  const last = new Map<string, number>();
  const gaps: number[] = [];
  const late = new Set<string>();
  let renewals = 0;
  const req = https.request(new URL('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?watch=1', c.url), {
    ca: c.ca, headers: { authorization: `Bearer ${c.token}`, accept: 'application/json' },
  }, (res) => {
    onWatchEvents<{ metadata: { name: string } }>(res, (e, now) => {
      if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
      const name = e.object.metadata.name;
      const before = last.get(name);
      last.set(name, now);
      // ADDED at the start is the Lease as it stands (the watch starts without a revision): not a renewal.
      if (before === undefined) return;
      renewals++;
      gaps.push(now - before);
      if (now - before > durationSeconds * 1000) late.add(name);
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    close: () => req.destroy(),
    figures: () => {
      const end = performance.now();
      let maxGapMs = Math.max(0, ...gaps);
      for (const [name, at] of last) {
        maxGapMs = Math.max(maxGapMs, end - at);
        if (end - at > durationSeconds * 1000) late.add(name);
      }
      return { leases: last.size, renewals, gaps, maxGapMs, late: late.size, durationSeconds };
    },
  };
}

/** Profilers are the CPU profilers of the two processes, when profiling. */
interface Profilers { controlPlane: InspectorProfiler; agent: InspectorProfiler }

const inspectorOf = (child: Child) => /Debugger listening on (ws:\/\/\S+)/.exec(child.stderr())?.[1];

/** connectProfilers connects to both children's inspectors (undefined when not profiling or one is unreachable). */
async function connectProfilers(up: Child, agent: Child, dir: string): Promise<Profilers | undefined> {
  const [upUrl, agentUrl] = [inspectorOf(up), inspectorOf(agent)];
  if (!PROFILE || !upUrl || !agentUrl) return undefined;
  return {
    controlPlane: await InspectorProfiler.connect(upUrl, path.join(dir, 'control-plane')),
    agent: await InspectorProfiler.connect(agentUrl, path.join(dir, 'hollow-agent')),
  };
}

async function run(c: Conn, up: Child, profilers: Profilers | undefined, profileDir: string): Promise<void> {
  const times = new Map<string, PodTimes>();
  const list = JSON.parse((await request(c, 'GET', '/api/v1/namespaces/default/pods?limit=1')).body);
  const closeWatch = watchPods(c, list.metadata.resourceVersion, times);
  const leases = watchLeases(c, LEASE_DURATION_SECONDS);
  const mutating: number[] = [];
  const stopProber = startProber(c, mutating);
  const t0 = performance.now();
  const work = async () => {
    for (let i = 0; i < REPLICASETS; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, REPLICASETS - i) }, async (_, k) => {
        const res = await request(c, 'POST', '/apis/apps/v1/namespaces/default/replicasets', replicaSet(i + k));
        mutating.push(res.ms);
        if (res.status !== 201) throw new Error(`creating rs-${i + k}: ${res.status} ${res.body}`);
      }));
    }
    await waitAllRunning(times, t0 + DEADLINE_MS);
  };
  // Both profiles cover the same span: from the first ReplicaSet create until all pods run.
  if (profilers) await profilers.controlPlane.profile('run', () => profilers.agent.profile('run', work));
  else await work();
  const elapsedMs = performance.now() - t0;
  const rss = processTreeRss(up.child.pid!);
  await stopProber();
  closeWatch();
  const leaseFigures = leases.figures();
  leases.close();
  console.log('');
  printRunReport({
    pods: PODS, times, elapsedMs, deadlineMs: DEADLINE_MS, mutating, rss, leases: leaseFigures,
    profiles: {
      controlPlane: { name: `control plane (coracle up, pid ${up.child.pid})`, file: profilers ? path.join(profileDir, 'control-plane', 'run.cpuprofile') : undefined },
      agent: { name: 'hollow agent', file: profilers ? path.join(profileDir, 'hollow-agent', 'run.cpuprofile') : undefined },
    },
  });
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'coracle-bench-scheduler-'));
  const profileDir = opts['profile-dir'] ? path.resolve(opts['profile-dir']) : await mkdtemp(path.join(os.tmpdir(), 'coracle-bench-scheduler-profiles-'));
  const inspect = PROFILE ? [INSPECT_FLAG] : [];
  const up = await startChild(['up', '--port', '0', '--data-dir', dataDir], /cluster ready at (https:\/\/\S+)/, {},
    // BENCH_UP_NODE_ARGS: more node options for `coracle up` alone, e.g. `--prof`.
    [...inspect, ...(process.env.BENCH_UP_NODE_ARGS ?? '').split(' ').filter(Boolean)]);
  const c: Conn = {
    url: up.match[1]!, ca: await readFile(path.join(dataDir, 'ca.crt'), 'utf8'),
    token: (await readFile(path.join(dataDir, 'tokens.csv'), 'utf8')).split(',')[0]!,
    agent: new https.Agent({ keepAlive: true, maxSockets: 32 }),
  };
  let agent: ChildProcess | undefined;
  let profilers: Profilers | undefined;
  try {
    console.log(`coracle up at ${c.url} (SQLite store in ${dataDir}); node ${process.version}, ${os.cpus().length} CPUs, ${loadAverage()}`);
    const started = performance.now();
    const hollow = await startChild(['agent', '--hollow', String(NODES), '--node-name', 'hollow', '--server', c.url, '--ca-file', path.join(dataDir, 'ca.crt'), '--runtime', 'simulated'],
      /ready \(\d+ hollow nodes\)/, { CORACLE_AGENT_TOKEN: c.token }, inspect);
    agent = hollow.child;
    console.log(`${NODES} hollow nodes registered in ${((performance.now() - started) / 1000).toFixed(1)} s (4 cpu, 16Gi, 110 pods each); ` +
      `${REPLICASETS} ReplicaSets × ${REPLICAS} replicas (100m cpu, 64Mi each)`);
    profilers = await connectProfilers(up, hollow, profileDir);
    await run(c, up, profilers, profileDir);
    console.log(`\n${loadAverage()} at the end (other work on the machine slows every figure)`);
  } catch (err) {
    console.error(`coracle up stderr (tail):\n${up.stderr().slice(-3000)}`);
    throw err;
  } finally {
    profilers?.controlPlane.close();
    profilers?.agent.close();
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
