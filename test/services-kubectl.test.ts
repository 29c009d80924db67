/**
 * Issue 14's acceptance with real kubectl and real containers on `coracle up --nodes 2` (moby
 * runtime on a private dockerd, one cluster for the file): a Deployment of 3 web pods behind a
 * ClusterIP Service made by `kubectl expose`; from a client pod, `wget` by the Service's DNS name
 * answers and 300 requests reach all 3 pods; a NodePort answers from this machine; scaling to 5
 * shows 5 endpoints; a pod made unready gets no traffic; a rolling update (maxUnavailable 0) under
 * a client sending 20 requests a second drops nothing (the counts are printed); deleting the
 * Service removes its rules and its DNS name. Commands run in the client pod through the engine
 * (this API server has no `exec` subresource). Skipped, saying why, when no dockerd can run here.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { get } from 'node:http';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { LABELS } from '../agent/runtime/moby/containers.js';
import { machineIP } from '../agent/runtimes.js';
import { startCluster, type Cluster } from './support/cluster.js';
import { dockerUnavailable } from './support/docker.js';
import { kubectl, type KubectlResult } from './support/kubectl.js';

jest.setTimeout(180_000);

const why = dockerUnavailable();
const suite = why ? describe.skip : describe;
if (why) console.warn(`services-kubectl: skipped: no Docker engine can run here (${why})`);

const NS = 'svc-e2e';
const FQDN = `web.${NS}.svc.cluster.local`;
let cluster: Cluster;
let docker: Docker;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(['-n', NS, ...args], { kubeconfig: cluster.kubeconfigPath });
const apply = (manifest: object): Promise<KubectlResult> => kubectl(['-n', NS, 'apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: JSON.stringify(manifest) });
const json = async (...args: string[]) => {
  const r = await run(...args, '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let failure: unknown;
  for (;;) {
    const value = await probe().catch((err: unknown) => void (failure = err));
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${failure ? ` (last error: ${(failure as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** appContainer is the running app container of a pod. */
async function appContainer(pod: string): Promise<string> {
  const list = await docker.listContainers({ filters: { label: [`${LABELS.podName}=${pod}`, `${LABELS.podNamespace}=${NS}`, `${LABELS.role}=app`] } });
  if (!list[0]) throw new Error(`no running container of pod ${pod}`);
  return list[0].Id;
}

/** podExec runs `script` with sh in the pod's container and returns its stdout. */
async function podExec(pod: string, script: string): Promise<string> {
  const exec = await docker.getContainer(await appContainer(pod)).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  docker.modem.demuxStream(stream, out, new PassThrough());
  await new Promise<void>((resolve) => stream.on('end', () => resolve()));
  return text;
}

/** podExecDetached starts `script` in the pod's container and returns at once (it outlives this call). */
async function podExecDetached(pod: string, script: string): Promise<void> {
  const exec = await docker.getContainer(await appContainer(pod)).exec({ Cmd: ['sh', '-c', script] });
  await exec.start({ Detach: true });
}

// The page a web pod serves is its own name (hostname), so a client can tell the pods apart.
const WEB_COMMAND = ['sh', '-c', "mkdir -p /tmp/w; hostname > /tmp/w/index.html; echo ok > /tmp/w/healthz; httpd -f -p 8080 -h /tmp/w & trap 'kill $!; exit 0' TERM; wait"];

function webDeployment(image: string, replicas: number) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 20,
          containers: [{
            name: 'web', image, command: WEB_COMMAND, ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
            // Time for every node's rules to forget the pod before it stops listening (as in production).
            // 3 s was not always enough on a loaded 2-core CI machine (2 of 243 requests failed once).
            lifecycle: { preStop: { sleep: { seconds: 8 } } },
          }],
        },
      },
    },
  };
}

async function sliceEndpoints(): Promise<Array<{ ip: string; pod: string; ready: boolean }>> {
  const list = await json('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web');
  return list.items.flatMap((s: any) => (s.endpoints ?? []).map((e: any) => ({ ip: e.addresses[0], pod: e.targetRef?.name, ready: e.conditions?.ready !== false })));
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: { destroy(e: Error): void }) {
      this.destroy(new Error('timeout'));
    });
  });
}

/** counts tallies lines (pod names) of a request loop's output. */
function counts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) m.set(line, (m.get(line) ?? 0) + 1);
  return m;
}

suite('Services carry traffic (kubectl, 2 moby nodes)', () => {
  beforeAll(async () => {
    const env = { ...process.env };
    delete env.DOCKER_HOST;
    cluster = await startCluster({ nodes: 2, timeoutMs: 120_000, env: env as Record<string, string>, extraArgs: ['--cluster-cidr', '10.244.0.0/16'] });
    docker = new Docker({ socketPath: path.join(cluster.dataDir, 'dockerd', 'docker.sock') });
    expect((await kubectl(['create', 'namespace', NS], { kubeconfig: cluster.kubeconfigPath })).code).toBe(0);
    expect((await apply(webDeployment('coracle/web:v1', 3))).code).toBe(0);
    const exposed = await run('expose', 'deployment', 'web', '--port=80', '--target-port=8080');
    expect(exposed.stdout).toContain('service/web exposed');
    // The client's resolver retransmits a query after 1 s (glibc's default is 5 s, as long as each
    // request's whole deadline below): a query lost on the way costs a retry, not the request (see rollUnderLoad).
    const resolver = { apiVersion: 'v1', spec: { dnsConfig: { options: [{ name: 'timeout', value: '1' }, { name: 'attempts', value: '3' }] } } };
    expect((await run('run', 'client', '--image=coracle/busybox', `--overrides=${JSON.stringify(resolver)}`, '--command', '--', 'sleep', '100000')).code).toBe(0);
    await until('3 ready endpoints and a running client', async () => {
      const ready = (await sliceEndpoints()).filter((e) => e.ready).length === 3;
      return ready && (await json('get', 'pod', 'client')).status?.phase === 'Running';
    }, 120_000);
  });

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('answers wget by the Service name from a pod, and 300 requests reach all 3 pods', async () => {
    const pods: string[] = (await json('get', 'pods', '-l', 'app=web')).items.map((p: any) => p.metadata.name).sort();
    expect(pods).toHaveLength(3);
    expect((await podExec('client', `wget -q -O - http://${FQDN}:80/`)).trim()).toMatch(/^web-/);
    const seen = counts(await podExec('client', 'for i in $(seq 300); do wget -q -O - http://web/ || echo FAILED; done'));
    console.log(`300 requests through web (short name, search path): ${JSON.stringify(Object.fromEntries(seen))}`);
    expect([...seen.keys()].sort()).toEqual(pods);
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe(300);
    const describe = await run('describe', 'svc', 'web');
    expect(describe.stdout).toMatch(/Endpoints:\s+\d+\.\d+\.\d+\.\d+:8080,\d+\.\d+\.\d+\.\d+:8080,\d+\.\d+\.\d+\.\d+:8080/);
    const slices = await run('get', 'endpointslices');
    expect(slices.stdout).toMatch(/^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\n/);
    expect(slices.stdout).toMatch(/web-[a-z0-9]{5}\s+IPv4\s+8080\s+\d+\.\d+\.\d+\.\d+,\d+\.\d+\.\d+\.\d+,\d+\.\d+\.\d+\.\d+\s+/);
  });

  it('gives each node its own pod CIDR out of --cluster-cidr (the node IPAM controller)', async () => {
    const nodes = await until('both nodes to have a pod CIDR', async () => {
      const items: any[] = (await json('get', 'nodes')).items;
      return items.length === 2 && items.every((n) => n.spec.podCIDR) ? items : undefined;
    }, 30_000);
    const cidrs = nodes.map((n: any) => n.spec.podCIDR as string);
    console.log(`pod CIDRs: ${nodes.map((n: any) => `${n.metadata.name} ${n.spec.podCIDR}`).join(', ')}`);
    for (const n of nodes) expect(n.spec.podCIDRs).toEqual([n.spec.podCIDR]);
    for (const cidr of cidrs) expect(cidr).toMatch(/^10\.244\.(\d{1,3})\.0\/24$/);
    expect(new Set(cidrs).size).toBe(2);
    // Set once: the API refuses to move it.
    const moved = await run('patch', 'node', nodes[0].metadata.name, '--type=merge', '-p', '{"spec":{"podCIDR":"10.244.255.0/24","podCIDRs":["10.244.255.0/24"]}}');
    expect(moved.code).not.toBe(0);
    expect(moved.stderr).toContain('spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid');
  });

  it('answers a NodePort from this machine', async () => {
    expect((await run('expose', 'deployment', 'web', '--name=web-np', '--type=NodePort', '--port=80', '--target-port=8080')).code).toBe(0);
    const nodePort = (await json('get', 'svc', 'web-np')).spec.ports[0].nodePort as number;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const body = await until('the NodePort to answer', () => httpGet(`http://${machineIP()}:${nodePort}/`), 20_000);
    expect(body.trim()).toMatch(/^web-/);
    expect((await run('delete', 'svc', 'web-np')).code).toBe(0);
  });

  it('shows 5 endpoints after scaling to 5', async () => {
    const started = Date.now();
    expect((await run('scale', 'deployment', 'web', '--replicas=5')).code).toBe(0);
    await until('5 endpoints', async () => (await sliceEndpoints()).length === 5, 30_000);
    const listed = Date.now() - started;
    await until('5 ready endpoints', async () => (await sliceEndpoints()).filter((e) => e.ready).length === 5, 60_000);
    console.log(`scale 3→5: 5 endpoints listed after ${listed} ms, all 5 ready after ${Date.now() - started} ms (issue target: 5 endpoints within 2 s)`);
  });

  it('sends no traffic to a pod whose readiness probe fails', async () => {
    const victim = (await sliceEndpoints())[0]!.pod;
    await podExec(victim, 'rm /tmp/w/healthz');
    await until(`${victim} not ready in the slice`, async () => (await sliceEndpoints()).some((e) => e.pod === victim && !e.ready), 20_000);
    // Every node's rules follow the slice; give the owner its sync.
    await new Promise((r) => setTimeout(r, 500));
    const seen = counts(await podExec('client', 'for i in $(seq 100); do wget -q -O - http://web/ || echo FAILED; done'));
    expect(seen.has(victim)).toBe(false);
    expect(seen.has('FAILED')).toBe(false);
    expect([...seen.keys()]).toHaveLength(4);
  });

  it('rolls the Deployment (maxUnavailable 0) under 20 requests a second through the ClusterIP with no failed request', async () => {
    const cip = (await json('get', 'svc', 'web')).spec.clusterIP as string;
    const r = await rollUnderLoad(cip, 'coracle/web:v2');
    expect(r.failed).toBe(0);
  });

  // By name, 4 of 444 requests once hung 5 s in the resolver with glibc's default timeout: a query
  // now and then never gets its answer (the owner's counters show every query it received answered
  // within ~120 ms; where the packet is lost is not found, README). With the client's resolver
  // retransmitting after 1 s (its dnsConfig above, what clusters set against lost UDP queries) no
  // request may fail; the DNS owner's counters are printed with the counts.
  it('rolls the Deployment back under 20 requests a second by the Service name with no failed request', async () => {
    const r = await rollUnderLoad(FQDN, 'coracle/web:v1');
    expect(r.failed).toBe(0);
  });

  it('removes the rules and the DNS name of a deleted Service', async () => {
    const clusterIP = (await json('get', 'svc', 'web')).spec.clusterIP as string;
    expect(iptablesSave()).toContain(`"${NS}/web:"`);
    expect(await podExec('client', `nslookup ${FQDN} 2>&1`)).toContain(clusterIP);
    expect((await run('delete', 'svc', 'web')).code).toBe(0);
    await until('the rules to go', async () => !iptablesSave().includes(`"${NS}/web:"`), 10_000);
    await until('the DNS name to go', async () => !(await podExec('client', `nslookup ${FQDN} 2>&1`)).includes(clusterIP), 10_000);
    expect(await podExec('client', `nslookup ${FQDN} 2>&1`)).toMatch(/NXDOMAIN/);
    expect((await run('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'name')).stdout.trim()).toBe('');
  });
});

/**
 * rollUnderLoad rolls the web Deployment to `image` while the client pod starts a request to
 * `http://<target>/` every ~50 ms (40 ms sleep + the fork; each in the background, so a slow one
 * does not slow the pace; `timeout 5` each; once stopped, the loop waits for the requests still
 * running and writes /tmp/loop.done), prints the counts and the DNS owner's counters, and
 * returns the counts once the rollout is complete.
 */
async function rollUnderLoad(target: string, image: string): Promise<{ ok: number; failed: number }> {
  await podExec('client', 'mkdir -p /tmp; rm -f /tmp/loop.out /tmp/loop.err /tmp/loop.stop /tmp/loop.done'); // FROM scratch: no /tmp
  const dnsBefore = dnsStatsLines().length;
  await podExecDetached('client', `while [ ! -f /tmp/loop.stop ]; do (if timeout 5 wget -q -O /dev/null http://${target}/ 2>>/tmp/loop.err; then echo ok; else echo "FAILED $(date +%T)"; fi >> /tmp/loop.out) & sleep 0.04; done; wait; echo done > /tmp/loop.done`);
  const loopStarted = Date.now();
  await new Promise((r) => setTimeout(r, 1000));
  const started = Date.now();
  expect((await apply(webDeployment(image, 5))).code).toBe(0);
  const status = await kubectl(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=150s'], { kubeconfig: cluster.kubeconfigPath });
  expect(status.code).toBe(0);
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  await podExec('client', 'touch /tmp/loop.stop');
  const loopSeconds = (Date.now() - loopStarted) / 1000;
  // Requests still running end (timeout 5 each): the loop waits for them, then says so.
  await until('the requests still running to end', async () => (await podExec('client', 'cat /tmp/loop.done 2>/dev/null')).includes('done'), 30_000);
  const lines = (await podExec('client', 'cat /tmp/loop.out')).split('\n').map((l) => l.trim()).filter(Boolean);
  const ok = lines.filter((l) => l === 'ok').length;
  const failed = lines.length - ok;
  console.log(`rolling update to ${image} (5 pods, maxUnavailable 0, maxSurge 1) took ${seconds.toFixed(1)} s: ${ok + failed} requests to http://${target}/, ${ok} ok, ${failed} failed (${((ok + failed) / loopSeconds).toFixed(1)} req/s over the ${loopSeconds.toFixed(1)} s the client ran; the pace is the pod's fork rate, lower on a loaded machine)`);
  // The DNS owner's counters during the rollout (queries in, replies out, slowest reply, event-loop delay).
  console.log(`cluster DNS during the rollout:\n${dnsStatsLines().slice(dnsBefore).join('\n')}`);
  // What a failed request said (wget's own error: DNS, refused, timeout) and when, so a failure explains itself.
  if (failed > 0) console.log(`failed requests: ${lines.filter((l) => l !== 'ok').join(', ')}; they said:\n${await podExec('client', 'cat /tmp/loop.err 2>/dev/null | sort | uniq -c')}`);
  // The client really ran through the rollout (a sanity floor, not a timing target).
  expect(ok + failed).toBeGreaterThan(seconds * 5);
  const images = (await json('get', 'pods', '-l', 'app=web')).items.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.spec.containers[0].image);
  expect(new Set(images)).toEqual(new Set([image]));
  return { ok, failed };
}

/** dnsStatsLines are the DNS owner's counter lines logged so far. */
function dnsStatsLines(): string[] {
  return cluster.stderr().split('\n').filter((l) => l.includes('proxy: dns {'));
}

function iptablesSave(): string {
  return execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
}
