/**
 * Deployments end to end with real kubectl on `coracle up --nodes 3 --runtime moby` (real
 * containers on a private dockerd, the sample images coracle/web:v1 and v2 with a readiness
 * probe): a Deployment of 3 becomes Available; `kubectl set image` rolls it with maxSurge 1 /
 * maxUnavailable 0 while a `kubectl get pods -w` proves ready pods never drop below 3; `rollout
 * status` returns; `rollout undo` brings v1 back; a rollout to a missing image passes its
 * deadline and, with `coracle.io/auto-rollback`, rolls back by itself; `kill -9` of `coracle
 * up` mid-rollout and a restart finish the rollout; deleting the Deployment removes its
 * ReplicaSets and pods. Skipped, saying why, when no private dockerd can run here.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { ClientRequest } from 'node:http';
import https from 'node:https';
import { startCluster, type Cluster } from './support/cluster.js';
import { dockerUnavailable, startTestDocker, type DockerEnv } from './support/docker.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(240_000);

const why = dockerUnavailable();
const suite = why ? describe.skip : describe;
if (why) console.warn(`deployment-kubectl: skipped: ${why}`);

let docker: DockerEnv;
let cluster: Cluster;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath, timeoutMs: 120_000 });
const json = async (...args: string[]) => {
  const r = await run(...args, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await probe().catch((err: unknown) => { last = err; return undefined; });
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const WEB = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: {
    replicas: 3, selector: { matchLabels: { app: 'web' } }, minReadySeconds: 0, progressDeadlineSeconds: 120,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [{
          name: 'web', image: 'coracle/web:v1', imagePullPolicy: 'Never', ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
        }],
      },
    },
  },
};

/** ReadyWatch follows a watch of the pods (the API's own stream) and tracks how many are ready and not terminating. */
class ReadyWatch {
  private readonly ready = new Map<string, boolean>();
  private readonly request: ClientRequest;
  /** The fewest ready pods seen since the last reset. */
  min = Number.POSITIVE_INFINITY;

  constructor(c: Cluster) {
    this.request = https.request(new URL('/api/v1/namespaces/default/pods?watch=1&labelSelector=app%3Dweb', c.url), {
      ca: c.caPem, headers: { authorization: `Bearer ${c.token}`, accept: 'application/json' },
    }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) this.observe(JSON.parse(line));
        }
      });
      res.on('error', () => undefined);
    });
    this.request.on('error', () => undefined);
    this.request.end();
  }

  private observe(event: { type: string; object: { metadata: { name: string; deletionTimestamp?: string }; status?: { conditions?: Array<{ type: string; status: string }> } } }): void {
    const pod = event.object;
    const isReady = event.type !== 'DELETED' && !pod.metadata.deletionTimestamp
      && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    this.ready.set(pod.metadata.name, isReady);
    this.min = Math.min(this.min, this.count);
  }

  get count(): number {
    return [...this.ready.values()].filter(Boolean).length;
  }

  reset(): void {
    this.min = this.count;
  }

  stop(): void {
    this.request.destroy();
  }
}

const images = async () => ((await json('get', 'pods', '-l', 'app=web')).items as any[])
  .filter((p) => !p.metadata.deletionTimestamp).map((p) => p.spec.containers[0].image).sort();
async function rolloutStatus(): Promise<KubectlResult> {
  const r = await run('rollout', 'status', 'deploy/web', '--timeout=100s');
  if (!r.stdout.includes('successfully rolled out')) {
    // Say what was stuck: the objects, then the end of the control plane's log.
    const seen = await run('get', 'deploy,rs,pods', '-o', 'wide');
    const status = await run('get', 'deploy', 'web', '-o', 'jsonpath={.status}');
    console.log(`rollout status: ${r.stdout}${r.stderr}\n${seen.stdout}\n${status.stdout}\n${cluster.stderr().slice(-4000)}`);
  }
  return r;
}

beforeAll(async () => {
  if (why) return;
  docker = await startTestDocker();
  cluster = await startCluster({ nodes: 3, extraArgs: ['--runtime', 'moby'], env: { DOCKER_HOST: `unix://${docker.socketPath}` }, timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  if (why) return;
  if (cluster) {
    await run('delete', 'deploy', '--all', '--timeout=60s').catch(() => undefined);
    await until('pods gone', async () => (await json('get', 'pods')).items.length === 0, 30_000).catch(() => undefined);
    await cluster.destroy();
  }
  await docker?.stop();
});

suite('deployments on coracle up (moby)', () => {
  let watch: ReadyWatch;
  afterAll(() => watch?.stop());

  it('a Deployment of 3 becomes Available, and rollout status says so', async () => {
    const applied = await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: JSON.stringify(WEB) });
    expect(applied.stderr).toBe('');
    const status = await rolloutStatus();
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    expect(status.code).toBe(0);
    const d = await json('get', 'deploy', 'web');
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(d.status.conditions.find((c: any) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    const rs = (await json('get', 'rs', '-l', 'app=web')).items;
    expect(rs).toHaveLength(1);
    expect(rs[0].metadata.name).toBe(`web-${rs[0].metadata.labels['pod-template-hash']}`);
    watch = new ReadyWatch(cluster);
    await until('the watch sees 3 ready pods', async () => watch.count === 3);
  });

  it('set image rolls to v2 with never fewer than 3 ready pods, and rollout status returns when done', async () => {
    watch.reset();
    expect((await run('set', 'image', 'deploy/web', 'web=coracle/web:v2')).code).toBe(0);
    const status = await rolloutStatus();
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    expect(await images()).toEqual(['coracle/web:v2', 'coracle/web:v2', 'coracle/web:v2']);
    expect(watch.min).toBeGreaterThanOrEqual(3);
    const described = await run('describe', 'deploy', 'web');
    expect(described.stdout).toMatch(/ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set web-\w+ from 0 to 1/);
    expect(described.stdout).toMatch(/NewReplicaSetAvailable/);
  });

  it('rollout undo brings v1 back, and history lists the revisions', async () => {
    watch.reset();
    expect((await run('rollout', 'undo', 'deploy/web')).stdout).toContain('rolled back');
    expect((await rolloutStatus()).stdout).toContain('successfully rolled out');
    expect(await images()).toEqual(['coracle/web:v1', 'coracle/web:v1', 'coracle/web:v1']);
    expect(watch.min).toBeGreaterThanOrEqual(3);
    const history = await run('rollout', 'history', 'deploy/web');
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
    expect((await run('rollout', 'history', 'deploy/web', '--revision=3')).stdout).toContain('coracle/web:v1');
  });

  it('a rollout to a missing image passes its deadline and, with coracle.io/auto-rollback, rolls back by itself', async () => {
    watch.reset();
    expect((await run('annotate', 'deploy/web', 'coracle.io/auto-rollback=true')).code).toBe(0);
    expect((await run('patch', 'deploy/web', '-p', '{"spec":{"progressDeadlineSeconds":8}}')).code).toBe(0);
    expect((await run('set', 'image', 'deploy/web', 'web=coracle/web:nope')).code).toBe(0);
    const d = await until('the automatic rollback', async () => {
      const live = await json('get', 'deploy', 'web');
      return live.metadata.annotations?.['coracle.io/rolled-back-from'] && live;
    }, 60_000);
    expect(d.spec.template.spec.containers[0].image).toBe('coracle/web:v1');
    expect(d.metadata.annotations['coracle.io/rollback-reason']).toMatch(/has timed out progressing/);
    const events = await run('get', 'events', '--field-selector', 'reason=RolledBack');
    expect(events.stdout).toMatch(/Warning\s+RolledBack\s+deployment\/web\s+Rolled back from revision 4 to revision 3/);
    expect((await rolloutStatus()).stdout).toContain('successfully rolled out');
    expect(await images()).toEqual(['coracle/web:v1', 'coracle/web:v1', 'coracle/web:v1']);
    expect(watch.min).toBeGreaterThanOrEqual(3);
    expect((await run('annotate', 'deploy/web', 'coracle.io/auto-rollback-')).code).toBe(0);
    expect((await run('patch', 'deploy/web', '-p', '{"spec":{"progressDeadlineSeconds":120}}')).code).toBe(0);
  });

  it('kill -9 of coracle up in the middle of a rollout, then a restart, finishes the rollout', async () => {
    watch.stop();
    expect((await run('set', 'image', 'deploy/web', 'web=coracle/web:v2')).code).toBe(0);
    const atKill = await until('the rollout under way', async () => {
      const s = (await json('get', 'deploy', 'web')).status;
      return s.updatedReplicas >= 1 && s.updatedReplicas < 3 && s;
    }, 30_000);
    console.log(`kill -9 with ${atKill.updatedReplicas} of 3 replicas updated`);
    expect((await cluster.kill('SIGKILL')).signal).toBe('SIGKILL');
    await cluster.restart();
    expect((await rolloutStatus()).stdout).toContain('deployment "web" successfully rolled out');
    await until('exactly 3 v2 pods', async () => JSON.stringify(await images()) === JSON.stringify(['coracle/web:v2', 'coracle/web:v2', 'coracle/web:v2']))
      .catch(async (err: unknown) => {
        console.log(`after the restart:\n${(await run('get', 'deploy,rs,pods', '-o', 'wide')).stdout}\n${cluster.stderr().slice(-4000)}`);
        throw err;
      });
  });

  it('deleting the Deployment removes its ReplicaSets and pods', async () => {
    expect((await run('delete', 'deploy', 'web')).code).toBe(0);
    await until('ReplicaSets and pods gone', async () => {
      const left = await json('get', 'rs,pods', '-l', 'app=web');
      return left.items.length === 0;
    }, 60_000);
  });
});
