/**
 * `npm run bench:rollout`: the rollout target of issue 6. `coracle up` (SQLite store), 20 hollow
 * nodes in one `coracle agent --hollow 20 --start-delay-ms 1000` process (a pod runs and is
 * ready 1 s after its node gets it), a Deployment of 100 replicas (maxSurge 25%, maxUnavailable
 * 25%), rolled out once to v1, then timed rolling to v2.
 *
 * Measured from watches of the Deployment, its ReplicaSets and pods, in this process:
 * - the total: image patch sent → the Deployment reports the rollout complete;
 * - every ReplicaSet scale step the Deployment controller made: how long it waited for the
 *   change that allowed it (pods becoming ready, counted by the ReplicaSet controller) and how long
 *   the controller then took to act (change feed → orchestration → reconcile → write);
 * - the nodes' share: the union of the intervals in which some pod was on a node but not yet
 *   ready (the start delay and the agent); the control plane's share is the rest of the total.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { onWatchEvents, startChild, stopChild, type Conn } from './support.js';

const NODES = 20;
const REPLICAS = 100;
const START_DELAY_MS = 1000;
const DEADLINE_MS = 300_000;
const NS = '/apis/apps/v1/namespaces/default';

type Obj = { metadata: { name: string; generation?: number; deletionTimestamp?: string }; spec?: any; status?: any };

function request(c: Conn, method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(new URL(p, c.url), {
      method, agent: c.agent, ca: c.ca,
      headers: { authorization: `Bearer ${c.token}`, accept: 'application/json', ...(payload ? { 'content-type': contentType } : {}) },
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

/** watch streams the events of `collection` from now on into `onEvent` (time-stamped on receipt); returns a closer. */
function watch(c: Conn, collection: string, onEvent: (type: string, obj: Obj, t: number) => void): () => void {
  const req = https.request(new URL(`${collection}?watch=1`, c.url), { ca: c.ca, headers: { authorization: `Bearer ${c.token}`, accept: 'application/json' } }, (res) => {
    onWatchEvents<Obj>(res, (e, t) => onEvent(e.type, e.object, t));
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

const deployment = (image: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: {
    replicas: REPLICAS, selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
  },
});

const isComplete = (d: Obj | undefined) => !!d && d.status?.observedGeneration >= (d.metadata.generation ?? 0)
  && d.status?.updatedReplicas === REPLICAS && d.status?.replicas === REPLICAS && d.status?.availableReplicas === REPLICAS;

async function waitFor(what: string, check: () => boolean, deadlineMs = DEADLINE_MS): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Step is one ReplicaSet scale the controller made, seen at `t`, allowed by a change seen at `trigger`. */
interface Step { t: number; rs: string; from: number; to: number; trigger: number; since: number }

/** Recorder keeps what the watches saw during the timed rollout. */
class Recorder {
  deploy: Obj | undefined;
  readonly steps: Step[] = [];
  private readonly sizes = new Map<string, number>();
  private readonly statusKeys = new Map<string, string>();
  private lastTrigger = 0;
  /** Per pod: when it was seen on a node, and when it was seen ready. */
  readonly podTimes = new Map<string, { bound?: number; ready?: number }>();
  timing = false;
  start = 0;

  onDeployment(obj: Obj, t: number): void {
    const changedSpec = this.deploy && this.deploy.metadata.generation !== obj.metadata.generation;
    this.deploy = obj;
    if (changedSpec && this.timing) this.lastTrigger = t;
  }

  onReplicaSet(type: string, rs: Obj, t: number): void {
    const name = rs.metadata.name;
    const size = type === 'DELETED' ? 0 : Number(rs.spec?.replicas ?? 0);
    const before = this.sizes.get(name) ?? 0;
    const statusKey = `${rs.status?.replicas}/${rs.status?.readyReplicas}/${rs.status?.availableReplicas}`;
    if (this.timing && size !== before) {
      const since = this.steps.length > 0 ? this.steps[this.steps.length - 1]!.t : this.start;
      this.steps.push({ t, rs: name, from: before, to: size, trigger: Math.max(this.lastTrigger, since), since });
    }
    if (this.timing && this.statusKeys.has(name) && this.statusKeys.get(name) !== statusKey) this.lastTrigger = t;
    this.sizes.set(name, size);
    this.statusKeys.set(name, statusKey);
  }

  onPod(type: string, pod: Obj, t: number): void {
    if (!this.timing || type === 'DELETED' || pod.metadata.deletionTimestamp) return;
    const times = this.podTimes.get(pod.metadata.name) ?? {};
    if (pod.spec?.nodeName && times.bound === undefined) times.bound = t;
    const ready = (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    if (ready && times.ready === undefined) times.ready = t;
    this.podTimes.set(pod.metadata.name, times);
  }

  /** nodeTime is the union of [bound, ready] over pods, clipped to [start, end]. */
  nodeTime(end: number): number {
    const spans = [...this.podTimes.values()].filter((p) => p.bound !== undefined)
      .map((p) => [Math.max(p.bound!, this.start), Math.min(p.ready ?? end, end)] as const).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
    let total = 0;
    let cursor = this.start;
    for (const [a, b] of spans) {
      if (b <= cursor) continue;
      total += b - Math.max(a, cursor);
      cursor = b;
    }
    return total;
  }
}

async function run(c: Conn): Promise<void> {
  const rec = new Recorder();
  const closers = [
    watch(c, `${NS}/deployments`, (_type, obj, t) => rec.onDeployment(obj, t)),
    watch(c, `${NS}/replicasets`, (type, obj, t) => rec.onReplicaSet(type, obj, t)),
    watch(c, '/api/v1/namespaces/default/pods', (type, obj, t) => rec.onPod(type, obj, t)),
  ];
  try {
    await new Promise((r) => setTimeout(r, 300));
    const created = await request(c, 'POST', `${NS}/deployments`, deployment('coracle/web:v1'));
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.body}`);
    const t0 = performance.now();
    await waitFor('the first rollout (v1)', () => isComplete(rec.deploy));
    console.log(`first rollout: ${REPLICAS} replicas of v1 ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    rec.timing = true;
    rec.start = performance.now();
    const patched = await request(c, 'PATCH', `${NS}/deployments/web`, { spec: { template: { spec: { containers: [{ name: 'web', image: 'coracle/web:v2' }] } } } }, 'application/strategic-merge-patch+json');
    if (patched.status !== 200) throw new Error(`patch: ${patched.status} ${patched.body}`);
    await waitFor('the rollout to v2', () => isComplete(rec.deploy) && rec.deploy!.spec.template.spec.containers[0].image === 'coracle/web:v2');
    report(rec, performance.now());
  } finally {
    for (const close of closers) close();
  }
}

function report(rec: Recorder, end: number): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(9);
  const total = end - rec.start;
  console.log(`rollout v1 → v2 of ${REPLICAS} replicas on ${NODES} hollow nodes (start delay ${START_DELAY_MS} ms), maxSurge 25%, maxUnavailable 25%`);
  console.log(`${'at'.padStart(9)}  ${'replica set'.padEnd(18)} ${'step'.padEnd(10)} ${'waited'.padStart(9)} ${'controller'.padStart(10)}`);
  let reaction = 0;
  for (const step of rec.steps) {
    const react = step.t - step.trigger;
    reaction += react;
    console.log(`${s(step.t - rec.start)}  ${step.rs.padEnd(18)} ${`${step.from}→${step.to}`.padEnd(10)} ${s(step.trigger - step.since)} ${s(react).padStart(10)}`);
  }
  const nodes = rec.nodeTime(end);
  const control = total - nodes;
  console.log(`\ntotal                         ${s(total)}`);
  console.log(`scale steps                   ${String(rec.steps.length).padStart(9)}`);
  console.log(`deployment controller acting  ${s(reaction)}  (sum over steps: change seen → scale written)`);
  console.log(`waiting on nodes              ${s(nodes)}  (some pod on a node, not yet ready)`);
  const share = (100 * control) / total;
  console.log(`control plane share           ${`${share.toFixed(1)} %`.padStart(9)}  target < 10 %   ${share < 10 ? 'MET' : 'MISSED'}`);
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'coracle-bench-rollout-'));
  const up = await startChild(['up', '--port', '0', '--data-dir', dataDir], /cluster ready at (https:\/\/\S+)/);
  const c: Conn = {
    url: up.match[1]!, ca: await readFile(path.join(dataDir, 'ca.crt'), 'utf8'),
    token: (await readFile(path.join(dataDir, 'tokens.csv'), 'utf8')).split(',')[0]!,
    agent: new https.Agent({ keepAlive: true, maxSockets: 8 }),
  };
  let agent: ChildProcess | undefined;
  try {
    console.log(`coracle up at ${c.url} (SQLite store); node ${process.version}, ${os.cpus().length} CPUs`);
    const hollow = await startChild(['agent', '--hollow', String(NODES), '--node-name', 'hollow', '--server', c.url, '--ca-file', path.join(dataDir, 'ca.crt'),
      '--runtime', 'simulated', '--start-delay-ms', String(START_DELAY_MS)], /ready \(\d+ hollow nodes\)/, { CORACLE_AGENT_TOKEN: c.token });
    agent = hollow.child;
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
