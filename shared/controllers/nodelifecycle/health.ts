/**
 * Node health decisions, pure (kube-controller-manager's node lifecycle controller,
 * `tryUpdateNodeHealth` and the condition → taint passes): when a node's agent counts as silent,
 * what its conditions become then, and which controller-owned taints the node should carry.
 *
 * Who owns what: the node agent owns the conditions while it is alive (it posts Ready=True and
 * the pressure conditions); this controller only ever turns them Unknown, and only when the
 * agent has been silent past the grace period. Taints under `node.kubernetes.io/` that mirror a
 * condition (or `spec.unschedulable`) are owned here; every other taint is left alone.
 */
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../../api/objects.js';
import type { Taint } from '../../scheduler/nodeinfo.js';

/** NODE_STATUS_UNKNOWN_MESSAGE is what a condition says once the controller turned it Unknown. */
export const NODE_STATUS_UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.';
/** NODE_NEVER_UPDATED_MESSAGE is the Ready condition added for a node that never posted one. */
export const NODE_NEVER_UPDATED_MESSAGE = 'Kubelet never posted node status.';

/** Well-known taint keys (k8s.io/api/core/v1 well_known_taints.go). */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** The taint keys this controller manages (any other taint is the user's). */
const OWNED_KEYS: ReadonlySet<string> = new Set([
  TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE, TAINT_PID_PRESSURE, TAINT_NETWORK_UNAVAILABLE,
]);

/** NodeTaint is core/v1 Taint with its `timeAdded` (set on NoExecute taints only). */
export interface NodeTaint extends Taint {
  timeAdded?: string;
}

type Condition = Record<string, unknown>;

/** conditionsOf reads `status.conditions` (never undefined). */
export function conditionsOf(obj: Readonly<KubeObject>): readonly Condition[] {
  const status = isRecord(obj.status) ? obj.status : {};
  return Array.isArray(status.conditions) ? status.conditions.filter(isRecord) : [];
}

/** readyStatus is the node's Ready condition status (`True`, `False`, `Unknown`), or undefined when it has none. */
export function readyStatus(node: Readonly<KubeObject>): string | undefined {
  const ready = conditionsOf(node).find((c) => c.type === 'Ready');
  return typeof ready?.status === 'string' ? ready.status : undefined;
}

/** taintsOf reads `spec.taints` (never undefined). */
export function taintsOf(node: Readonly<KubeObject>): NodeTaint[] {
  const spec = isRecord(node.spec) ? node.spec : {};
  return Array.isArray(spec.taints) ? (spec.taints.filter(isRecord) as unknown as NodeTaint[]) : [];
}

const time = (value: unknown): number => (typeof value === 'string' ? Date.parse(value) : NaN);

/**
 * lastHeardFrom is the latest sign of life a node's agent reports: its Lease's renewTime, its
 * Ready condition's lastHeartbeatTime, or (never heard from) the Node's creation. These are the
 * agent's own clock: HeartbeatObserver turns them into the server's.
 */
export function lastHeardFrom(node: Readonly<KubeObject>, lease: Readonly<KubeObject> | undefined): number {
  const renew = lease && isRecord(lease.spec) ? time(lease.spec.renewTime) : NaN;
  const heartbeat = time(conditionsOf(node).find((c) => c.type === 'Ready')?.lastHeartbeatTime);
  const created = time(readMetadata(node).creationTimestamp);
  const candidates = [renew, heartbeat].filter((t) => !Number.isNaN(t));
  if (candidates.length > 0) return Math.max(...candidates);
  return Number.isNaN(created) ? 0 : created;
}

/** heartbeatSignature is what changes each time the agent posts: its Lease's renewTime and its Ready heartbeat. */
function heartbeatSignature(node: Readonly<KubeObject>, lease: Readonly<KubeObject> | undefined): string {
  const renew = lease && isRecord(lease.spec) ? String(lease.spec.renewTime ?? '') : '';
  return `${renew}|${String(conditionsOf(node).find((c) => c.type === 'Ready')?.lastHeartbeatTime ?? '')}`;
}

/**
 * HeartbeatObserver gives node health the server's clock, as kube-controller-manager's
 * nodeHealthMap does: it remembers, per node, the heartbeat last seen and WHEN THE MONITOR SAW IT
 * CHANGE (probeTimestamp), and that observation time — never the timestamp the agent wrote — is
 * what silence is measured from. A node reporting a lastHeartbeatTime or renewTime in the future
 * is therefore silent one grace period after it stops changing them. A node seen for the first
 * time counts from the earlier of its reported time and now (a future time cannot extend it).
 * One observer lives as long as the monitor's process (functions/nodelifecycle.ts); a monitor that
 * moves to a fresh process starts over, which delays a verdict by at most one grace period.
 */
export class HeartbeatObserver {
  private readonly seen = new Map<string, { signature: string; at: number }>();

  /** observedAt returns when the server last saw `node`'s heartbeat change (ms since the epoch), recording this sighting. */
  observedAt(node: Readonly<KubeObject>, lease: Readonly<KubeObject> | undefined, now: Date): number {
    const name = String(readMetadata(node).name);
    const signature = heartbeatSignature(node, lease);
    const prior = this.seen.get(name);
    if (prior && prior.signature === signature) return prior.at;
    const at = prior ? now.getTime() : Math.min(now.getTime(), lastHeardFrom(node, lease));
    this.seen.set(name, { signature, at });
    return at;
  }

  /** retain forgets the nodes not in `names` (deleted nodes). */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.seen.keys()) if (!names.has(name)) this.seen.delete(name);
  }
}

/**
 * isSilent tells whether the node's agent has not been heard from for longer than `graceMs`,
 * measured on the server's clock through `observer` (a fresh one when none is kept: then the
 * reported time counts, clamped to now).
 */
export function isSilent(node: Readonly<KubeObject>, lease: Readonly<KubeObject> | undefined, now: Date, graceMs: number, observer = new HeartbeatObserver()): boolean {
  return now.getTime() - observer.observedAt(node, lease, now) > graceMs;
}

/**
 * unknownConditions is what a silent node's conditions become: each one not already Unknown
 * turns Unknown (reason NodeStatusUnknown, heartbeat kept, transition now), and a missing Ready
 * is added (reason NodeStatusNeverUpdated). Undefined when nothing changes.
 */
export function unknownConditions(conditions: readonly Condition[], now: Date): Condition[] | undefined {
  const stamp = rfc3339Now(now);
  let changed = false;
  const next = conditions.map((c) => {
    if (c.status === 'Unknown') return c;
    changed = true;
    return { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: NODE_STATUS_UNKNOWN_MESSAGE, lastTransitionTime: stamp };
  });
  if (!next.some((c) => c.type === 'Ready')) {
    changed = true;
    next.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: NODE_NEVER_UPDATED_MESSAGE, lastHeartbeatTime: stamp, lastTransitionTime: stamp });
  }
  return changed ? next : undefined;
}

const PRESSURE_TAINTS: ReadonlyArray<[condition: string, key: string]> = [
  ['MemoryPressure', TAINT_MEMORY_PRESSURE], ['DiskPressure', TAINT_DISK_PRESSURE], ['PIDPressure', TAINT_PID_PRESSURE],
  ['NetworkUnavailable', TAINT_NETWORK_UNAVAILABLE],
];

/**
 * wantedTaints are the controller-owned taints `node` should carry, from its conditions and
 * `spec.unschedulable` (upstream's taintNodeByCondition and doNoExecuteTaintingPass): Ready
 * False → not-ready NoSchedule + NoExecute; Ready Unknown → unreachable NoSchedule + NoExecute;
 * a pressure condition True → its NoSchedule taint; cordoned → unschedulable. A node that never
 * posted a Ready condition gets no taint yet: the monitor marks it Unknown (NodeStatusNeverUpdated)
 * once its grace period from creation has passed, and the taint follows — as upstream, where a
 * freshly created Node shows `Taints: <none>`.
 */
export function wantedTaints(node: Readonly<KubeObject>): Taint[] {
  const wanted: Taint[] = [];
  const ready = readyStatus(node);
  if (ready === 'False') wanted.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute' });
  else if (ready === 'Unknown') wanted.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute' });
  const conditions = conditionsOf(node);
  for (const [type, key] of PRESSURE_TAINTS) {
    if (conditions.some((c) => c.type === type && c.status === 'True')) wanted.push({ key, effect: 'NoSchedule' });
  }
  const spec = isRecord(node.spec) ? node.spec : {};
  if (spec.unschedulable === true) wanted.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return wanted;
}

const sameTaint = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;

/**
 * nextTaints reconciles the node's taints with `wanted`: owned taints no longer wanted go, wanted
 * ones missing are added (NoExecute ones stamped `timeAdded` now), present ones keep their
 * timeAdded, and the user's taints stay as they are. Undefined when nothing changes.
 */
export function nextTaints(current: readonly NodeTaint[], wanted: readonly Taint[], now: Date): NodeTaint[] | undefined {
  const kept = current.filter((t) => !OWNED_KEYS.has(t.key) || wanted.some((w) => sameTaint(w, t)));
  const added: NodeTaint[] = wanted
    .filter((w) => !current.some((t) => sameTaint(w, t)))
    .map((w) => (w.effect === 'NoExecute' ? { key: w.key, effect: w.effect, timeAdded: rfc3339Now(now) } : { key: w.key, effect: w.effect }));
  if (added.length === 0 && kept.length === current.length) return undefined;
  return [...kept, ...added];
}
