/**
 * The store benchmark (`npm run bench:store`): for each Store adapter (bench/store-adapters.ts) and
 * for etcd when installed, the same workload:
 * - acknowledged creates per second with 1 and with 64 concurrent writers;
 * - a full list of 10,000 objects (median of 3);
 * - watch delivery latency to 100 watchers while one writer creates objects at a steady rate,
 *   measured from the moment each create was issued to its delivery to each watcher.
 * Objects are about 1 KB of JSON, like a small Pod. Figures are measured, never adjusted.
 */
import { performance } from 'node:perf_hooks';
import type { StoredValue } from '../shared/store/store.js';
import { benchStoreEntries } from './store-adapters.js';
import { startEtcd } from './etcd.js';
import { storeTarget, type BenchTarget } from './targets.js';
import { percentile } from './support.js';

const WRITE_SECONDS = Number(process.env.BENCH_WRITE_SECONDS ?? 3);
const LIST_SIZE = 10_000;
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 100);
const WATCH_WRITES = 400;
const WATCH_WRITES_PER_SECOND = 200;

/** Figures are one backend's results. */
interface Figures {
  writesPerSecond1: number;
  writesPerSecond64: number;
  listMs: number;
  watchP50Ms: number;
  watchP99Ms: number;
  delivered: string;
}

const PAD = 'x'.repeat(700);
function podLike(name: string, extra: StoredValue = {}): StoredValue {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'bench', labels: { app: 'bench', tier: 'web' } },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', args: ['sleep', '3600'] }], nodeName: 'node-1' },
    status: { phase: 'Running', message: PAD },
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** writeRate runs `writers` loops of creates for WRITE_SECONDS; returns acknowledged creates per second. */
async function writeRate(target: BenchTarget, writers: number, prefix: string): Promise<number> {
  let acknowledged = 0;
  const start = performance.now();
  const stopAt = start + WRITE_SECONDS * 1000;
  const writer = async (w: number) => {
    for (let i = 0; performance.now() < stopAt; i++) {
      await target.create(`${prefix}${w}/${i}`, podLike(`w${w}-${i}`));
      acknowledged++;
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  return acknowledged / ((performance.now() - start) / 1000);
}

/** listTime fills LIST_SIZE objects (64 writers, untimed) and times full lists; returns the median ms. */
async function listTime(target: BenchTarget): Promise<number> {
  let next = 0;
  const fill = async () => {
    for (let i = next++; i < LIST_SIZE; i = next++) await target.create(`/bench/list/${String(i).padStart(5, '0')}`, podLike(`l${i}`));
  };
  await Promise.all(Array.from({ length: 64 }, fill));
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    const count = await target.list('/bench/list/');
    times.push(performance.now() - start);
    if (count !== LIST_SIZE) throw new Error(`list returned ${count} objects, expected ${LIST_SIZE}`);
  }
  return times.sort((a, b) => a - b)[1];
}

/** watchLatency returns every delivery latency (ms) of WATCH_WRITES creates to WATCHERS watchers. */
async function watchLatency(target: BenchTarget): Promise<number[]> {
  const latencies: number[] = [];
  const ac = new AbortController();
  const onPut = (value: StoredValue) => latencies.push(performance.now() - (value.sentAt as number));
  await Promise.all(Array.from({ length: WATCHERS }, () => target.watch('/bench/watch/', onPut, ac.signal)));
  const start = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < WATCH_WRITES; i++) {
    const due = start + (i * 1000) / WATCH_WRITES_PER_SECOND;
    if (due > performance.now()) await sleep(due - performance.now());
    writes.push(target.create(`/bench/watch/${i}`, podLike(`watch-${i}`, { sentAt: performance.now() })));
  }
  await Promise.all(writes);
  const expected = WATCHERS * WATCH_WRITES;
  for (let waited = 0; latencies.length < expected && waited < 10_000; waited += 50) await sleep(50);
  ac.abort();
  return latencies;
}


async function measure(name: string, target: BenchTarget): Promise<Figures> {
  console.log(`${name}: writes with 1 writer...`);
  const writesPerSecond1 = await writeRate(target, 1, '/bench/one/');
  console.log(`${name}: writes with 64 writers...`);
  const writesPerSecond64 = await writeRate(target, 64, '/bench/many/');
  console.log(`${name}: list of ${LIST_SIZE}...`);
  const listMs = await listTime(target);
  console.log(`${name}: watch latency to ${WATCHERS} watchers...`);
  const latencies = (await watchLatency(target)).sort((a, b) => a - b);
  return {
    writesPerSecond1,
    writesPerSecond64,
    listMs,
    watchP50Ms: percentile(latencies, 50),
    watchP99Ms: percentile(latencies, 99),
    delivered: `${latencies.length}/${WATCHERS * WATCH_WRITES}`,
  };
}

const COLUMNS: [string, (f: Figures) => string][] = [
  ['writes/s (1 writer)', (f) => f.writesPerSecond1.toFixed(0)],
  ['writes/s (64 writers)', (f) => f.writesPerSecond64.toFixed(0)],
  [`list ${LIST_SIZE} (ms)`, (f) => f.listMs.toFixed(1)],
  ['watch p50 (ms)', (f) => f.watchP50Ms.toFixed(2)],
  ['watch p99 (ms)', (f) => f.watchP99Ms.toFixed(2)],
  ['watch delivered', (f) => f.delivered],
];

function printTable(results: Map<string, Figures>): void {
  const rows = [['backend', ...COLUMNS.map(([title]) => title)]];
  for (const [name, f] of results) rows.push([name, ...COLUMNS.map(([, cell]) => cell(f))]);
  const sqlite = results.get('sqlite');
  const etcd = results.get('etcd');
  if (sqlite && etcd) {
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    rows.push(['sqlite/etcd', ratio(sqlite.writesPerSecond1, etcd.writesPerSecond1),
      ratio(sqlite.writesPerSecond64, etcd.writesPerSecond64), ratio(sqlite.listMs, etcd.listMs),
      ratio(sqlite.watchP50Ms, etcd.watchP50Ms), ratio(sqlite.watchP99Ms, etcd.watchP99Ms), '']);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ');
  console.log(`\n${line(rows[0])}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}`);
  for (const r of rows.slice(1)) console.log(line(r));
  if (etcd) {
    console.log('etcd is driven through its JSON gateway (HTTP/1.1, base64 keys and values, one connection per watch),');
    console.log('which costs more per request and per watch event than its native gRPC; ratios are against that path.');
  }
  if (sqlite) {
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`\nsqlite targets: >=5,000 writes/s at 64 writers: ${verdict(sqlite.writesPerSecond64 >= 5000)}; ` +
      `>=500 writes/s at 1: ${verdict(sqlite.writesPerSecond1 >= 500)}; watch p99 < 20 ms: ${verdict(sqlite.watchP99Ms < 20)}`);
  }
}

/** BENCH_STORE_ONLY=name[,name] runs only those backends (sqlite, cosmos (emulator), etcd). */
const ONLY = process.env.BENCH_STORE_ONLY?.split(',').map((s) => s.trim());
const selected = (name: string) => !ONLY || ONLY.some((o) => name.startsWith(o));

async function main(): Promise<void> {
  const results = new Map<string, Figures>();
  for (const entry of (await benchStoreEntries()).filter((e) => selected(e.name))) {
    const { store, destroy } = await entry.open();
    try {
      results.set(entry.name, await measure(entry.name, storeTarget(store, destroy)));
    } finally {
      await destroy();
    }
  }
  const etcd = selected('etcd') ? await startEtcd() : undefined;
  if (!etcd) {
    if (selected('etcd')) console.log('(etcd is not installed: no baseline)');
  } else {
    try {
      results.set('etcd', await measure('etcd', etcd));
    } finally {
      await etcd.close();
    }
  }
  printTable(results);
}

await main();
