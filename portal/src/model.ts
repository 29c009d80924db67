/**
 * What the overview shows, computed from the watched objects: pure functions, no DOM, so the
 * numbers can be checked against kubectl's without a browser (model.test.ts).
 */
import type { KubeObject } from './api.js';

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** parseQuantity reads a Kubernetes quantity (`250m`, `1Gi`, `2`, `1e3`) as a number; NaN when it is not one. */
export function parseQuantity(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return NaN;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(value.trim());
  if (!m) return NaN;
  return Number(m[1]) * SUFFIXES[m[2] ?? '']!;
}

/** formatCpu shows cores as kubectl does: millicores below one core or when fractional. */
export function formatCpu(cores: number): string {
  if (!Number.isFinite(cores)) return '–';
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** formatBytes shows a byte count in binary units (Mi, Gi). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  for (const [unit, size] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= size) return `${Math.round((bytes / size) * 10) / 10}${unit}`;
  }
  return String(bytes);
}

/** isActivePod tells whether a pod holds its node's resources (bound, not finished). */
export function isActivePod(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return typeof pod.spec?.nodeName === 'string' && pod.spec.nodeName !== '' && phase !== 'Succeeded' && phase !== 'Failed';
}

/**
 * podRequests is a pod's effective requests as the scheduler counts them: the sum of its
 * containers', or an init container's when larger (init containers run one at a time).
 */
export function podRequests(pod: KubeObject): { cpu: number; memory: number } {
  const of = (c: any, r: 'cpu' | 'memory') => {
    const q = parseQuantity(c?.resources?.requests?.[r]);
    return Number.isFinite(q) ? q : 0;
  };
  const containers: any[] = pod.spec?.containers ?? [];
  const inits: any[] = pod.spec?.initContainers ?? [];
  const sum = (r: 'cpu' | 'memory') => containers.reduce((s, c) => s + of(c, r), 0);
  const maxInit = (r: 'cpu' | 'memory') => inits.reduce((m, c) => Math.max(m, of(c, r)), 0);
  return { cpu: Math.max(sum('cpu'), maxInit('cpu')), memory: Math.max(sum('memory'), maxInit('memory')) };
}

/** NodeSummary is one row of the nodes table. */
export interface NodeSummary {
  name: string;
  ready: boolean;
  /** kubectl's STATUS column: Ready, NotReady or Unknown, with `,SchedulingDisabled` when cordoned. */
  status: string;
  cordoned: boolean;
  kubeletVersion: string;
  pool: string | undefined;
  pods: number;
  cpuRequested: number;
  cpuAllocatable: number;
  memoryRequested: number;
  memoryAllocatable: number;
}

/** summarizeNode computes a node's row from the node and every pod. */
export function summarizeNode(node: KubeObject, pods: readonly KubeObject[], pools: readonly string[]): NodeSummary {
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const readyText = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  const cordoned = node.spec?.unschedulable === true;
  const onNode = pods.filter((p) => isActivePod(p) && p.spec.nodeName === node.metadata.name);
  const requests = onNode.map(podRequests);
  return {
    name: node.metadata.name,
    ready: readyText === 'Ready',
    status: cordoned ? `${readyText},SchedulingDisabled` : readyText,
    cordoned,
    kubeletVersion: String(node.status?.nodeInfo?.kubeletVersion ?? ''),
    pool: poolOfNode(node, pools),
    pods: onNode.length,
    cpuRequested: requests.reduce((s, r) => s + r.cpu, 0),
    cpuAllocatable: parseQuantity(node.status?.allocatable?.cpu),
    memoryRequested: requests.reduce((s, r) => s + r.memory, 0),
    memoryAllocatable: parseQuantity(node.status?.allocatable?.memory),
  };
}

/**
 * poolOfNode names the NodePool a node belongs to: its `coracle.io/nodepool` label when set, else
 * the pool whose name prefixes the node's (`node-1` is in pool `node`, as coracle up names them).
 */
export function poolOfNode(node: KubeObject, pools: readonly string[]): string | undefined {
  const label = node.metadata.labels?.['coracle.io/nodepool'];
  if (label) return label;
  return [...pools].sort((a, b) => b.length - a.length).find((p) => node.metadata.name.startsWith(`${p}-`));
}

/** DeploymentSummary is one row of the workloads table. */
export interface DeploymentSummary {
  namespace: string;
  name: string;
  ready: number;
  desired: number;
  upToDate: number;
  available: number;
  /** Why a rollout is in progress, or undefined when the Deployment is settled. */
  rollout: string | undefined;
}

/** summarizeDeployment computes a Deployment's row; `rollout` follows `kubectl rollout status`'s rules. */
export function summarizeDeployment(d: KubeObject): DeploymentSummary {
  const desired = typeof d.spec?.replicas === 'number' ? d.spec.replicas : 1;
  const s = d.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  const replicas = s.replicas ?? 0;
  const available = s.availableReplicas ?? 0;
  let rollout: string | undefined;
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) rollout = 'waiting for the controller to observe the change';
  else if (updated < desired) rollout = `${updated} of ${desired} updated`;
  else if (replicas > updated) rollout = `${replicas - updated} old replica(s) pending termination`;
  else if (available < updated) rollout = `${available} of ${updated} updated available`;
  return { namespace: d.metadata.namespace ?? '', name: d.metadata.name, ready: s.readyReplicas ?? 0, desired, upToDate: updated, available, rollout };
}

/** eventTime is when an event last happened (lastTimestamp, eventTime, or its creation). */
export function eventTime(e: KubeObject): number {
  const t = (e as any).lastTimestamp ?? (e as any).eventTime ?? (e as any).firstTimestamp ?? e.metadata.creationTimestamp;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

/** recentEvents returns the events passing `filter`, newest first, at most `limit`. */
export function recentEvents(events: readonly KubeObject[], filter: (e: KubeObject) => boolean, limit: number): KubeObject[] {
  return events.filter(filter).sort((a, b) => eventTime(b) - eventTime(a)).slice(0, limit);
}

/** formatDuration shows seconds as `1h 2m`, `3m 5s` or `40s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** age shows how long ago a timestamp was, as kubectl's AGE column (roughly). */
export function age(timestamp: string | undefined, now: number): string {
  const t = timestamp ? Date.parse(timestamp) : NaN;
  if (!Number.isFinite(t)) return '–';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
