/**
 * The agent against the real API handler (in-process, node identity and node authorizer) and an
 * in-memory runtime: registration, lease, pods run and report status, deletes are confirmed, a
 * restarted agent adopts what the runtime runs and cleans up pods deleted while it was down.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, TOKEN, type Harness } from './support/apiserver.js';
import { createNodeAuthorizer } from '../shared/apiserver/authorize.js';
import { ApiClient } from '../shared/controllers/client.js';
import { Agent } from '../agent/agent.js';
import { KeyQueue, queueSource, watchPods } from '../agent/work.js';
import { openSqliteWorkQueue } from '../adapters/workqueue/sqlite/index.js';
import type { NodeConfig } from '../agent/node.js';
import type { Runtime, V1Pod, V1PodStatus } from '../agent/runtime/runtime.js';
import type { Store } from '../shared/store/store.js';

const NODE_TOKEN = 'node-1-token';

/** MemoryRuntime runs pods as map entries: Running at once with an IP from 10.1.0.0/16. */
class MemoryRuntime implements Runtime {
  readonly pods = new Map<string, V1Pod>();
  readonly calls: string[] = [];
  private listener: ((pod: Readonly<V1Pod>, status: V1PodStatus) => void) | undefined;
  private nextIp = 2;
  async createPod(pod: Readonly<V1Pod>) {
    const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    this.calls.push(`create ${key}`);
    if (this.pods.get(key)?.metadata?.uid === pod.metadata?.uid) return;
    this.pods.set(key, structuredClone(pod) as V1Pod);
    const ip = `10.1.0.${this.nextIp++}`;
    this.listener?.(pod, {
      phase: 'Running', podIP: ip,
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: new Date().toISOString() } } })),
    });
  }
  async updatePod(pod: Readonly<V1Pod>) {
    this.calls.push(`update ${pod.metadata!.namespace}/${pod.metadata!.name}`);
    this.pods.set(`${pod.metadata!.namespace}/${pod.metadata!.name}`, structuredClone(pod) as V1Pod);
  }
  async deletePod(pod: Readonly<V1Pod>, grace?: number) {
    const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    this.calls.push(`delete ${key} grace=${grace ?? 'default'}`);
    if (this.pods.get(key)?.metadata?.uid === pod.metadata?.uid) this.pods.delete(key);
  }
  async getPodStatus() {
    return undefined;
  }
  async listPods() {
    return [...this.pods.values()];
  }
  onPodStatus(cb: (pod: Readonly<V1Pod>, status: V1PodStatus) => void) {
    this.listener = cb;
  }
  async close() {}
}

const config: NodeConfig = {
  name: 'node-1', cpu: 4, memoryBytes: 8 * 1024 ** 3, pods: 110, internalIP: '192.168.50.1',
  containerRuntimeVersion: 'simulated://0.1.0', arch: 'amd64', zone: 'zone-a', instanceType: 'coracle.small',
};

let h: Harness;
let store: Store;
let node: ApiClient;
const running: Array<{ agent: Agent; abort: AbortController }> = [];

async function startAgent(runtime: Runtime): Promise<Agent> {
  const work = new KeyQueue();
  const abort = new AbortController();
  void watchPods(node, 'spec.nodeName=node-1', (_n, ns, name) => work.add(ns, name), abort.signal, () => undefined, 50);
  const agent = new Agent({ client: node, runtime, node: config, work, log: () => undefined, leaseIntervalMs: 200, resyncIntervalMs: 60_000 });
  await agent.start();
  running.push({ agent, abort });
  return agent;
}

async function stopAgents(): Promise<void> {
  for (const { agent, abort } of running.splice(0)) {
    abort.abort();
    await agent.stop();
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function boundPod(name: string, nodeName = 'node-1'): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }], terminationGracePeriodSeconds: 5 } };
}

beforeAll(async () => {
  h = await startApiServer({
    tokens: new Map([
      [TOKEN, { username: 'admin', groups: ['system:masters'] }],
      [NODE_TOKEN, { username: 'system:node:node-1', groups: ['system:nodes'] }],
    ]),
    authorize: (user, info, request) => createNodeAuthorizer(store)(user, info, request),
  });
  store = h.store;
  node = new ApiClient(h.handler, { baseUrl: 'https://coracle.test', token: NODE_TOKEN });
});

afterEach(stopAgents);
afterAll(async () => {
  await h.close();
});

const getJson = async (path: string) => (await h.json('GET', path)).body;

describe('agent', () => {
  it('registers its Node Ready with labels, capacity and nodeInfo, and renews its Lease', async () => {
    const agent = await startAgent(new MemoryRuntime());
    const n = await getJson('/api/v1/nodes/node-1');
    expect(n.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
      'topology.kubernetes.io/zone': 'zone-a', 'node.kubernetes.io/instance-type': 'coracle.small',
    });
    expect(n.status.capacity).toEqual({ cpu: '4', memory: '8388608Ki', pods: '110', 'ephemeral-storage': '100Gi' });
    expect(n.status.allocatable.pods).toBe('110');
    expect(n.status.nodeInfo.kubeletVersion).toBe('v1.35.0-coracle');
    expect(n.status.nodeInfo.containerRuntimeVersion).toBe('simulated://0.1.0');
    expect(n.status.addresses).toEqual([{ type: 'InternalIP', address: '192.168.50.1' }, { type: 'Hostname', address: 'node-1' }]);
    const ready = n.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(n.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual(['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);

    const lease1 = await getJson('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1');
    expect(lease1.spec).toMatchObject({ holderIdentity: 'node-1', leaseDurationSeconds: 40 });
    expect(lease1.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const renewed = await until('a renewal', async () => {
      const l = await getJson('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1');
      return l.spec.renewTime !== lease1.spec.renewTime && l;
    });
    expect(Date.parse(renewed.spec.renewTime)).toBeGreaterThan(Date.parse(lease1.spec.renewTime));
    expect(agent.lastRenewal).toBeGreaterThan(0);
  });

  it('runs a bound pod, reports Running with podIP, hostIP, PodScheduled and qosClass; ignores other nodes\' pods', async () => {
    const runtime = new MemoryRuntime();
    await startAgent(runtime);
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', boundPod('web'))).status).toBe(201);
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', boundPod('elsewhere', 'node-2'))).status).toBe(201);
    const pod = await until('Running', async () => {
      const p = await getJson('/api/v1/namespaces/default/pods/web');
      return p.status?.phase === 'Running' && p;
    });
    expect(pod.status.podIP).toMatch(/^10\.1\.0\.\d+$/);
    expect(pod.status.podIPs).toEqual([{ ip: pod.status.podIP }]);
    expect(pod.status.hostIP).toBe('192.168.50.1');
    expect(pod.status.qosClass).toBe('BestEffort');
    expect(pod.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled').status).toBe('True');
    expect(pod.status.startTime).toBeDefined();
    expect(runtime.pods.has('default/elsewhere')).toBe(false);
    expect(runtime.calls.filter((c) => c === 'create default/web')).toHaveLength(1);
  });

  it('stops a deleted pod with its grace period and confirms the delete', async () => {
    const runtime = new MemoryRuntime();
    await startAgent(runtime);
    await until('web adopted', async () => runtime.pods.has('default/web') || (await h.json('GET', '/api/v1/namespaces/default/pods/web')).status === 404);
    const del = await h.json('DELETE', '/api/v1/namespaces/default/pods/web', { gracePeriodSeconds: 3 });
    expect(del.status).toBe(200);
    await until('pod gone', async () => (await h.json('GET', '/api/v1/namespaces/default/pods/web')).status === 404);
    expect(runtime.calls).toContain('delete default/web grace=3');
    expect(runtime.pods.has('default/web')).toBe(false);
  });

  it('a restarted agent adopts running pods without creating them again and removes pods deleted while it was down', async () => {
    const runtime = new MemoryRuntime();
    await startAgent(runtime);
    for (const name of ['keep', 'gone']) expect((await h.json('POST', '/api/v1/namespaces/default/pods', boundPod(name))).status).toBe(201);
    await until('both running', async () => runtime.pods.has('default/keep') && runtime.pods.has('default/gone'));
    await stopAgents();
    // While the agent is down: "gone" is deleted (an admin forces it: no node confirms) and "new" is bound here.
    expect((await h.json('DELETE', '/api/v1/namespaces/default/pods/gone', { gracePeriodSeconds: 0 })).status).toBe(200);
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', boundPod('new'))).status).toBe(201);
    runtime.calls.length = 0;
    await startAgent(runtime);
    await until('resynced', async () => runtime.pods.has('default/new') && !runtime.pods.has('default/gone'));
    expect(runtime.calls).not.toContain('create default/keep');
    expect(runtime.calls).toContain('delete default/gone grace=default');
    expect(runtime.calls.filter((c) => c === 'create default/new')).toHaveLength(1);
  });

  it('replaces a pod recreated under the same name (new uid)', async () => {
    const runtime = new MemoryRuntime();
    await startAgent(runtime);
    await until('keep running', async () => runtime.pods.has('default/keep'));
    const oldUid = runtime.pods.get('default/keep')!.metadata!.uid;
    // Force-delete and recreate at once: the agent may see only the new pod.
    expect((await h.json('DELETE', '/api/v1/namespaces/default/pods/keep', { gracePeriodSeconds: 0 })).status).toBe(200);
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', boundPod('keep'))).status).toBe(201);
    const newUid = (await getJson('/api/v1/namespaces/default/pods/keep')).metadata.uid;
    await until('new uid runs', async () => runtime.pods.get('default/keep')?.metadata?.uid === newUid);
    expect(newUid).not.toBe(oldUid);
  });

  it('takes work from the node queue: completes on success (duplicates harmless), retries failures and dead-letters them', async () => {
    const queue = await openSqliteWorkQueue({ path: ':memory:', settings: { maxDeliveryCount: 10 } });
    const runtime = new MemoryRuntime();
    const failing = new Set<string>(['default/broken']);
    const create = runtime.createPod.bind(runtime);
    runtime.createPod = async (pod) => {
      if (failing.has(`${pod.metadata!.namespace}/${pod.metadata!.name}`)) throw new Error('engine refused');
      return create(pod);
    };
    const agent = new Agent({ client: node, runtime, node: config, work: queueSource(queue, 'node-1', () => undefined, 3), log: () => undefined, leaseIntervalMs: 60_000 });
    await agent.start();
    try {
      for (const name of ['queued', 'broken']) expect((await h.json('POST', '/api/v1/namespaces/default/pods', boundPod(name))).status).toBe(201);
      // The resync at start already ran: only queue messages bring these pods in. Twice, as an at-least-once producer may.
      for (let i = 0; i < 2; i++) for (const name of ['queued', 'broken']) await queue.send('node-1', { namespace: 'default', name });
      await until('queued runs', async () => runtime.pods.has('default/queued'));
      const dead = await until('broken dead-lettered', async () => {
        const d = await queue.deadLetters('node-1');
        return d.length > 0 && d;
      }, 10_000);
      expect(dead[0].body).toEqual({ namespace: 'default', name: 'broken' });
      expect(dead[0].reason).toContain('engine refused');
      expect(runtime.calls.filter((c) => c === 'create default/queued')).toHaveLength(1);
      await until('queue drained', async () => (await queue.receive('node-1', { maxMessages: 10 })).length === 0 || undefined);
    } finally {
      await agent.stop();
      await queue.close();
    }
  });
});
