/**
 * The simulated runtime: KWOK-style hollow pods. No process runs; a created pod reports every
 * container running and ready (with a fake pod IP from the node's range) after `startDelayMs`,
 * and a deleted pod is gone after `deleteDelayMs`. A pod costs one small object and one timer,
 * so thousands of hollow nodes fit in one process.
 *
 * Hollow containers outlive the agent, as real ones do: a pod whose status says its containers
 * run here (a simulated container ID of its own and an address from this node's range) is adopted
 * as running at once, with its address, by an agent that starts again. Reporting it as
 * ContainerCreating would turn a Running pod back to Pending, which the eviction API lets go
 * without a budget check (an upgrade's drain racing the agents' restart after a handover).
 *
 * Usage (StatsProvider): a hollow container uses a small, steady amount, as KWOK's metrics
 * emulation would show: 1–5 millicores of CPU and 4–16 MiB of memory, fixed per container (from a
 * hash of its pod's uid and its name), its cumulative CPU time growing at that rate since it
 * started. So `kubectl top` works on simulated nodes and its figures are plausible, stable, and
 * never mistaken for real ones.
 */
import { createHash } from 'node:crypto';
import { RuntimeError, type ContainerStats, type Runtime, type StatsProvider, type V1Pod, type V1PodStatus } from '../runtime.js';
import type { V1ContainerStatus } from '../pod-types.js';
import { assemblePodStatus } from '../podstatus.js';

/** SimulatedRuntimeOptions configure one hollow node. */
export interface SimulatedRuntimeOptions {
  nodeName: string;
  /** Delay between createPod and Running (default 1000 ms, KWOK's order of magnitude). */
  startDelayMs?: number;
  /** Delay before a deleted pod is gone (default 100 ms). */
  deleteDelayMs?: number;
  /** The node's address, reported as hostIP (default 10.0.0.1). */
  hostIP?: string;
  /**
   * The first three octets where the node's pod range starts, e.g. "10.244.7" (default derived
   * from the node name). The range is a /20 from there (4,094 addresses): a hollow node may carry
   * far more than a /24's 254 pods (`--pods`).
   */
  podIPPrefix?: string;
  /** Clock for timestamps (default Date.now). */
  now?: () => number;
}

interface HollowPod {
  pod: V1Pod;
  status: V1PodStatus;
  ipSuffix?: number;
  timer?: NodeJS.Timeout;
  deleting?: Promise<void>;
}

/** podIPPrefixFor derives a stable 10.x.y prefix from a node name (the node's fake pod /24). */
export function podIPPrefixFor(nodeName: string): string {
  const h = createHash('sha1').update(nodeName).digest();
  return `10.${128 + (h[0] % 127)}.${h[1]}`;
}

/** simulatedUsage is a hollow container's steady usage: CPU in nanocores (1–5 m) and memory in bytes (4–16 MiB). */
export function simulatedUsage(podUid: string, container: string): { cpuNanoCores: number; memoryBytes: number } {
  const h = createHash('sha1').update(`${podUid}/${container}`).digest();
  return { cpuNanoCores: 1_000_000 + (h.readUInt32BE(0) % 4_000_001), memoryBytes: (4 + (h[4] % 13)) * 1024 * 1024 };
}

/** POD_RANGE_SIZE is how many addresses a hollow node's pod range has (a /20). */
const POD_RANGE_SIZE = 4096;

function key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? 'default'}/${name ?? ''}`;
}

/** createSimulatedRuntime returns a Runtime for one hollow node (see the file's TSDoc). */
export function createSimulatedRuntime(options: SimulatedRuntimeOptions): Runtime & StatsProvider {
  const startDelayMs = options.startDelayMs ?? 1000;
  const deleteDelayMs = options.deleteDelayMs ?? 100;
  const hostIP = options.hostIP ?? '10.0.0.1';
  const prefix = options.podIPPrefix ?? podIPPrefixFor(options.nodeName);
  const now = options.now ?? Date.now;
  const pods = new Map<string, HollowPod>();
  const freeSuffixes: number[] = [];
  /** Addresses held by pods (an adopted pod may hold one above nextSuffix, or one in freeSuffixes). */
  const inUse = new Set<number>();
  let nextSuffix = 2;
  const listeners: Array<(pod: Readonly<V1Pod>, status: V1PodStatus) => void> = [];
  const iso = () => new Date(now()).toISOString().replace(/\.\d+Z$/, 'Z');

  const notify = (entry: HollowPod) => {
    for (const listener of listeners) listener(entry.pod, entry.status);
  };

  const statusOf = (entry: HollowPod, state: 'waiting' | 'running' | 'terminated'): V1PodStatus => {
    const at = iso();
    const uid = entry.pod.metadata?.uid ?? '';
    const containerStatus = (name: string, image: string, s: typeof state): V1ContainerStatus => ({
      name, image, imageID: '', restartCount: 0, ready: s === 'running', started: s === 'running',
      ...(s === 'waiting' ? {} : { containerID: `simulated://${uid}-${name}` }),
      state: s === 'waiting' ? { waiting: { reason: 'ContainerCreating' } }
        : s === 'running' ? { running: { startedAt: at } }
          : { terminated: { exitCode: 0, reason: 'Completed', finishedAt: at } },
    });
    const spec = entry.pod.spec;
    const initDone = state === 'waiting' ? 'waiting' : 'terminated';
    return assemblePodStatus({
      pod: entry.pod,
      initContainerStatuses: (spec?.initContainers ?? []).map((c) => containerStatus(c.name, c.image ?? '', initDone)),
      containerStatuses: (spec?.containers ?? []).map((c) => containerStatus(c.name, c.image ?? '', state)),
      hostIP,
      podIP: entry.ipSuffix === undefined ? undefined : podIP(entry.ipSuffix),
      startTime: entry.status.startTime ?? at,
      previous: entry.status,
      now: at,
    });
  };

  const [a, b, c] = prefix.split('.').map(Number) as [number, number, number];
  /** podIP maps the n-th address of the node's /20 (n ≥ 2) to a dotted address. */
  const podIP = (n: number): string => `${a}.${b + Math.floor((c + Math.floor(n / 256)) / 256)}.${(c + Math.floor(n / 256)) % 256}.${n % 256}`;
  /** suffixOf maps an address back to its place n in the node's /20, or undefined when it lies outside. */
  const suffixOf = (ip: string): number | undefined => {
    const [w, x, y, z] = ip.split('.').map(Number) as [number, number, number, number];
    if (w !== a) return undefined;
    const n = ((x - b) * 256 + y - c) * 256 + z;
    return n >= 2 && n < POD_RANGE_SIZE - 1 && podIP(n) === ip ? n : undefined;
  };
  /** allocateSuffix hands out the next free address of the /20, or undefined when none is left. */
  const allocateSuffix = (): number | undefined => {
    for (;;) {
      const suffix = freeSuffixes.pop() ?? nextSuffix;
      if (suffix === nextSuffix) {
        if (suffix >= POD_RANGE_SIZE - 1) return undefined;
        nextSuffix++;
      }
      if (inUse.has(suffix)) continue;
      inUse.add(suffix);
      return suffix;
    }
  };
  const releaseSuffix = (suffix: number | undefined) => {
    if (suffix === undefined || !inUse.delete(suffix)) return;
    freeSuffixes.push(suffix);
  };
  /** adoptable returns the address of a pod whose containers run here already (see the file comment). */
  const adoptable = (pod: Readonly<V1Pod>): number | undefined => {
    const status = pod.status;
    const uid = pod.metadata?.uid;
    if (!uid || status?.phase !== 'Running' || !status.podIP) return undefined;
    const containers = status.containerStatuses ?? [];
    const all = (pod.spec?.containers ?? []).every((c) => containers.some((s) => s.name === c.name && s.containerID === `simulated://${uid}-${c.name}` && s.state?.running));
    const suffix = all ? suffixOf(status.podIP) : undefined;
    return suffix === undefined || inUse.has(suffix) ? undefined : suffix;
  };

  return {
    async createPod(pod) {
      const k = key(pod.metadata?.namespace, pod.metadata?.name);
      const existing = pods.get(k);
      if (existing && existing.pod.metadata?.uid === pod.metadata?.uid) return;
      if (existing) await this.deletePod(existing.pod, 0);
      const entry: HollowPod = { pod: structuredClone(pod) as V1Pod, status: {} };
      const adopted = existing ? undefined : adoptable(pod);
      if (adopted !== undefined) {
        inUse.add(adopted);
        entry.ipSuffix = adopted;
        entry.status = statusOf({ ...entry, status: structuredClone(pod.status!) }, 'running');
        // The containers did not restart: they keep the time they started.
        for (const c of entry.status.containerStatuses ?? []) {
          const before = pod.status!.containerStatuses?.find((p) => p.name === c.name)?.state?.running?.startedAt;
          if (before && c.state?.running) c.state.running.startedAt = before;
        }
        pods.set(k, entry);
        notify(entry);
        return;
      }
      entry.status = statusOf(entry, 'waiting');
      pods.set(k, entry);
      notify(entry);
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        entry.ipSuffix = allocateSuffix();
        // No address left: the pod stays ContainerCreating (as a kubelet whose CNI has no IP
        // left) instead of the whole hollow process failing in a timer.
        if (entry.ipSuffix === undefined) return;
        entry.status = statusOf(entry, 'running');
        notify(entry);
      }, startDelayMs);
    },
    async updatePod(pod) {
      const entry = pods.get(key(pod.metadata?.namespace, pod.metadata?.name));
      if (!entry || entry.pod.metadata?.uid !== pod.metadata?.uid) throw new RuntimeError('NotFound', `pod ${key(pod.metadata?.namespace, pod.metadata?.name)} is not on this node`);
      entry.pod = structuredClone(pod) as V1Pod;
    },
    deletePod(pod, _gracePeriodSeconds) {
      const k = key(pod.metadata?.namespace, pod.metadata?.name);
      const entry = pods.get(k);
      if (!entry || (pod.metadata?.uid && entry.pod.metadata?.uid !== pod.metadata.uid)) return Promise.resolve();
      entry.deleting ??= new Promise<void>((done) => {
        clearTimeout(entry.timer);
        setTimeout(() => {
          entry.status = statusOf(entry, 'terminated');
          notify(entry);
          releaseSuffix(entry.ipSuffix);
          pods.delete(k);
          done();
        }, deleteDelayMs);
      });
      return entry.deleting;
    },
    async getPodStatus(namespace, name) {
      const entry = pods.get(key(namespace, name));
      return entry ? structuredClone(entry.status) : undefined;
    },
    async listPods() {
      return [...pods.values()].map((e) => structuredClone(e.pod) as V1Pod);
    },
    onPodStatus(callback) {
      listeners.push(callback);
    },
    async containerStats() {
      const at = now();
      const stats: ContainerStats[] = [];
      for (const { pod, status } of pods.values()) {
        const uid = pod.metadata?.uid ?? '';
        for (const c of status.containerStatuses ?? []) {
          const startedAt = c.state?.running?.startedAt;
          if (!startedAt) continue;
          const startedAtMs = Math.min(Date.parse(startedAt), at);
          const usage = simulatedUsage(uid, c.name);
          stats.push({
            namespace: pod.metadata?.namespace ?? 'default', podName: pod.metadata?.name ?? '', podUid: uid, container: c.name,
            instanceId: c.containerID ?? `${uid}-${c.name}`, startedAtMs, atMs: at,
            cpuUsageNanoSeconds: Math.round((usage.cpuNanoCores * (at - startedAtMs)) / 1000), memoryWorkingSetBytes: usage.memoryBytes,
          });
        }
      }
      return stats;
    },
    async close() {
      for (const entry of pods.values()) clearTimeout(entry.timer);
    },
  } satisfies Runtime & StatsProvider;
}
