/**
 * The Runtime interface: what a node agent needs from whatever runs its pods, in virtual-kubelet's
 * shape (`PodLifecycleHandler` + `PodNotifier`). Adapters: `moby` (Docker Engine API) and
 * `simulated` (KWOK-style hollow pods).
 *
 * Who calls what: only the agent's pod reconciler calls these methods, one pod at a time per
 * (namespace, name) — calls for different pods may run concurrently. The runtime owns everything
 * between "this pod should run" and "these containers are running": container creation, restart
 * policy with back-off, probes, init containers, graceful termination, and shipping output to the
 * LogSink. It reports changes through `onPodStatus`; the agent writes them to `pods/status`.
 */
import type { V1Pod, V1PodStatus } from './pod-types.js';

export type { V1Pod, V1PodStatus };
/** EnvSources: the ConfigMap/Secret lookups an agent hands a runtime for env and envFrom (see env.ts). */
export type { EnvSources } from './env.js';

/** RuntimeErrorReason classifies failures (never by message text). */
export type RuntimeErrorReason = 'NotFound' | 'Invalid' | 'Unavailable';

/** RuntimeError is the only error a Runtime throws on purpose. */
export class RuntimeError extends Error {
  constructor(readonly reason: RuntimeErrorReason, message: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** Runtime runs the pods bound to one node. */
export interface Runtime {
  /**
   * createPod starts the pod's containers (init containers first). It returns once the work is
   * started, not when containers are running. Idempotent: calling it for a pod that already runs
   * (same uid) changes nothing — this is how an agent restarted after a crash adopts its pods.
   */
  createPod(pod: Readonly<V1Pod>): Promise<void>;
  /** updatePod applies the mutable parts of a changed spec (e.g. an image change restarts that container). Idempotent. */
  updatePod(pod: Readonly<V1Pod>): Promise<void>;
  /**
   * deletePod stops the pod: SIGTERM to every container, SIGKILL after `gracePeriodSeconds`
   * (default: the pod's terminationGracePeriodSeconds), then removes them. May be called several
   * times for the same pod, and for a pod the runtime does not know (then it does nothing).
   */
  deletePod(pod: Readonly<V1Pod>, gracePeriodSeconds?: number): Promise<void>;
  /** getPodStatus returns the pod's current status as the runtime sees it, or undefined if unknown. */
  getPodStatus(namespace: string, name: string): Promise<V1PodStatus | undefined>;
  /** listPods returns every pod the runtime has (running or not), e.g. found again after an agent restart. */
  listPods(): Promise<V1Pod[]>;
  /**
   * onPodStatus registers the agent's callback for status changes (PodNotifier). The runtime calls
   * it whenever a pod's status changes (container started, exited, restarted, probe result).
   */
  onPodStatus(callback: (pod: Readonly<V1Pod>, status: V1PodStatus) => void): void;
  /** close stops watching containers; it leaves them running (an agent restart must not kill pods). */
  close(): Promise<void>;
}

/**
 * ContainerStats is one running container's cumulative CPU time and memory working set, as read
 * from the runtime at `atMs` (epoch ms). `instanceId` changes when the container is restarted
 * (its CPU counter starts again); `startedAtMs` is when this instance started.
 */
export interface ContainerStats {
  namespace: string;
  podName: string;
  podUid: string;
  container: string;
  instanceId: string;
  startedAtMs: number;
  cpuUsageNanoSeconds: number;
  memoryWorkingSetBytes: number;
  atMs: number;
}

/**
 * StatsProvider is a runtime's optional power to measure its running containers (the kubelet's
 * summary API, virtual-kubelet's PodMetricsProvider). Only the agent's metrics reporter calls it,
 * one call at a time; a container that goes away while it is read is left out.
 */
export interface StatsProvider {
  containerStats(): Promise<ContainerStats[]>;
}

/** hasStats tells whether a runtime can measure its containers. */
export function hasStats(runtime: Runtime): runtime is Runtime & StatsProvider {
  return typeof (runtime as Partial<StatsProvider>).containerStats === 'function';
}

/** ContainerStreamRequest names the container a stream runs in and what it runs. */
export interface ContainerStreamRequest {
  namespace: string;
  podName: string;
  podUid: string;
  container: string;
  /** exec: the command to run; absent: attach to the container's main process. */
  command?: readonly string[];
  /** Run under a pseudo-terminal (output comes on stdout only). */
  tty: boolean;
}

/** ContainerStreamIO is a stream's ends, as the agent's tunnel provides them. */
export interface ContainerStreamIO {
  /** The client's input; ends when the client closes its stdin. */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Registers the listener for terminal size changes (tty only). */
  onResize(listener: (size: { width: number; height: number }) => void): void;
}

/**
 * StreamProvider is a runtime's optional power to run streams in its containers (the kubelet's
 * exec and attach, virtual-kubelet's `RunInContainer` / `AttachToContainer`). Only the agent's
 * stream tunnel calls it; streams run concurrently. A container that does not run is a
 * RuntimeError NotFound (`container not found ("<name>")`, the kubelet's words).
 */
export interface StreamProvider {
  /** exec runs `request.command` in the container and resolves with its exit code once its output has ended. */
  exec(request: ContainerStreamRequest, io: ContainerStreamIO): Promise<number>;
  /** attach joins the container's main process until it ends or the client's stdin and output close; resolves with nothing to report. */
  attach(request: ContainerStreamRequest, io: ContainerStreamIO, signal: AbortSignal): Promise<void>;
}

/** hasStreams tells whether a runtime can run streams in its containers. */
export function hasStreams(runtime: Runtime): runtime is Runtime & StreamProvider {
  return typeof (runtime as Partial<StreamProvider>).exec === 'function';
}
