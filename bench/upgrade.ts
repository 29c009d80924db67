/**
 * `npm run bench:upgrade`: the cluster-upgrade target of issue 11 — "Upgrade of a 20-node hollow
 * pool (pods that start in 1 s): wall time next to the sum of the waits the settings impose; the
 * control plane's own share under 10%."
 *
 * `coracle up --nodes 20 --runtime simulated` (SQLite store; nodes node-1 … node-20 of NodePool
 * `node`, one `coracle agent` process each, started by the LocalNodeProvider; the simulated
 * runtime's pods run and are ready 1 s after their node gets them — its default start delay),
 * release B (`v1.35.1-coracle`) packed from this build and added to the catalog, a Deployment of
 * 40 replicas (two per node) and a PodDisruptionBudget `maxUnavailable: 1`. The pool's upgrade
 * settings are the defaults (maxSurge 10% → 2 nodes a batch, 10 batches, drainTimeout 30m,
 * nodeSoakDuration 0s). One UpgradeRun to B is timed from its create to phase Succeeded.
 *
 * Observed in this process: watches of the UpgradeRun, the Nodes and the pods (re-listed and
 * re-watched whenever the API goes away, as it does while the control plane hands over), and the
 * LocalNodeProvider's `<data>/nodes.json` (written just before an agent is started or stopped:
 * the moment a machine is asked for or removed).
 *
 * The waits the settings impose — the time an upgrade of this pool would take with an
 * infinitely fast control plane — are the union, over the pool phase (control plane step done →
 * Succeeded), of these node-side intervals:
 * - surge boot: each surge node, from its machine asked for (nodes.json) to its Node seen Ready
 *   at B (maxSurge decides how many there are; the agent process starts and registers);
 * - pod start: each pod created in the pool phase (the evicted pods' replacements), from seen
 *   bound to a node to seen Ready — the 1 s start delay; the budget serializes them, since the
 *   next eviction needs the replacement Ready;
 * - pod stop: each evicted pod, from seen terminating to seen gone (terminationGracePeriod and
 *   preStop; the simulated runtime stops a pod in 100 ms whatever its grace period);
 * - machine removal: each old node, from its machine's removal asked for (nodes.json) to its Node
 *   seen deleted (the agent stopping);
 * - soak: nodeSoakDuration after each batch's drain (0 s by default, so empty here).
 * As in bench:rollout these intervals include the delivery of the work to the node (the pod's
 * queue item), which is the control plane's; they make its share, if anything, look smaller.
 * Each kind is printed with its sum; "imposed" is their union (parallel waits count once).
 *
 * The control plane's own share = (wall − imposed) / wall: the control plane step (the one
 * `coracle up` process stops, its agents too, and hands over to release B's), the
 * orchestration's activities and durable timers (looks at surge nodes and eviction rounds every
 * 0.5 s until nothing has moved for 10 s, then twice as long each time), the change feed,
 * controllers and the disruption budget's status — and, in the first batch, the wait for release
 * B's `coracle up` to have its agents back (it serves, so the step records Upgraded, first; the
 * first surge add waits for its nodes). Each batch's time is split the same way, and
 * the control plane's time is attributed to the stretch of the run it falls in, which says what
 * dominates it. Also printed, for information: the peak RSS of the `coracle up` processes.
 */
import { readFileSync, watch as watchDir } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, onWatchEvents, peakRssBytes, report, request, startChild, stopChild, type Child, type Conn } from './support.js';

const run = promisify(execFile);
const NODES = 20;
const REPLICAS = 40;
const TARGET = 'v1.35.1-coracle';
const RUN = 'bench-upgrade';
const SETUP_DEADLINE_MS = 180_000;
const UPGRADE_DEADLINE_MS = 420_000;
const NS = 'default';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; deletionTimestamp?: string }; spec?: any; status?: any };
type Span = readonly [number, number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keyOf = (o: Obj) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const isReady = (o: Obj) => (o.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');

/**
 * Watch keeps `collection` in view across API outages: list (every item comes as SYNC, items gone
 * meanwhile as DELETED), then watch from the list's resourceVersion; when the stream ends or
 * fails (the control plane handing over), list and watch again. Events are time-stamped on receipt.
 */
class Watch {
  private readonly known = new Set<string>();
  private closed = false;
  private req: ReturnType<typeof https.request> | undefined;
  private onSynced!: () => void;
  /** Resolves once the first list was delivered. */
  readonly synced = new Promise<void>((resolve) => (this.onSynced = resolve));

  constructor(private readonly c: Conn, private readonly collection: string, private readonly onEvent: (type: string, obj: Obj, t: number) => void) {
    void this.loop();
  }

  private emit(type: string, obj: Obj, t: number): void {
    if (type === 'DELETED') this.known.delete(keyOf(obj));
    else this.known.add(keyOf(obj));
    this.onEvent(type, obj, t);
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      const list = await request(this.c, 'GET', this.collection, undefined, { timeoutMs: 10_000 });
      if (list.status !== 200) {
        await sleep(250);
        continue;
      }
      const t = performance.now();
      const body = JSON.parse(list.body) as { metadata: { resourceVersion: string }; items: Obj[] };
      const present = new Set(body.items.map(keyOf));
      for (const k of [...this.known].filter((k) => !present.has(k))) {
        const [namespace, name] = k.split('/');
        this.emit('DELETED', { metadata: { name: name!, namespace: namespace || undefined } }, t);
      }
      for (const item of body.items) this.emit('SYNC', item, t);
      this.onSynced();
      await this.stream(body.metadata.resourceVersion);
      await sleep(100);
    }
  }

  /** stream follows the watch until it ends, fails or reports an error (410 Gone). */
  private stream(rv: string): Promise<void> {
    return new Promise((done) => {
      const url = new URL(`${this.collection}?watch=1&resourceVersion=${rv}`, this.c.url);
      const req = https.request(url, { ca: this.c.ca, headers: { authorization: `Bearer ${this.c.token}`, accept: 'application/json' } }, (res) => {
        if (res.statusCode === 200) {
          onWatchEvents<Obj>(res, (e, t) => {
            if (e.type === 'ERROR') req.destroy();
            else if (e.type !== 'BOOKMARK') this.emit(e.type, e.object, t);
          });
        } else res.resume();
        res.on('end', () => done());
        res.on('close', () => done());
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
      req.on('close', () => done());
      this.req = req;
      req.end();
    });
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }
}

/** mergeSpans merges `spans` clipped to [from, to] into disjoint sorted spans. */
function mergeSpans(spans: readonly Span[], from: number, to: number): Span[] {
  const clipped = spans.map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of clipped) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** covered is how much of [from, to] the disjoint `merged` spans cover. */
function covered(merged: readonly Span[], from: number, to: number): number {
  return merged.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
}

const STEPS = ['Waiting', 'Surging', 'Draining', 'Drained', 'Replaced', 'Ready'] as const;

/**
 * Life is one lifetime of a name: a Node object (seen → deleted; `ready`: Ready at the target) or a
 * machine (asked for → removal asked for). Names come back: a surge node takes the lowest free
 * `node-<n>`, which is often an old node removed a batch before.
 */
interface Life { from: number; ready?: number; end?: number }

/** current is the name's lifetime that has not ended, opening one at `t` if there is none. */
function current(lives: Map<string, Life[]>, name: string, t: number): Life {
  const list = lives.get(name) ?? [];
  lives.set(name, list);
  let life = list[list.length - 1];
  if (!life || life.end !== undefined) list.push((life = { from: t }));
  return life;
}

/** Recorder keeps what the watches saw, time-stamped with performance.now(). */
class Recorder {
  created = 0;
  cpUpgrading?: number;
  cpUpgraded?: number;
  end?: number;
  phase = '';
  message = '';
  estimateSeconds?: number;
  soakSeconds = 0;
  batches: string[][] = [];
  /** Per old node and step: when it was first seen at that step (or a later one). */
  readonly steps = new Map<string, Map<string, number>>();
  /** Surge node → the batch it was added for. */
  readonly surgeBatch = new Map<string, number>();
  readonly nodes = new Map<string, Life[]>();
  readonly machines = new Map<string, Life[]>();
  readonly pods = new Map<string, { bound?: number; ready?: number; deleting?: number; gone?: number }>();
  /** coracle up's stdout lines (its own and, after the handover, release B's), time-stamped. */
  readonly upLines: { t: number; text: string }[] = [];

  onRun(type: string, obj: Obj, t: number): void {
    if (obj.metadata.name !== RUN || type === 'DELETED') return;
    const s = obj.status ?? {};
    if (s.controlPlane?.step === 'Upgrading' || s.controlPlane?.step === 'Upgraded') this.cpUpgrading ??= t;
    if (s.controlPlane?.step === 'Upgraded') this.cpUpgraded ??= t;
    if (s.plan && this.batches.length === 0) {
      const pool = s.plan.pools?.[0];
      this.batches = (pool?.batches ?? []).map((b: { name: string }[]) => b.map((n) => n.name));
      this.soakSeconds = Number(pool?.settings?.soakSeconds ?? 0);
      this.estimateSeconds = s.plan.estimateSeconds;
    }
    for (const n of (s.nodes ?? []) as { name: string; step: string; message?: string }[]) {
      const seen = this.steps.get(n.name) ?? new Map<string, number>();
      const rank = STEPS.indexOf(n.step as (typeof STEPS)[number]);
      for (let i = 0; i <= rank; i++) if (!seen.has(STEPS[i]!)) seen.set(STEPS[i]!, t);
      this.steps.set(n.name, seen);
      const surge = /surge node (\S+) (added|adopted)/.exec(n.message ?? '');
      const batch = this.batches.findIndex((b) => b.includes(n.name));
      if (surge && batch >= 0 && !this.surgeBatch.has(surge[1]!)) this.surgeBatch.set(surge[1]!, batch);
    }
    this.phase = s.phase ?? '';
    this.message = s.message ?? '';
    if (['Succeeded', 'Failed', 'Cancelled'].includes(this.phase)) this.end ??= t;
  }

  onNode(type: string, obj: Obj, t: number): void {
    const name = obj.metadata.name;
    if (type === 'DELETED') {
      const last = this.nodes.get(name)?.at(-1);
      if (last && last.end === undefined) last.end = t;
      return;
    }
    const life = current(this.nodes, name, t);
    if (isReady(obj) && obj.status?.nodeInfo?.kubeletVersion === TARGET) life.ready ??= t;
  }

  onPod(type: string, obj: Obj, t: number): void {
    const p = this.pods.get(keyOf(obj)) ?? {};
    this.pods.set(keyOf(obj), p);
    if (type === 'DELETED') {
      p.gone ??= t;
      return;
    }
    if (obj.spec?.nodeName) p.bound ??= t;
    if (isReady(obj)) p.ready ??= t;
    if (obj.metadata.deletionTimestamp) p.deleting ??= t;
  }

  /**
   * onMachines takes the names nodes.json lists now. While the control plane moves, release B's
   * provider rewrites the file node by node as it restores them: only names that are no old node
   * count then (a surge node), and nothing counts as removed.
   */
  onMachines(names: readonly string[], t: number): void {
    const old = new Set(this.batches.flat());
    const moving = this.cpUpgraded === undefined;
    for (const name of names) {
      const last = this.machines.get(name)?.at(-1);
      if ((!last || last.end !== undefined) && !(moving && old.has(name) && last)) current(this.machines, name, t);
    }
    if (moving) return;
    for (const [name, lives] of this.machines) {
      const last = lives.at(-1)!;
      if (last.end === undefined && !names.includes(name)) last.end = t;
    }
  }

  /** stepAt is when old node `node` was first seen at `step` (or later). */
  stepAt(node: string, step: (typeof STEPS)[number]): number | undefined {
    return this.steps.get(node)?.get(step);
  }

  /** surgeReady is when surge node `name`, asked for after `after`, was seen Ready at the target. */
  surgeReady(name: string, after: number): number | undefined {
    return this.nodes.get(name)?.find((l) => l.ready !== undefined && l.ready >= after)?.ready;
  }
}

/** Imposed are the node-side intervals of the pool phase, by kind (see the file comment). */
function imposedSpans(rec: Recorder, from: number, to: number): Map<string, Span[]> {
  const kinds = new Map<string, Span[]>(['surge boot', 'pod start', 'pod stop', 'machine removal', 'soak'].map((k) => [k, []]));
  const add = (kind: string, a: number | undefined, b: number | undefined) => {
    if (a !== undefined) kinds.get(kind)!.push([a, b ?? to]);
  };
  for (const [name, lives] of rec.machines) {
    for (const m of lives) {
      // A machine asked for after the run began is a surge node; one removed is an old node.
      if (m.from > rec.created) add('surge boot', m.from, rec.surgeReady(name, m.from));
      if (m.end !== undefined) add('machine removal', m.end, rec.nodes.get(name)?.find((l) => l.from <= m.end! && (l.end ?? Infinity) >= m.end!)?.end);
    }
  }
  for (const p of rec.pods.values()) {
    if (p.bound !== undefined && p.bound >= from) add('pod start', p.bound, p.ready ?? p.gone);
    if (p.deleting !== undefined && p.deleting >= from) add('pod stop', p.deleting, p.gone);
  }
  for (const batch of rec.batches) {
    const drained = Math.max(...batch.map((n) => rec.stepAt(n, 'Drained') ?? -Infinity));
    if (rec.soakSeconds > 0 && Number.isFinite(drained)) add('soak', drained, drained + rec.soakSeconds * 1000);
  }
  return kinds;
}

/** explain names what the control plane's time in each stretch of the run is. */
const WHY: Record<string, string> = {
  'control plane step': 'the handover: coracle up stops (its 20 agents too), release B\'s coracle up starts on the same port, and the step looks again every POLL_MS until B runs',
  'surge adds': 'activities around each add (run status writes, Events, one add after the other); after the handover the first add waits until release B\'s coracle up has its agents back',
  'surge Ready → cordon': 'the orchestration looks at the surge nodes every 0.5 s',
  'drain': 'the budget lets one pod go at a time: per pod the eviction, the ReplicaSet\'s replacement, its scheduling, the disruption budget\'s status and the next eviction round (every 0.5 s while the drain moves)',
  'remove → batch Ready': 'remove activities, Node delete, status writes',
  'Upgraded → first batch': 'the gate and the first batch\'s start after the control plane step',
  'between batches': 'the gate activity and the next batch\'s start',
  'finish': 'finishRun: the pool\'s status, upgradeHistory, the run\'s status',
};

async function setup(c: Conn): Promise<void> {
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: {
      replicas: REPLICAS, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'coracle/web:v1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
    },
  };
  const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } };
  for (const [p, body] of [[`/apis/apps/v1/namespaces/${NS}/deployments`, deployment], [`/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`, pdb]] as const) {
    const r = await request(c, 'POST', p, body);
    if (r.status !== 201) throw new Error(`create ${p}: ${r.status} ${r.body}`);
  }
  const end = performance.now() + SETUP_DEADLINE_MS;
  for (;;) {
    const d = await request(c, 'GET', `/apis/apps/v1/namespaces/${NS}/deployments/web`);
    const b = await request(c, 'GET', `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/web`);
    const available = d.status === 200 ? Number(JSON.parse(d.body).status?.availableReplicas ?? 0) : 0;
    const budget = b.status === 200 ? JSON.parse(b.body).status ?? {} : {};
    if (available === REPLICAS && budget.currentHealthy === REPLICAS && budget.disruptionsAllowed === 1) return;
    if (performance.now() > end) throw new Error(`the Deployment was not available (${available}/${REPLICAS}, budget ${JSON.stringify(budget)})`);
    await sleep(500);
  }
}

/** podsPerNode is the spread of the running pods over the nodes (min–max). */
async function podsPerNode(c: Conn): Promise<string> {
  const r = await request(c, 'GET', `/api/v1/namespaces/${NS}/pods`);
  const counts = new Map<string, number>();
  for (const p of (JSON.parse(r.body) as { items: Obj[] }).items) counts.set(p.spec?.nodeName ?? '', (counts.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  const values = [...counts.values()];
  return `${Math.min(...values)}–${Math.max(...values)} pods on each of ${counts.size} nodes`;
}

/** childUp finds the release's `coracle up` that `pid` handed over to (its child running `up`), for its RSS. */
function childUp(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children.find((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').includes('up'));
  } catch {
    return undefined;
  }
}

async function upgrade(c: Conn, dataDir: string, up: Child): Promise<void> {
  const upPid = up.child.pid!;
  const rec = new Recorder();
  let partial = '';
  up.child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const text of lines) rec.upLines.push({ t: performance.now(), text });
  });
  const readMachines = () => {
    try {
      const nodes = (JSON.parse(readFileSync(path.join(dataDir, 'nodes.json'), 'utf8')) as { nodes: { name: string }[] }).nodes;
      rec.onMachines(nodes.map((n) => n.name), performance.now());
    } catch {
      // between the write and the rename, or not there yet: the next event reads it
    }
  };
  readMachines();
  const files = watchDir(dataDir, (_event, file) => {
    if (file?.startsWith('nodes.json')) readMachines();
  });
  const watches = [
    new Watch(c, '/apis/coracle.io/v1/upgraderuns', (type, obj, t) => rec.onRun(type, obj, t)),
    new Watch(c, '/api/v1/nodes', (type, obj, t) => rec.onNode(type, obj, t)),
    new Watch(c, `/api/v1/namespaces/${NS}/pods`, (type, obj, t) => rec.onPod(type, obj, t)),
  ];
  try {
    await Promise.all(watches.map((w) => w.synced));
    rec.created = performance.now();
    const created = await request(c, 'POST', '/apis/coracle.io/v1/upgraderuns', { apiVersion: 'coracle.io/v1', kind: 'UpgradeRun', metadata: { name: RUN }, spec: { targetVersion: TARGET } });
    if (created.status !== 201) throw new Error(`UpgradeRun create: ${created.status} ${created.body}`);
    const deadline = rec.created + UPGRADE_DEADLINE_MS;
    while (rec.end === undefined) {
      if (performance.now() > deadline) throw new Error(`the run did not finish in ${UPGRADE_DEADLINE_MS / 1000} s (phase ${rec.phase}: ${rec.message})`);
      await sleep(50);
    }
    // The last Node deletes and pod events may trail the run's status by a moment.
    await sleep(1_000);
    if (rec.phase !== 'Succeeded') throw new Error(`the run ended ${rec.phase}: ${rec.message}`);
    print(rec);
  } finally {
    files.close();
    for (const w of watches) w.close();
  }
  const bPid = childUp(upPid);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  console.log(`\npeak RSS (VmHWM): coracle up at A (pid ${upPid}, then the parent of B's) ${mib(peakRssBytes(upPid))}; release B's coracle up${bPid ? ` (pid ${bPid})` : ''} ${bPid ? mib(peakRssBytes(bPid)) : 'not found'}`);
  console.log(`pods after the run: ${await podsPerNode(c)}`);
}

function print(rec: Recorder): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const at = (t: number | undefined) => (t === undefined ? '—' : s(t - rec.created));
  const end = rec.end!;
  const cpDone = rec.cpUpgraded ?? rec.created;
  const wall = end - rec.created;
  const kinds = imposedSpans(rec, cpDone, end);
  const all = mergeSpans([...kinds.values()].flat(), cpDone, end);
  const imposed = covered(all, cpDone, end);

  console.log(`\nUpgradeRun ${RUN} → ${TARGET}: ${rec.batches.length} batches of ${rec.batches[0]?.length ?? 0} old nodes, ${rec.surgeBatch.size} surge nodes; ${rec.message}`);
  console.log(`control plane step: Upgrading seen at ${at(rec.cpUpgrading)}, Upgraded at ${at(rec.cpUpgraded)} (the API was down while coracle up handed over to B)`);
  const line = (re: RegExp) => rec.upLines.find((l) => l.t > rec.created && re.test(l.text))?.t;
  const firstBatch = Math.min(...(rec.batches[0] ?? []).map((n) => rec.stepAt(n, 'Surging') ?? Infinity));
  console.log(`release B's coracle up printed "${NODES} node(s) ready" at ${at(line(/node\(s\) ready/))} and "cluster ready" at ${at(line(/cluster ready at/))}; the first batch began at ${at(firstBatch)}`);
  console.log(`\n${'batch'.padEnd(6)} ${'old nodes'.padEnd(17)} ${'start'.padStart(7)} ${'total'.padStart(7)} ${'surge'.padStart(7)} ${'→cordon'.padStart(8)} ${'drain'.padStart(7)} ${'remove'.padStart(7)} ${'imposed'.padStart(8)} ${'control'.padStart(8)}`);
  const cpBy = new Map<string, number>([['control plane step', cpDone - rec.created]]);
  const addCp = (what: string, a: number | undefined, b: number | undefined) => {
    if (a === undefined || b === undefined || b <= a) return;
    cpBy.set(what, (cpBy.get(what) ?? 0) + (b - a) - covered(all, a, b));
  };
  let previous = cpDone;
  rec.batches.forEach((batch, i) => {
    const first = (step: (typeof STEPS)[number]) => Math.min(...batch.map((n) => rec.stepAt(n, step) ?? Infinity));
    const last = (step: (typeof STEPS)[number]) => Math.max(...batch.map((n) => rec.stepAt(n, step) ?? -Infinity));
    const start = first('Surging');
    const surges = [...rec.surgeBatch].filter(([, b]) => b === i).map(([n]) => n);
    const surgeReady = Math.max(...surges.map((n) => rec.surgeReady(n, start) ?? -Infinity));
    const cordon = first('Draining');
    const drained = last('Drained');
    const done = last('Ready');
    addCp(i === 0 ? 'Upgraded → first batch' : 'between batches', previous, start);
    addCp('surge adds', start, surgeReady);
    addCp('surge Ready → cordon', surgeReady, cordon);
    addCp('drain', cordon, drained);
    addCp('remove → batch Ready', drained, done);
    previous = done;
    const total = done - start;
    const own = covered(all, start, done);
    console.log(`${String(i + 1).padEnd(6)} ${batch.join(',').padEnd(17)} ${at(start).padStart(7)} ${s(total).padStart(7)} ${s(surgeReady - start).padStart(7)} ${s(cordon - surgeReady).padStart(8)} ${s(drained - cordon).padStart(7)} ${s(done - drained).padStart(7)} ${s(own).padStart(8)} ${s(total - own).padStart(8)}`);
  });
  addCp('finish', previous, end);
  console.log('(surge: batch start → its surge nodes Ready at B; →cordon: → an old node Draining; drain: → both Drained; remove: → batch Ready; imposed/control: the batch split)');

  console.log(`\nwall time (create → Succeeded)          ${s(wall).padStart(9)}`);
  console.log(`  control plane step (create → Upgraded) ${s(cpDone - rec.created).padStart(9)}`);
  console.log(`  pool phase (Upgraded → Succeeded)      ${s(end - cpDone).padStart(9)}`);
  const byKind = [...kinds].map(([kind, spans]) => [kind, covered(mergeSpans(spans, cpDone, end), cpDone, end), spans.length] as const);
  console.log(`waits the settings impose (union)       ${s(imposed).padStart(9)}  by kind (they overlap; sum ${s(byKind.reduce((sum, k) => sum + k[1], 0))}):`);
  for (const [kind, ms, n] of byKind) console.log(`  ${kind.padEnd(37)} ${s(ms).padStart(9)}  (${n} interval${n === 1 ? '' : 's'})`);
  if (rec.estimateSeconds !== undefined) console.log(`the planner's estimate                  ${s(rec.estimateSeconds * 1000).padStart(9)}  (it assumes 15 s node boots, the pods' 30 s grace period, 5 s pod starts and removals)`);
  console.log('control plane time by stretch of the run:');
  const ranked = [...cpBy].sort((a, b) => b[1] - a[1]);
  for (const [what, ms] of ranked) console.log(`  ${what.padEnd(37)} ${s(ms).padStart(9)}  ${(100 * ms / wall).toFixed(1).padStart(5)} %`);
  console.log('');
  report('control plane share of the upgrade', (100 * (wall - imposed)) / wall, 10, '%');
  const top = ranked.slice(0, 2).map(([what, ms]) => `${what} ${s(ms)} (${WHY[what]})`);
  console.log(`dominated by: ${top.join('; ')}`);
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'coracle-bench-upgrade-'));
  const t0 = performance.now();
  const packed = (await run(process.execPath, [CLI, 'release', 'pack', '--release-version', TARGET, '--out', dataDir])).stdout.trim();
  await run(process.execPath, [CLI, 'release', 'add', packed, '--data-dir', dataDir]);
  const up = await startChild(['up', '--nodes', String(NODES), '--runtime', 'simulated', '--port', '0', '--data-dir', dataDir], /cluster ready at (https:\/\/\S+)/);
  const c: Conn = {
    url: up.match[1]!, ca: await readFile(path.join(dataDir, 'ca.crt'), 'utf8'),
    token: (await readFile(path.join(dataDir, 'tokens.csv'), 'utf8')).split(',')[0]!,
    agent: new https.Agent({ keepAlive: true, maxSockets: 8 }),
  };
  try {
    console.log(`coracle up --nodes ${NODES} --runtime simulated at ${c.url} (SQLite store), release ${TARGET} in the catalog; ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; node ${process.version}, ${os.cpus().length} CPUs`);
    await setup(c);
    console.log(`Deployment web: ${REPLICAS} replicas available (${await podsPerNode(c)}), PodDisruptionBudget maxUnavailable 1; upgrade settings: the defaults`);
    await upgrade(c, dataDir, up);
  } catch (err) {
    console.error(`coracle up stderr (tail):\n${up.stderr().slice(-3000)}`);
    throw err;
  } finally {
    c.agent.destroy();
    await stopChild(up.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
