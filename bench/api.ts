/**
 * `npm run bench:api`: the API server's targets (issue 3) on the local host with the SQLite store.
 * Starts `coracle up` on a temporary data folder as a child process and talks HTTPS with
 * keep-alive, as a client would:
 * - mutating calls: pod creates at 200/s, open loop, for 15 s (p50/p99, achieved rate);
 * - the sustained create rate at saturation (64 in flight for 10 s), printed (issue 13);
 * - single-object get p99;
 * - a list of 10,000 pods (JSON);
 * - watch delivery with 100 watch streams: time from a create being issued to its ADDED event.
 *
 * `BENCH_API_PROFILE=<dir>` starts the server under the inspector and writes one CPU profile of it
 * per scenario (`create`, `get`, `list`, `watch`) to that folder (see bench/inspector.ts and
 * bench/profile-summary.ts). The profiler costs the server a little time: compare figures from
 * runs without it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSPECT_FLAG, InspectorProfiler, inspectorUrl } from './inspector.js';
import { onWatchEvents, percentile, request, type Conn } from './support.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'coracle.js');
const NS = 'bench';


/** startUp runs `coracle up` (under the inspector when profiling) and resolves once its ready line is printed. */
async function startUp(dataDir: string, profileDir: string | undefined) {
  const node = profileDir ? [INSPECT_FLAG] : [];
  const child = spawn(process.execPath, [...node, CLI, 'up', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const inspector = profileDir ? inspectorUrl(child.stderr) : undefined;
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /cluster ready at (https:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`coracle up exited (${code}): ${err}`)));
  });
  const profiler = inspector && profileDir ? await InspectorProfiler.connect(await inspector, profileDir) : undefined;
  return { child, url, profiler };
}

const pod = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
});

/** loadAverage is the machine's load (other work skews every figure: print it beside them). */
const loadAverage = () => `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;

const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);
const ms = (x: number) => `${x.toFixed(1)} ms`;
function report(label: string, value: number, target: number, unit = ' ms'): void {
  console.log(`${label.padEnd(44)} ${value.toFixed(1).padStart(9)}${unit}   target < ${target}${unit}   ${value < target ? 'MET' : 'MISSED'}`);
}

/** failed describes failed requests by status (0: no answer in time, -1: connection error), e.g. `12 (429: 10, -1: 2)`. */
function failed(byStatus: Map<number, number>): string {
  const total = [...byStatus.values()].reduce((a, b) => a + b, 0);
  return total === 0 ? '0' : `${total} (${[...byStatus].map(([status, n]) => `${status}: ${n}`).join(', ')})`;
}

/** createAtRate issues `rate` creates a second for `seconds` without waiting for answers (open loop). */
async function createAtRate(c: Conn, prefix: string, rate: number, seconds: number, sent?: Map<string, number>) {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const failures = new Map<number, number>();
  const start = performance.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const name = `${prefix}-${i}`;
    const t0 = performance.now();
    sent?.set(name, t0);
    pending.push(request(c, 'POST', `/api/v1/namespaces/${NS}/pods`, pod(name)).then((res) => {
      if (res.status !== 201) failures.set(res.status, (failures.get(res.status) ?? 0) + 1);
      latencies.push(performance.now() - t0);
    }));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  const failedCount = [...failures.values()].reduce((a, b) => a + b, 0);
  return { latencies: sortNum(latencies), rate: total / elapsed, failures: failed(failures), created: total - failedCount };
}

/** openWatch streams pod events from `rv`, calling `onAdded` with each ADDED pod's name. */
function openWatch(c: Conn, rv: string, onAdded: (name: string) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(`/api/v1/namespaces/${NS}/pods?watch=1&resourceVersion=${rv}`, c.url), {
      ca: c.ca, headers: { authorization: `Bearer ${c.token}`, accept: 'application/json' },
    }, (res) => {
      onWatchEvents<{ metadata: { name: string } }>(res, (e) => {
        if (e.type === 'ADDED') onAdded(e.object.metadata.name);
      });
      resolve(() => req.destroy());
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

/** createsAtSaturation keeps `inFlight` creates going for `seconds` (closed loop) and reports the rate of successful ones. */
async function createsAtSaturation(c: Conn, prefix: string, inFlight: number, seconds: number) {
  const latencies: number[] = [];
  let ok = 0;
  const failures = new Map<number, number>();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await request(c, 'POST', `/api/v1/namespaces/${NS}/pods`, pod(`${prefix}-${n++}`));
      latencies.push(performance.now() - t0);
      if (res.status === 201) ok++;
      else failures.set(res.status, (failures.get(res.status) ?? 0) + 1);
    }
  }));
  return { rate: ok / ((performance.now() - start) / 1000), failures: failed(failures), latencies: sortNum(latencies), created: ok };
}

async function benchWatch(c: Conn, watchers: number, rate: number, seconds: number) {
  const list = JSON.parse((await request(c, 'GET', `/api/v1/namespaces/${NS}/pods?limit=1`)).body);
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const closers = await Promise.all(Array.from({ length: watchers }, () => openWatch(c, list.metadata.resourceVersion, (name) => {
    const t0 = sent.get(name);
    if (t0 !== undefined) latencies.push(performance.now() - t0);
  })));
  const creates = await createAtRate(c, 'watched', rate, seconds, sent);
  const expected = creates.latencies.length * watchers;
  const deadline = Date.now() + 10_000;
  while (latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  closers.forEach((close) => close());
  return { latencies: sortNum(latencies), expected, creates };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'coracle-bench-api-'));
  const profileDir = process.env.BENCH_API_PROFILE;
  const { child, url, profiler } = await startUp(dataDir, profileDir ? path.resolve(profileDir) : undefined);
  const phase = <T>(name: string, work: () => Promise<T>): Promise<T> => (profiler ? profiler.profile(name, work) : work());
  const c: Conn = {
    url, ca: await readFile(path.join(dataDir, 'ca.crt'), 'utf8'),
    token: (await readFile(path.join(dataDir, 'tokens.csv'), 'utf8')).split(',')[0]!,
    agent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };
  try {
    console.log(`coracle up at ${url} (SQLite store in ${dataDir}); node ${process.version}, ${os.cpus().length} CPUs, ${loadAverage()}\n`);
    await request(c, 'POST', '/api/v1/namespaces', { metadata: { name: NS } });
    await createAtRate(c, 'warm', 50, 2);

    const m = await phase('create', () => createAtRate(c, 'rate', 200, 15));
    console.log(`creates: ${m.latencies.length} at ${m.rate.toFixed(1)}/s achieved, ${m.failures} failed; p50 ${ms(percentile(m.latencies, 50))}`);
    report('mutating (pod create) p99 at 200/s', percentile(m.latencies, 99), 50);

    // Issue 13: the sustained create rate at saturation (closed loop, 64 at a time, 10 s).
    const sat = await phase('saturate', () => createsAtSaturation(c, 'sat', 64, 10));
    console.log(`creates at saturation: ${sat.rate.toFixed(1)}/s sustained over 10 s (64 in flight), ${sat.failures} failed; p99 ${ms(percentile(sat.latencies, 99))}`);

    const gets: number[] = [];
    await phase('get', async () => {
      for (let i = 0; i < 2000; i++) {
        const t0 = performance.now();
        await request(c, 'GET', `/api/v1/namespaces/${NS}/pods/rate-${(i * 7919) % m.latencies.length}`);
        gets.push(performance.now() - t0);
      }
    });
    const g = sortNum(gets);
    console.log(`gets: 2000 sequential; p50 ${ms(percentile(g, 50))}`);
    report('single-object get p99', percentile(g, 99), 10);

    // The pods so far (the warm-up's 100 included): the list below is of 10,000.
    const have = m.created + 100 + sat.created;
    const fill: Promise<unknown>[] = [];
    for (let i = have; i < 10_000; i++) {
      fill.push(request(c, 'POST', `/api/v1/namespaces/${NS}/pods`, pod(`fill-${i}`)));
      if (fill.length >= 32) await Promise.all(fill.splice(0));
    }
    await Promise.all(fill);
    const listTimes: number[] = [];
    let count = 0;
    await phase('list', async () => {
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const res = await request(c, 'GET', `/api/v1/namespaces/${NS}/pods`);
        listTimes.push(performance.now() - t0);
        count = JSON.parse(res.body).items.length;
      }
    });
    console.log(`list: ${count} pods, JSON; runs ${listTimes.map(ms).join(', ')}`);
    report(`list of ${count} pods (median of 3)`, sortNum(listTimes)[1]!, 1000);

    const w = await phase('watch', () => benchWatch(c, 100, 20, 5));
    console.log(`watch: 100 streams, ${w.creates.latencies.length} creates at ${w.creates.rate.toFixed(1)}/s; ` +
      `${w.latencies.length}/${w.expected} events delivered; p50 ${ms(percentile(w.latencies, 50))}`);
    report('watch delivery p99 (100 watchers)', percentile(w.latencies, 99), 100);
    console.log(`\n${loadAverage()} at the end`);
  } finally {
    profiler?.close();
    c.agent.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
