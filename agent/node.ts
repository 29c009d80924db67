/**
 * Node identity and liveness: the agent's Node object (labels, capacity, nodeInfo, addresses,
 * conditions) and its Lease in `kube-node-lease`, renewed every 10 s as the kubelet does
 * (nodeLeaseDurationSeconds 40, renew interval a quarter of it). The Node's status is reported at
 * registration and every `statusIntervalMs` (the kubelet reports on change or every 5 min; the
 * Lease carries liveness in between).
 */
import { RELEASE_VERSION } from '../shared/release/version.js';
import { findResource } from '../shared/api/resources.js';
import { ApiError } from '../shared/api/status.js';
import { isRecord, rfc3339MicroNow, rfc3339Now, type KubeObject } from '../shared/api/objects.js';
import type { ApiClient } from '../shared/controllers/client.js';

/** AGENT_VERSION is what the agent reports as nodeInfo.kubeletVersion. */
export const AGENT_VERSION = RELEASE_VERSION;
/** LEASE_DURATION_SECONDS is the Lease's leaseDurationSeconds (the kubelet's default). */
export const LEASE_DURATION_SECONDS = 40;
/** LEASE_RENEW_INTERVAL_MS is how often the Lease is renewed. */
export const LEASE_RENEW_INTERVAL_MS = 10_000;

const NODES = findResource('', 'v1', 'nodes')!;
const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!;

/** NodeConfig describes the node an agent registers. */
export interface NodeConfig {
  name: string;
  /** Capacity: CPU cores, memory bytes, pod slots. Allocatable equals capacity. */
  cpu: number;
  memoryBytes: number;
  pods: number;
  /** The address pods' hostIP reports. */
  internalIP: string;
  /** nodeInfo.containerRuntimeVersion, e.g. `docker://20.10.24` or `simulated://0.1.0`. */
  containerRuntimeVersion: string;
  /** `amd64`, `arm64` (Go's names). */
  arch: string;
  zone?: string;
  instanceType?: string;
  /** nodeInfo.kernelVersion and osImage (default empty and `Coracle`). */
  kernelVersion?: string;
  osImage?: string;
  /** More labels (they win over the defaults). */
  labels?: Record<string, string>;
}

/** goArch maps Node's process.arch to Go's GOARCH, which Kubernetes labels use. */
export function goArch(arch: string): string {
  return ({ x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

/** nodeLabels are the well-known labels of the node (kubelet's initialNode). */
export function nodeLabels(config: NodeConfig): Record<string, string> {
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': config.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': config.arch,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': config.arch,
  };
  if (config.zone) labels['topology.kubernetes.io/zone'] = config.zone;
  if (config.instanceType) labels['node.kubernetes.io/instance-type'] = config.instanceType;
  return { ...labels, ...config.labels };
}

const CONDITIONS: ReadonlyArray<[type: string, status: string, reason: string, message: string]> = [
  ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
];

/** nodeConditions renders the conditions, keeping each one's lastTransitionTime while its status holds. */
export function nodeConditions(now: Date, previous: readonly Record<string, unknown>[] = []): Record<string, unknown>[] {
  const stamp = rfc3339Now(now);
  return CONDITIONS.map(([type, status, reason, message]) => {
    const before = previous.find((c) => c.type === type);
    const since = before && before.status === status && typeof before.lastTransitionTime === 'string' ? before.lastTransitionTime : stamp;
    return { type, status, lastHeartbeatTime: stamp, lastTransitionTime: since, reason, message };
  });
}

/** nodeStatus renders status.{capacity, allocatable, conditions, addresses, nodeInfo, daemonEndpoints}. */
export function nodeStatus(config: NodeConfig, now: Date, previousConditions?: readonly Record<string, unknown>[]): Record<string, unknown> {
  const resources = { cpu: String(config.cpu), memory: `${Math.floor(config.memoryBytes / 1024)}Ki`, pods: String(config.pods), 'ephemeral-storage': '100Gi' };
  return {
    capacity: resources,
    allocatable: resources,
    conditions: nodeConditions(now, previousConditions),
    addresses: [{ type: 'InternalIP', address: config.internalIP }, { type: 'Hostname', address: config.name }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: '', systemUUID: '', bootID: '', kernelVersion: config.kernelVersion ?? '', osImage: config.osImage ?? 'Coracle',
      containerRuntimeVersion: config.containerRuntimeVersion, kubeletVersion: AGENT_VERSION, kubeProxyVersion: '',
      operatingSystem: 'linux', architecture: config.arch,
    },
  };
}

/** buildNode renders the whole Node object the agent creates. */
export function buildNode(config: NodeConfig, now: Date): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: config.name, labels: nodeLabels(config) }, spec: {}, status: nodeStatus(config, now) };
}

/** buildLease renders the node's Lease renewed at `now`. */
export function buildLease(nodeName: string, now: Date, previous?: KubeObject): KubeObject {
  const renewTime = rfc3339MicroNow(now);
  const spec = previous && isRecord(previous.spec) ? previous.spec : {};
  return {
    ...(previous ?? { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: nodeName, namespace: 'kube-node-lease' } }),
    spec: { ...spec, holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime },
  };
}

const is = (err: unknown, code: number): boolean => err instanceof ApiError && err.code === code;

/**
 * NodeLifecycle registers one node and keeps it alive: `register` creates (or re-labels) the Node
 * and reports its status; `renewLease` creates or renews its Lease; `reportStatus` refreshes the
 * heartbeats. Each method is safe to call again after a failure.
 */
export class NodeLifecycle {
  private lease: KubeObject | undefined;
  private conditions: Record<string, unknown>[] = [];

  constructor(
    private readonly client: ApiClient,
    readonly config: NodeConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** register creates the Node if absent (else merges its labels), then reports its status. */
  async register(): Promise<void> {
    const { name } = this.config;
    const existing = await this.client.getOrUndefined(NODES, { name });
    if (!existing) {
      try {
        await this.client.create(NODES, buildNode(this.config, this.now()));
      } catch (err) {
        if (!is(err, 409)) throw err; // registered concurrently: fine
      }
    } else {
      const status = isRecord(existing.status) ? existing.status : {};
      this.conditions = Array.isArray(status.conditions) ? (status.conditions as Record<string, unknown>[]) : [];
      await this.client.patch(NODES, { name }, { metadata: { labels: nodeLabels(this.config) } }, 'merge');
    }
    await this.reportStatus();
  }

  /** reportStatus writes the Node's status (heartbeats now, transitions kept). */
  async reportStatus(): Promise<void> {
    const status = nodeStatus(this.config, this.now(), this.conditions);
    await this.client.patch(NODES, { name: this.config.name }, { status }, 'merge', { subresource: 'status' });
    this.conditions = status.conditions as Record<string, unknown>[];
  }

  /** renewLease creates or renews `kube-node-lease/<node>`; a stale cached copy is re-read once. */
  async renewLease(): Promise<void> {
    const ref = { namespace: 'kube-node-lease', name: this.config.name };
    for (let attempt = 0; attempt < 2; attempt++) {
      this.lease ??= await this.client.getOrUndefined(LEASES, ref);
      try {
        this.lease = this.lease
          ? await this.client.update(LEASES, buildLease(this.config.name, this.now(), this.lease))
          : await this.client.create(LEASES, buildLease(this.config.name, this.now()));
        return;
      } catch (err) {
        this.lease = undefined;
        if (!is(err, 409) && !is(err, 404)) throw err;
      }
    }
    throw new Error(`lease kube-node-lease/${this.config.name}: conflicting writers`);
  }
}
