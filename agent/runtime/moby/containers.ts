/**
 * How pods map onto Docker containers: one sandbox container per pod owns the network namespace
 * (its IP is the pod IP); each container instance joins it. Every container carries labels that
 * name its node, pod and container and its restart number, so the runtime rebuilds its whole
 * state from the engine after an agent restart.
 */
import type Docker from 'dockerode';
import type { V1Container, V1Pod } from '../pod-types.js';
import { parseQuantity } from '../quantity.js';
import { podDNS, type ClusterDNS } from './dns.js';

/** LABELS are the label keys on every container the moby runtime creates. */
export const LABELS = {
  node: 'io.coracle.node',
  podUid: 'io.coracle.pod.uid',
  podNamespace: 'io.coracle.pod.namespace',
  podName: 'io.coracle.pod.name',
  /** "sandbox", "init" or "app". */
  role: 'io.coracle.role',
  container: 'io.coracle.container.name',
  restart: 'io.coracle.container.restart',
  /** The spec image the instance was created for (an image change in updatePod restarts it). */
  image: 'io.coracle.container.image',
  /** On the sandbox only: the pod (metadata and spec) as JSON, for adoption after a restart. */
  pod: 'io.coracle.pod',
} as const;

/** ContainerRole says what a container is for in its pod. */
export type ContainerRole = 'sandbox' | 'init' | 'app';

/** Instance is one container instance as observed in the engine. */
export interface Instance {
  id: string;
  role: ContainerRole;
  container: string;
  restart: number;
  specImage: string;
  imageID: string;
  running: boolean;
  /** Created but never started (e.g. the runtime stopped between create and start). */
  created: boolean;
  exitCode: number;
  oomKilled: boolean;
  startedAt?: string;
  finishedAt?: string;
  /** Epoch ms of start and finish, for back-off and probe timing. */
  startedMs: number;
  finishedMs: number;
  ip?: string;
  error?: string;
}

/** kubeTime turns Docker's RFC 3339 nanosecond time into Kubernetes' second-precision form; undefined for Docker's zero time. */
export function kubeTime(dockerTime: string | undefined): string | undefined {
  if (!dockerTime || dockerTime.startsWith('0001-')) return undefined;
  return new Date(dockerTime).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** instanceFromInspect reads an inspected container into an Instance. */
export function instanceFromInspect(info: Docker.ContainerInspectInfo): Instance {
  const labels = info.Config.Labels ?? {};
  const state = info.State;
  const networks = Object.values(info.NetworkSettings?.Networks ?? {});
  return {
    id: info.Id,
    role: (labels[LABELS.role] as ContainerRole) ?? 'app',
    container: labels[LABELS.container] ?? '',
    restart: Number(labels[LABELS.restart] ?? 0),
    specImage: labels[LABELS.image] ?? info.Config.Image,
    imageID: info.Image,
    running: state.Running,
    created: state.Status === 'created',
    exitCode: state.ExitCode,
    oomKilled: state.OOMKilled,
    startedAt: kubeTime(state.StartedAt),
    finishedAt: kubeTime(state.FinishedAt),
    startedMs: kubeTime(state.StartedAt) ? Date.parse(state.StartedAt) : 0,
    finishedMs: kubeTime(state.FinishedAt) ? Date.parse(state.FinishedAt) : 0,
    ip: networks.find((n) => n.IPAddress)?.IPAddress || undefined,
    error: state.Error || undefined,
  };
}

/** podKey is "namespace/name". */
export function podKey(pod: Readonly<V1Pod>): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

function podLabels(nodeName: string, pod: Readonly<V1Pod>, role: ContainerRole): Record<string, string> {
  return {
    [LABELS.node]: nodeName,
    [LABELS.podUid]: pod.metadata?.uid ?? '',
    [LABELS.podNamespace]: pod.metadata?.namespace ?? 'default',
    [LABELS.podName]: pod.metadata?.name ?? '',
    [LABELS.role]: role,
  };
}

/** containerName is the instance's Docker name, unique per (pod uid, container, restart) like the kubelet's k8s_ names. */
export function containerName(pod: Readonly<V1Pod>, container: string, restart: number): string {
  const m = pod.metadata ?? {};
  return `k8s_${container}_${m.name}_${m.namespace ?? 'default'}_${m.uid}_${restart}`;
}

/**
 * sandboxConfig is the create options of the pod's sandbox: a sleeping process that holds the
 * network namespace and the host ports, on `network` (a VM node's pod network, podnet.ts) or the
 * engine's default bridge, with the node's `extraHosts` (`name:address`) in its /etc/hosts.
 */
export function sandboxConfig(nodeName: string, pod: Readonly<V1Pod>, image: string, clusterDNS?: ClusterDNS, network?: string, extraHosts: readonly string[] = []): Docker.ContainerCreateOptions {
  const bindings: Record<string, Array<{ HostPort: string; HostIp?: string }>> = {};
  const exposed: Record<string, object> = {};
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const port of c.ports ?? []) {
      const key = `${port.containerPort}/${(port.protocol ?? 'TCP').toLowerCase()}`;
      exposed[key] = {};
      if (port.hostPort) bindings[key] = [{ HostPort: String(port.hostPort), ...(port.hostIP ? { HostIp: port.hostIP } : {}) }];
    }
  }
  const snapshot = { metadata: pod.metadata, spec: pod.spec };
  return {
    name: containerName(pod, 'POD', 0),
    Image: image,
    Entrypoint: ['sleep'],
    Cmd: ['2147483647'],
    Hostname: (pod.spec?.hostname ?? pod.metadata?.name ?? 'pod').slice(0, 63),
    ExposedPorts: exposed,
    Labels: { ...podLabels(nodeName, pod, 'sandbox'), [LABELS.container]: 'POD', [LABELS.restart]: '0', [LABELS.pod]: JSON.stringify(snapshot) },
    HostConfig: { PortBindings: bindings, IpcMode: 'shareable', RestartPolicy: { Name: 'no' }, ...podDNS(pod, clusterDNS), ...(network ? { NetworkMode: network } : {}), ...(extraHosts.length ? { ExtraHosts: [...extraHosts] } : {}) },
  };
}

/** instanceConfig is the create options of one container instance joined to the sandbox (which exposes the ports: Docker refuses them on a joined container), with its volumes' `binds`. */
export function instanceConfig(
  nodeName: string, pod: Readonly<V1Pod>, container: Readonly<V1Container>, role: 'init' | 'app', restart: number,
  sandboxId: string, env: string[], command: { Entrypoint?: string[]; Cmd?: string[] }, binds: string[] = [],
): Docker.ContainerCreateOptions {
  const limits = container.resources?.limits ?? {};
  const memory = parseQuantity(limits.memory as string | undefined);
  const cpu = parseQuantity(limits.cpu as string | undefined);
  return {
    name: containerName(pod, container.name, restart),
    Image: container.image,
    Env: env,
    ...command,
    WorkingDir: container.workingDir ?? '',
    Tty: container.tty ?? false,
    OpenStdin: container.stdin ?? false,
    // The engine closes the container's stdin once the first attached client leaves: Kubernetes' stdinOnce.
    StdinOnce: (container.stdin ?? false) && (container.stdinOnce ?? false),
    Labels: {
      ...podLabels(nodeName, pod, role),
      [LABELS.container]: container.name,
      [LABELS.restart]: String(restart),
      [LABELS.image]: container.image ?? '',
    },
    HostConfig: {
      NetworkMode: `container:${sandboxId}`,
      IpcMode: `container:${sandboxId}`,
      RestartPolicy: { Name: 'no' },
      ...(binds.length > 0 ? { Binds: binds } : {}),
      ...(memory ? { Memory: Math.round(memory), MemorySwap: Math.round(memory) } : {}),
      ...(cpu ? { NanoCpus: Math.round(cpu * 1e9) } : {}),
    },
  };
}
