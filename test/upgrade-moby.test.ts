/**
 * A whole cluster upgrade with real containers under load: `coracle up --nodes 3 --runtime moby`
 * (a private dockerd), a Deployment of 6 web pods with a PodDisruptionBudget of minAvailable 5,
 * and a prober in this process that requests every pod the API lists as Ready (and not
 * terminating) by its pod IP, 10 times a second each, through the whole upgrade from release A
 * to release B: `coracle upgrade plan`, then `start`. The control plane moves first (the single
 * process hands over to B's, holding the port: for a few seconds the API answers late, and the
 * pods keep serving), then the pool node by node. Asserted: no request to a ready pod failed, no
 * API list of the prober failed or came back cut short, the budget's currentHealthy never went
 * below 5 in any sample, every node and the API server report B, the history records the run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { CLI, clusterRequest, startCluster, type Cluster } from './support/cluster.js';
import { dockerUnavailable } from './support/docker.js';
import { kubectl } from './support/kubectl.js';
import { packedRelease } from './support/releases.js';
import { RELEASE_VERSION } from '../shared/release/version.js';

const runFile = promisify(execFile);
const A = RELEASE_VERSION;
const B = 'v1.35.1-coracle';
const why = dockerUnavailable();
const suite = why ? describe.skip : describe;
if (why) console.warn(`upgrade-moby: skipped: no Docker engine can run here (${why})`);

let cluster: Cluster;
const k = async (...args: string[]) => {
  const r = await kubectl(args, { kubeconfig: cluster.kubeconfigPath, timeoutMs: 120_000, retryRefusedMs: 30_000 });
  expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return r.stdout;
};
const coracle = (...args: string[]) => runFile(process.execPath, [CLI, ...args, '--data-dir', cluster.dataDir]);

const deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'probed' },
  spec: {
    replicas: 6, selector: { matchLabels: { app: 'probed' } },
    template: {
      metadata: { labels: { app: 'probed' } },
      spec: {
        terminationGracePeriodSeconds: 20,
        containers: [{
          name: 'web', image: 'coracle/web:v1', ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
          // What a zero-downtime workload sets: it keeps serving while clients learn it is terminating.
          lifecycle: { preStop: { sleep: { seconds: 4 } } },
        }],
      },
    },
  },
};

interface PodObject { metadata: { name: string; deletionTimestamp?: string }; status?: { podIP?: string; conditions?: { type: string; status: string }[] } }

/**
 * Prober follows the pods through the API (a list every 250 ms; while the API is down it keeps
 * the last answer) and sends each Ready, not terminating pod a request every 100 ms.
 */
class Prober {
  ok = 0;
  readonly failures: string[] = [];
  readonly served = new Map<string, number>();
  apiDown = 0;
  readonly apiErrors = new Set<string>();
  minHealthy = Number.POSITIVE_INFINITY;
  budgetSamples = 0;
  private ready = new Map<string, string>();
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  start(): void {
    this.loops.push(this.follow(), this.fire());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        const pods = await clusterRequest(cluster, '/api/v1/namespaces/default/pods?labelSelector=app%3Dprobed', { token: cluster.token });
        const pdb = await clusterRequest(cluster, '/apis/policy/v1/namespaces/default/poddisruptionbudgets/probed', { token: cluster.token });
        if (pods.status !== 200 || pdb.status !== 200) throw new Error(`status ${pods.status}/${pdb.status}`);
        const next = new Map<string, string>();
        for (const p of (JSON.parse(pods.body) as { items: PodObject[] }).items) {
          const isReady = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          if (isReady && !p.metadata.deletionTimestamp && p.status?.podIP) next.set(p.metadata.name, p.status.podIP);
        }
        this.ready = next;
        const healthy = (JSON.parse(pdb.body) as { status?: { currentHealthy?: number } }).status?.currentHealthy;
        if (typeof healthy === 'number') {
          this.minHealthy = Math.min(this.minHealthy, healthy);
          this.budgetSamples++;
        }
      } catch (err) {
        this.apiDown++;
        this.apiErrors.add((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async fire(): Promise<void> {
    const inFlight: Promise<void>[] = [];
    while (!this.stopped) {
      for (const [pod, ip] of this.ready) inFlight.push(this.request(pod, ip));
      await new Promise((r) => setTimeout(r, 100));
      if (inFlight.length > 200) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
  }

  private request(pod: string, ip: string): Promise<void> {
    return new Promise((resolve) => {
      const fail = (why: string) => {
        this.failures.push(`${new Date().toISOString()} ${pod} (${ip}): ${why}`);
        resolve();
      };
      const req = http.get({ host: ip, port: 8080, path: '/', timeout: 2000, agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) {
            this.ok++;
            this.served.set(pod, (this.served.get(pod) ?? 0) + 1);
            resolve();
          } else fail(`HTTP ${res.statusCode}`);
        });
        res.on('error', (err) => fail(err.message));
      });
      req.on('timeout', () => req.destroy(new Error('timed out after 2 s')));
      req.on('error', (err) => fail(err.message));
    });
  }
}

suite('cluster upgrade with real containers under a prober', () => {
  beforeAll(async () => {
    const env = { ...process.env };
    delete env.DOCKER_HOST; // the cluster's own private dockerd, in its data folder
    // Packing (once per build for the whole run) goes on while the cluster starts.
    const packageB = packedRelease(B);
    packageB.catch(() => undefined);
    cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'moby'], timeoutMs: 180_000, env: env as Record<string, string> });
    await coracle('release', 'add', await packageB);
  }, 300_000);
  afterAll(async () => cluster?.destroy(), 60_000);

  it('moves the control plane, then every node, to release B without a failed request or a budget violation', async () => {
    const applied = await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: JSON.stringify(deployment), timeoutMs: 60_000 });
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
    await k('create', 'pdb', 'probed', '--selector=app=probed', '--min-available=5');
    await k('wait', '--for=condition=Available', 'deployment/probed', '--timeout=120s');
    await k('wait', '--for=jsonpath={.status.currentHealthy}=6', 'pdb/probed', '--timeout=60s');

    const plan = (await coracle('upgrade', 'plan', '--to', B)).stdout;
    expect(plan).toContain(`control plane: ${A} -> ${B}`);
    const prober = new Prober();
    prober.start();
    await new Promise((r) => setTimeout(r, 2000));
    const started = Date.now();
    expect((await coracle('upgrade', 'start', '--to', B, '--name', 'probed-to-b')).stdout).toBe(`upgraderun.coracle.io/probed-to-b created: ${B} (Cluster)\n`);
    let phase = '';
    for (const deadline = Date.now() + 400_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1000))) {
      phase = await k('get', 'upgraderun', 'probed-to-b', '-o', 'jsonpath={.status.phase}');
      if (['Succeeded', 'Failed', 'Cancelled'].includes(phase)) break;
    }
    const seconds = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    await prober.stop();
    console.log(`upgrade ${A} -> ${B} with 6 probed pods on 3 real-container nodes: ${phase} in ${seconds.toFixed(1)} s; `
      + `${prober.ok} requests answered, ${prober.failures.length} failed, per pod ${JSON.stringify(Object.fromEntries(prober.served))}; `
      + `PodDisruptionBudget currentHealthy min ${prober.minHealthy} over ${prober.budgetSamples} samples; the API failed ${prober.apiDown} of the prober's lists: ${JSON.stringify([...prober.apiErrors])}`);
    expect(phase).toBe('Succeeded');
    expect(prober.failures).toEqual([]);
    // The port is held across the handover (local/listener.ts): the API's answers are late, never missing or cut short.
    expect({ apiDown: prober.apiDown, errors: [...prober.apiErrors] }).toEqual({ apiDown: 0, errors: [] });
    expect(prober.ok).toBeGreaterThan(1000);
    expect(prober.served.size).toBeGreaterThan(6); // the pods moved: more than the first six answered
    expect(prober.budgetSamples).toBeGreaterThan(50);
    expect(prober.minHealthy).toBeGreaterThanOrEqual(5);

    const version = JSON.parse(await k('version', '-o', 'json')) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe(B);
    const nodes = (await k('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.nodeInfo.kubeletVersion}{"\\n"}{end}')).trim().split('\n');
    expect(nodes).toEqual([B, B, B]);
    expect(await k('get', 'cluster', 'local', '-o', 'jsonpath={.status.upgradeHistory[-1:].name} {.status.upgradeHistory[-1:].outcome} {.status.controlPlaneVersion}')).toBe(`probed-to-b Succeeded ${B}`);
    expect(await k('get', 'deployment', 'probed', '-o', 'jsonpath={.status.availableReplicas}')).toBe('6');
  }, 600_000);
});
