/**
 * The moby runtime: runs a node's pods as Docker containers through the Docker Engine API
 * (dockerode over the engine's unix socket). One sandbox container per pod holds the network
 * namespace; containers join it. All state lives in container labels, so a runtime created again
 * on the same engine adopts the pods it finds (see containers.ts and podworker.ts).
 */
import Docker from 'dockerode';
import type { ClusterDNS } from './dns.js';
import os, { networkInterfaces } from 'node:os';
import path from 'node:path';
import type { LogSink } from '../../../shared/logs/logsink.js';
import type { EnvSources } from '../env.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from '../podstatus.js';
import { type Runtime, type StatsProvider, type StreamProvider, type V1Pod, type V1PodStatus } from '../runtime.js';
import { readContainerStats } from './stats.js';
import { attachToContainer, execInContainer } from './streams.js';
import { LABELS, podKey } from './containers.js';
import { PodWorker, type WorkerContext } from './podworker.js';
import { PodNetwork, type PodNetworkOptions } from './podnet.js';

/** MobyRuntimeOptions configure one node's moby runtime. */
export interface MobyRuntimeOptions {
  /** A dockerode client, or the engine's unix socket path. */
  docker?: Docker;
  socketPath?: string;
  nodeName: string;
  /** The node's address (status.hostIP); default: the first non-internal IPv4 address. */
  hostIP?: string;
  /** Where container output goes; without it output stays in the engine only. */
  logSink?: LogSink;
  /** ConfigMap/Secret lookups for env and envFrom (provided by the agent). */
  envSources?: EnvSources;
  /** Where pods' projected volumes (ServiceAccount tokens) are written (default: `<tmp>/coracle-volumes-<node>`). */
  volumesDir?: string;
  /** Image of the pod sandbox (default coracle/busybox:latest; it must be present locally). */
  sandboxImage?: string;
  /** The cluster DNS for pods' resolv.conf (dnsPolicy ClusterFirst). */
  clusterDNS?: ClusterDNS;
  /** `name:address` entries every sandbox's /etc/hosts gets (a named API server, agent/apiserver-name.ts). */
  extraHosts?: readonly string[];
  /** A VM node: pods get addresses from the Node's pod CIDR on a bridge of their own (podnet.ts); absent: the engine's default bridge. */
  podNetwork?: PodNetworkOptions;
  /** Restart and image-pull back-off (default 10 s doubling to 5 min). */
  backoff?: Partial<BackoffPolicy>;
  /** How often every pod is re-synced besides engine events (default 1000 ms). */
  syncIntervalMs?: number;
  log?: (message: string, err?: unknown) => void;
}

/** defaultHostIP is the first non-internal IPv4 address of this machine. */
export function defaultHostIP(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return '127.0.0.1';
}

interface MobyState {
  ctx: WorkerContext;
  workers: Map<string, PodWorker>;
  listeners: Array<(pod: Readonly<V1Pod>, status: V1PodStatus) => void>;
}

/** adopt starts a worker for every pod whose sandbox this node left in the engine. */
async function adopt(state: MobyState): Promise<void> {
  const sandboxes = await state.ctx.docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${state.ctx.nodeName}`, `${LABELS.role}=sandbox`] } });
  for (const summary of sandboxes) {
    try {
      const pod = JSON.parse(summary.Labels[LABELS.pod] ?? '') as V1Pod;
      const key = podKey(pod);
      if (state.workers.get(key)?.uid === pod.metadata?.uid) continue;
      const worker = new PodWorker(state.ctx, { ...pod, apiVersion: 'v1', kind: 'Pod' });
      state.workers.set(key, worker);
      void worker.kick();
    } catch (err) {
      state.ctx.log(`sandbox ${summary.Id} has no readable pod label`, err);
    }
  }
}

/** watchEvents kicks a pod's worker whenever one of its containers starts, dies or is OOM-killed. */
function watchEvents(state: MobyState, isClosed: () => boolean): { stop(): void } {
  let stream: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
  let retry: NodeJS.Timeout | undefined;
  const byUid = (uid: string) => [...state.workers.values()].find((w) => w.uid === uid);
  const connect = () => {
    state.ctx.docker.getEvents({ filters: { type: ['container'], event: ['start', 'die', 'oom'], label: [`${LABELS.node}=${state.ctx.nodeName}`] } }).then(
      (events) => {
        stream = events as typeof stream;
        let buffer = '';
        events.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            const uid = (JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } }).Actor?.Attributes?.[LABELS.podUid];
            if (uid) void byUid(uid)?.kick();
          }
        });
        events.on('end', () => !isClosed() && (retry = setTimeout(connect, 1000)));
      },
      () => !isClosed() && (retry = setTimeout(connect, 1000)),
    );
  };
  connect();
  return {
    stop() {
      clearTimeout(retry);
      stream?.destroy();
    },
  };
}

/** createMobyRuntime returns the Runtime of one node backed by a Docker engine (see the file's TSDoc). */
export function createMobyRuntime(options: MobyRuntimeOptions): Runtime & StatsProvider & StreamProvider {
  const docker = options.docker ?? new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
  const state: MobyState = { workers: new Map(), listeners: [], ctx: undefined as unknown as WorkerContext };
  const podNetwork = options.podNetwork && new PodNetwork(docker, options.podNetwork);
  state.ctx = {
    docker,
    nodeName: options.nodeName,
    hostIP: options.hostIP ?? defaultHostIP(),
    sandboxImage: options.sandboxImage ?? 'coracle/busybox:latest',
    clusterDNS: options.clusterDNS,
    extraHosts: options.extraHosts,
    podNetwork,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    logSink: options.logSink,
    envSources: options.envSources,
    volumesDir: options.volumesDir ?? path.join(os.tmpdir(), `coracle-volumes-${options.nodeName}`),
    notify: (pod, status) => {
      for (const listener of state.listeners) listener(pod, structuredClone(status));
    },
    log: options.log ?? (() => {}),
  };
  let closed = false;
  const ready = adopt(state);
  const events = watchEvents(state, () => closed);
  const ticker = setInterval(() => {
    for (const worker of state.workers.values()) void worker.kick();
  }, options.syncIntervalMs ?? 1000);

  const graceOf = (pod: Readonly<V1Pod>, grace?: number) => grace ?? pod.spec?.terminationGracePeriodSeconds ?? 30;

  return {
    async createPod(pod) {
      await ready;
      const key = podKey(pod);
      const existing = state.workers.get(key);
      if (existing && existing.uid === pod.metadata?.uid) return existing.restartChanged(structuredClone(pod) as V1Pod);
      if (existing) {
        await existing.terminate(graceOf(existing.pod));
        state.workers.delete(key);
      }
      const worker = new PodWorker(state.ctx, structuredClone(pod) as V1Pod);
      state.workers.set(key, worker);
      void worker.kick();
    },
    updatePod(pod) {
      return this.createPod(pod);
    },
    async deletePod(pod, gracePeriodSeconds) {
      await ready;
      const key = podKey(pod);
      const worker = state.workers.get(key);
      if (!worker || (pod.metadata?.uid && worker.uid !== pod.metadata.uid)) return;
      await worker.terminate(graceOf(pod, gracePeriodSeconds));
      if (state.workers.get(key) === worker) state.workers.delete(key);
    },
    async getPodStatus(namespace, name) {
      await ready;
      const status = state.workers.get(`${namespace}/${name}`)?.status;
      return status && structuredClone(status);
    },
    async listPods() {
      await ready;
      return [...state.workers.values()].map((w) => structuredClone(w.pod) as V1Pod);
    },
    onPodStatus(callback) {
      state.listeners.push(callback);
    },
    containerStats() {
      return readContainerStats(docker, options.nodeName);
    },
    exec(request, io) {
      return execInContainer(docker, options.nodeName, request, io);
    },
    attach(request, io, signal) {
      return attachToContainer(docker, options.nodeName, request, io, signal);
    },
    async close() {
      closed = true;
      clearInterval(ticker);
      events.stop();
      await ready.catch(() => {});
      for (const worker of state.workers.values()) worker.close();
      await podNetwork?.close();
    },
  } satisfies Runtime & StatsProvider & StreamProvider;
}
