/**
 * The moby runtime against a private dockerd: real containers, shared network namespaces, logs,
 * restarts with back-off, probes, image pull failures, graceful termination, adoption and init
 * containers, container usage from the engine's stats, and a VM node's pod network (pods on a
 * bridge of the node's pod CIDR, the agent's masquerade chain). Skips (saying why) when dockerd is not installed or we are not root.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { get } from 'node:http';
import { createMobyRuntime } from '../agent/runtime/moby/index.js';
import { LABELS } from '../agent/runtime/moby/containers.js';
import { hasStats, type ContainerStats, type Runtime, type V1Pod, type V1PodStatus } from '../agent/runtime/runtime.js';
import { cpuRateNanoCores } from '../shared/metrics/usage.js';
import type { V1Container } from '../agent/runtime/pod-types.js';
import { dockerUnavailable, MemoryLogSink, startTestDocker, type DockerEnv } from './support/docker.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { podChains, POD_NETWORK_NAME } from '../agent/runtime/moby/podnet.js';

const NODE = 'moby-test-node';
const unavailable = dockerUnavailable();
if (unavailable) console.warn(`runtime-moby: skipped: ${unavailable}`);
const suite = unavailable ? describe.skip : describe;
jest.setTimeout(60_000);

function pod(name: string, containers: V1Container[], spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', uid: randomUUID() },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 2, containers, ...spec },
  };
}

async function waitFor(runtime: Runtime, p: V1Pod, test: (s: V1PodStatus) => boolean, timeoutMs = 20_000): Promise<V1PodStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: V1PodStatus | undefined;
  while (Date.now() < deadline) {
    last = await runtime.getPodStatus(p.metadata!.namespace!, p.metadata!.name!);
    if (last && test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out; last status: ${JSON.stringify(last, null, 1)}`);
}

/** httpText GETs a URL without keep-alive (so no socket outlives the suite). */
function httpText(url: string): Promise<string> {
  return new Promise((done, fail) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => done(body));
    }).on('error', fail);
  });
}

const stream = (p: V1Pod, container: string, restart = 0) => ({ namespace: 'default', pod: p.metadata!.name!, podUid: p.metadata!.uid!, container, restart });
const running = (name: string) => (s: V1PodStatus) => !!s.containerStatuses?.find((c) => c.name === name)?.state?.running;

suite('moby runtime', () => {
  let env: DockerEnv;
  let runtime: Runtime;
  const logs = new MemoryLogSink();
  const notified: string[] = [];

  const envSources = {
    configMap: async (ns: string, name: string) => (ns === 'default' && name === 'settings' ? { COLOR: 'blue' } : undefined),
    secret: async (ns: string, name: string) => (ns === 'default' && name === 'creds' ? { PASSWORD: 's3cret' } : undefined),
  };
  const newRuntime = () => createMobyRuntime({
    docker: env.docker, nodeName: NODE, hostIP: '192.0.2.10', logSink: logs, envSources, backoff: { baseMs: 500, maxMs: 2000 }, syncIntervalMs: 200,
  });

  async function containersOf(p: V1Pod) {
    return env.docker.listContainers({ all: true, filters: { label: [`${LABELS.podUid}=${p.metadata!.uid}`] } });
  }

  beforeAll(async () => {
    env = await startTestDocker();
    for (const c of await env.docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${NODE}`] } })) {
      await env.docker.getContainer(c.Id).remove({ force: true });
    }
    runtime = newRuntime();
    runtime.onPodStatus((p, s) => notified.push(`${p.metadata?.name}:${s.phase}`));
  });

  afterAll(async () => {
    if (!env) return;
    await Promise.all((await runtime.listPods()).map((p) => runtime.deletePod(p, 0)));
    await runtime.close();
    await env.stop();
  });

  it('runs a container and ships its output to the LogSink', async () => {
    const p = pod('hello', [{
      name: 'main', image: 'coracle/busybox:latest', command: ['sh', '-c'], args: ['echo hello $(WHO) from $(pwd); echo oops >&2; sleep 3600'],
      env: [{ name: 'WHO', value: 'coracle' }], workingDir: '/tmp', resources: { limits: { memory: '64Mi', cpu: '500m' } },
    }]);
    await runtime.createPod(p);
    const status = await waitFor(runtime, p, (s) => s.phase === 'Running' && s.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    expect(status.podIP).toMatch(/^10\.213\.\d+\.\d+$/);
    expect(status.hostIP).toBe('192.0.2.10');
    const main = status.containerStatuses![0];
    expect(main).toMatchObject({ name: 'main', ready: true, restartCount: 0, image: 'coracle/busybox:latest' });
    expect(main.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(main.imageID).toMatch(/^docker:\/\/sha256:/);
    const deadline = Date.now() + 5000;
    while (logs.text(stream(p, 'main')).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const lines = await logs.read(stream(p, 'main'));
    expect(lines.map((l) => [l.stream, l.text]).sort()).toEqual([['stderr', 'oops'], ['stdout', 'hello coracle from /tmp']]);
    expect(lines[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const info = await env.docker.getContainer(main.containerID!.slice('docker://'.length)).inspect();
    expect(info.HostConfig.Memory).toBe(64 * 2 ** 20);
    expect(info.HostConfig.NanoCpus).toBe(5e8);
    expect(notified).toContain('hello:Running');
    await runtime.deletePod(p, 0);
    expect(await containersOf(p)).toHaveLength(0);
  });

  it('measures a busy container from the engine stats: a CPU rate near its limit, a working set, no sandbox', async () => {
    const measured = runtime;
    if (!hasStats(measured)) throw new Error('the moby runtime measures its containers');
    const p = pod('spinner', [{ name: 'spin', image: 'coracle/busybox:latest', command: ['sh', '-c', 'while true; do :; done'], resources: { limits: { cpu: '200m' } } }]);
    await runtime.createPod(p);
    await waitFor(runtime, p, running('spin'));
    const read = async () => (await measured.containerStats()).filter((s) => s.podUid === p.metadata!.uid);
    const [first] = await read();
    await new Promise((r) => setTimeout(r, 3000));
    const second = await read();
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ namespace: 'default', podName: 'spinner', container: 'spin', instanceId: first!.instanceId });
    expect(second[0]!.memoryWorkingSetBytes).toBeGreaterThan(0);
    const sample = (s: ContainerStats) => ({ usageNanoSeconds: s.cpuUsageNanoSeconds, atMs: s.atMs });
    const rate = cpuRateNanoCores(sample(first!), sample(second[0]!))!;
    // A loop that never sleeps under a 200m CFS quota: well above idle, not above the quota (some slack for the edges).
    expect(rate).toBeGreaterThan(20_000_000);
    expect(rate).toBeLessThan(260_000_000);
    await runtime.deletePod(p, 0);
    expect(await read()).toHaveLength(0);
  });

  it('lets the containers of a pod share one network namespace', async () => {
    const p = pod('shared-net', [
      { name: 'web', image: 'coracle/web:v1', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } },
      { name: 'client', image: 'coracle/busybox:latest', command: ['sh', '-c', 'until wget -q -O- http://localhost:8080/; do sleep 0.2; done; sleep 3600'] },
    ]);
    await runtime.createPod(p);
    const status = await waitFor(runtime, p, (s) => s.containerStatuses?.every((c) => c.ready) === true);
    const deadline = Date.now() + 10_000;
    while (!logs.text(stream(p, 'client')).includes('coracle web v1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(logs.text(stream(p, 'client'))).toContain('coracle web v1');
    const page = await httpText(`http://${status.podIP}:8080/`);
    expect(page.trim()).toBe('coracle web v1');
    await runtime.deletePod(p, 0);
  });

  it('restarts an exiting container with growing back-off (CrashLoopBackOff)', async () => {
    const p = pod('crasher', [{ name: 'crash', image: 'coracle/crash:latest' }]);
    await runtime.createPod(p);
    const reasons = new Set<string>();
    const status = await waitFor(runtime, p, (s) => {
      const reason = s.containerStatuses?.[0].state?.waiting?.reason;
      if (reason) reasons.add(reason);
      return (s.containerStatuses?.[0].restartCount ?? 0) >= 3;
    });
    expect(reasons).toContain('CrashLoopBackOff');
    expect(status.phase).toBe('Running');
    expect(status.containerStatuses![0].lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(logs.text(stream(p, 'crash', 1))).toEqual(['crashing now']);
    // The sandbox, the newest instance and the one before it (kept for --previous); older ones are pruned.
    const instances = (await containersOf(p)).filter((c) => c.Labels[LABELS.role] === 'app').map((c) => Number(c.Labels[LABELS.restart]));
    expect(instances.length).toBeLessThanOrEqual(2);
    expect(Math.min(...instances)).toBeGreaterThanOrEqual(status.containerStatuses![0].restartCount - 2);
    await runtime.deletePod(p, 0);
  });

  it('restarts a container whose liveness probe fails', async () => {
    const p = pod('unlive', [{
      name: 'main', image: 'coracle/busybox:latest', command: ['sh', '-c', 'touch /tmp/alive; sleep 1; rm /tmp/alive; sleep 3600'],
      livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 },
    }], { terminationGracePeriodSeconds: 1 });
    await runtime.createPod(p);
    const status = await waitFor(runtime, p, (s) => (s.containerStatuses?.[0].restartCount ?? 0) >= 1 && running('main')(s));
    expect(status.containerStatuses![0].lastState?.terminated?.exitCode).toBeGreaterThan(0);
    await runtime.deletePod(p, 0);
  });

  it('reports ErrImagePull then ImagePullBackOff for a missing image', async () => {
    const p = pod('missing', [{ name: 'main', image: 'coracle/missing:v0' }]);
    await runtime.createPod(p);
    await waitFor(runtime, p, (s) => s.containerStatuses?.[0].state?.waiting?.reason === 'ErrImagePull');
    const status = await waitFor(runtime, p, (s) => s.containerStatuses?.[0].state?.waiting?.reason === 'ImagePullBackOff');
    expect(status.phase).toBe('Pending');
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    await runtime.deletePod(p, 0);
    expect(await containersOf(p)).toHaveLength(0);
  });

  it('SIGKILLs a container that ignores SIGTERM once the grace period is over', async () => {
    const p = pod('stubborn', [
      { name: 'deaf', image: 'coracle/busybox:latest', command: ['sh', '-c', 'trap "" TERM; echo trapped; while true; do sleep 1; done'] },
      { name: 'polite', image: 'coracle/busybox:latest', command: ['sh', '-c', 'trap "exit 0" TERM; echo trapped; while true; do sleep 0.1; done'] },
    ], { terminationGracePeriodSeconds: 2 });
    await runtime.createPod(p);
    await waitFor(runtime, p, (s) => s.phase === 'Running' && running('deaf')(s) && running('polite')(s));
    // Running means the process started, not that its shell has set the trap yet: wait for both to say so.
    const trapped = async () => {
      const logs = await Promise.all((await containersOf(p)).map(async (c) => String(await env.docker.getContainer(c.Id).logs({ stdout: true, stderr: true }))));
      return logs.filter((l) => l.includes('trapped')).length;
    };
    for (const until = Date.now() + 30_000; (await trapped()) < 2 && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
    expect(await trapped()).toBe(2);
    const started = Date.now();
    await runtime.deletePod(p);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(6000);
    expect(await containersOf(p)).toHaveLength(0);
    expect(await runtime.getPodStatus('default', 'stubborn')).toBeUndefined();
  });

  it('adopts running pods when recreated on the same engine (no duplicates)', async () => {
    const p = pod('adopted', [{ name: 'main', image: 'coracle/busybox:latest', command: ['sh', '-c', 'echo once; sleep 3600'] }]);
    await runtime.createPod(p);
    const before = await waitFor(runtime, p, (s) => s.phase === 'Running');
    const containersBefore = (await containersOf(p)).map((c) => c.Id).sort();
    const deadline = Date.now() + 5000;
    while (logs.text(stream(p, 'main')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await runtime.close(); // as if the agent died: containers keep running
    runtime = newRuntime();
    try {
      expect((await runtime.listPods()).map((x) => x.metadata?.uid)).toContain(p.metadata!.uid);
      await runtime.createPod(p);
      const after = await waitFor(runtime, p, (s) => s.phase === 'Running');
      expect(after.containerStatuses![0].containerID).toBe(before.containerStatuses![0].containerID);
      expect(after.podIP).toBe(before.podIP);
      await new Promise((r) => setTimeout(r, 600));
      expect((await containersOf(p)).map((c) => c.Id).sort()).toEqual(containersBefore);
      expect(logs.text(stream(p, 'main'))).toEqual(['once']);
    } finally {
      await runtime.deletePod(p, 0);
    }
  });

  it('keeps an adopted ready pod ready: no NotReady report before its readiness probe answers again', async () => {
    const p = pod('adopted-ready', [{
      name: 'web', image: 'coracle/web:v1', ports: [{ containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
    }]);
    await runtime.createPod(p);
    const before = await waitFor(runtime, p, (s) => s.containerStatuses?.[0].ready === true);
    await runtime.close(); // as if the agent died (an upgrade's handover restarts every agent)
    runtime = newRuntime();
    const reported: boolean[] = [];
    runtime.onPodStatus((q, s) => q.metadata?.uid === p.metadata!.uid && reported.push(s.containerStatuses?.[0].ready === true));
    try {
      await runtime.createPod(p);
      const after = await waitFor(runtime, p, (s) => s.containerStatuses?.[0].ready === true);
      expect(after.containerStatuses![0].containerID).toBe(before.containerStatuses![0].containerID);
      await new Promise((r) => setTimeout(r, 1500)); // a few probe periods: readiness holds
      expect(reported.length).toBeGreaterThan(0);
      expect(reported.every(Boolean)).toBe(true);
    } finally {
      await runtime.deletePod(p, 0);
    }
  });

  it('runs init containers in order before the app containers', async () => {
    const p = pod('with-init', [{ name: 'app', image: 'coracle/busybox:latest', command: ['sleep', '3600'] }], {
      initContainers: [
        { name: 'first', image: 'coracle/busybox:latest', command: ['sh', '-c', 'echo first; sleep 1'] },
        { name: 'second', image: 'coracle/busybox:latest', command: ['sh', '-c', 'echo second'] },
      ],
    });
    await runtime.createPod(p);
    const pending = await waitFor(runtime, p, (s) => !!s.initContainerStatuses?.[0].state?.running);
    expect(pending.phase).toBe('Pending');
    expect(pending.containerStatuses![0].state?.waiting?.reason).toBe('PodInitializing');
    expect(pending.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('False');
    const status = await waitFor(runtime, p, (s) => s.phase === 'Running');
    const [first, second] = status.initContainerStatuses!.map((c) => c.state!.terminated!);
    expect([first.reason, second.reason]).toEqual(['Completed', 'Completed']);
    expect(Date.parse(second.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first.finishedAt!));
    expect(Date.parse(status.containerStatuses![0].state!.running!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(second.finishedAt!));
    expect(status.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    expect(logs.text(stream(p, 'first'))).toEqual(['first']);
    await runtime.deletePod(p, 0);
  });

  it('resolves env from ConfigMaps and Secrets, and fails a missing key with CreateContainerConfigError', async () => {
    const p = pod('env', [{
      name: 'main', image: 'coracle/busybox:latest', command: ['sh', '-c', 'echo $COLOR $CRED_PASSWORD $NODE; sleep 3600'],
      envFrom: [{ secretRef: { name: 'creds' }, prefix: 'CRED_' }],
      env: [{ name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'COLOR' } } }, { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
    }]);
    await runtime.createPod(p);
    await waitFor(runtime, p, running('main'));
    const deadline = Date.now() + 5000;
    while (logs.text(stream(p, 'main')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(logs.text(stream(p, 'main'))).toEqual([`blue s3cret ${NODE}`]);
    const bad = pod('env-bad', [{ name: 'main', image: 'coracle/busybox:latest', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'NOPE' } } }] }]);
    await runtime.createPod(bad);
    const status = await waitFor(runtime, bad, (s) => s.containerStatuses?.[0].state?.waiting?.reason === 'CreateContainerConfigError');
    expect(status.containerStatuses![0].state!.waiting!.message).toContain('NOPE');
    await Promise.all([runtime.deletePod(p, 0), runtime.deletePod(bad, 0)]);
  });

  it('ends Failed under Never and Succeeded under OnFailure', async () => {
    const failed = pod('never', [{ name: 'main', image: 'coracle/crash:latest' }], { restartPolicy: 'Never' });
    const done = pod('onfailure', [{ name: 'main', image: 'coracle/busybox:latest', command: ['true'] }], { restartPolicy: 'OnFailure' });
    await Promise.all([runtime.createPod(failed), runtime.createPod(done)]);
    const f = await waitFor(runtime, failed, (s) => s.phase === 'Failed');
    expect(f.containerStatuses![0]).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } });
    const d = await waitFor(runtime, done, (s) => s.phase === 'Succeeded');
    expect(d.containerStatuses![0].state!.terminated!.reason).toBe('Completed');
    expect(d.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('PodCompleted');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await runtime.getPodStatus('default', 'never'))!.containerStatuses![0].restartCount).toBe(0);
    await Promise.all([runtime.deletePod(failed, 0), runtime.deletePod(done, 0)]);
  });

  it('gates readiness on startup and tcpSocket probes', async () => {
    const p = pod('probed', [{
      name: 'web', image: 'coracle/web:v1', ports: [{ name: 'http', containerPort: 8080 }],
      startupProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 1, periodSeconds: 1 },
      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
    }]);
    await runtime.createPod(p);
    const early = await waitFor(runtime, p, running('web'));
    expect(early.containerStatuses![0].ready).toBe(false);
    const status = await waitFor(runtime, p, (s) => s.containerStatuses?.[0].ready === true);
    expect(status.containerStatuses![0].started).toBe(true);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    await runtime.deletePod(p, 0);
  });

  it('restarts a container whose image changed (v1 → v2)', async () => {
    const p = pod('upgrade', [{ name: 'web', image: 'coracle/web:v1', ports: [{ containerPort: 8080 }] }], { terminationGracePeriodSeconds: 1 });
    await runtime.createPod(p);
    const v1 = await waitFor(runtime, p, running('web'));
    const page = async (ip: string) => {
      for (let i = 0; i < 50; i++) {
        const text = await httpText(`http://${ip}:8080/`).catch(() => undefined);
        if (text) return text.trim();
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    };
    expect(await page(v1.podIP!)).toBe('coracle web v1');
    const next = structuredClone(p);
    next.spec!.containers[0].image = 'coracle/web:v2';
    await runtime.updatePod(next);
    const v2 = await waitFor(runtime, p, (s) => s.containerStatuses?.[0].image === 'coracle/web:v2' && running('web')(s) && s.containerStatuses[0].restartCount === 1);
    expect(v2.podIP).toBe(v1.podIP);
    expect(await page(v2.podIP!)).toBe('coracle web v2');
    await runtime.deletePod(p, 0);
  });

  it('on a VM node, puts pods on a bridge of the pod CIDR (replacing a stale one) and masquerades only traffic leaving the cluster CIDR, lets the cluster\'s traffic in', async () => {
    const rulesNow = async () => (await promisify(execFile)('iptables-save')).stdout;
    const chains = podChains(`runtime-moby-${randomUUID()}`);
    await env.docker.getNetwork(POD_NETWORK_NAME).remove().catch(() => undefined);
    await env.docker.createNetwork({ Name: POD_NETWORK_NAME, Driver: 'bridge', IPAM: { Config: [{ Subnet: '10.244.9.0/24' }] } }); // a stale one
    let podCIDR: string | undefined; // not assigned yet: the sandbox waits
    const vm = createMobyRuntime({
      docker: env.docker, nodeName: 'moby-vm-node', hostIP: '192.0.2.11', syncIntervalMs: 200,
      podNetwork: { podCIDR: async () => podCIDR, clusterCIDR: '10.244.0.0/16', chains, iptables: true },
    });
    try {
      const p = pod('vm-web', [{ name: 'web', image: 'coracle/web:v1', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }]);
      await vm.createPod(p);
      const waiting = await waitFor(vm, p, (s) => !!s.containerStatuses?.[0]?.state?.waiting?.message);
      expect(waiting.containerStatuses![0].state!.waiting!.message).toContain('network is not ready: the node has no spec.podCIDR yet');
      podCIDR = '10.244.7.0/24';
      const status = await waitFor(vm, p, (s) => s.containerStatuses?.[0]?.ready === true);
      expect(status.podIP).toMatch(/^10\.244\.7\.\d+$/);
      expect(await httpText(`http://${status.podIP}:8080/`)).toContain('coracle web v1');
      const net = await env.docker.getNetwork(POD_NETWORK_NAME).inspect();
      expect(net.IPAM?.Config).toEqual([expect.objectContaining({ Subnet: '10.244.7.0/24', Gateway: '10.244.7.1' })]);
      expect(net.Options?.['com.docker.network.bridge.enable_ip_masquerade']).toBe('false');
      const rules = await rulesNow();
      const { masquerade, forward } = chains;
      expect(rules).toContain(`-A ${masquerade} -s 10.244.7.0/24 ! -d 10.244.0.0/16 -m comment --comment "pods leaving the cluster CIDR" -j MASQUERADE`);
      expect(rules).toContain(`-A POSTROUTING -m comment --comment "coracle ${masquerade}" -j ${masquerade}`);
      expect(rules).toContain(`-A ${forward} -s 10.244.0.0/16 -d 10.244.7.0/24 -m comment --comment "cluster traffic into the pod CIDR" -j ACCEPT`);
      expect(rules).toContain(`-A FORWARD -m comment --comment "coracle ${forward}" -j ${forward}`);
      await vm.deletePod(p, 0);
    } finally {
      await vm.close();
    }
    expect(await rulesNow()).not.toMatch(new RegExp(`${chains.masquerade}|${chains.forward}`));
    await env.docker.getNetwork(POD_NETWORK_NAME).remove();
  });
});
