/**
 * Pod status reporting: what the runtime reports, completed with what the node knows (hostIP,
 * qosClass, PodScheduled, startTime), written through `pods/status`. Bursts are coalesced per pod
 * (the last status wins) and a status equal to the last one written for that pod uid is skipped.
 */
import { findResource } from '../shared/api/resources.js';
import { ApiError } from '../shared/api/status.js';
import { deepEqual, rfc3339Now } from '../shared/api/objects.js';
import type { ApiClient } from '../shared/controllers/client.js';
import type { V1Pod, V1PodStatus } from './runtime/pod-types.js';

const PODS = findResource('', 'v1', 'pods')!;

type Resources = Record<string, unknown> | undefined;

/** qosClass computes the pod's QoS class as Kubernetes does (pkg/apis/core/helper/qos). */
export function qosClass(pod: Readonly<V1Pod>): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = (c.resources?.requests ?? {}) as Resources ?? {};
    const limits = (c.resources?.limits ?? {}) as Resources ?? {};
    for (const r of ['cpu', 'memory']) {
      const req = requests[r] ?? limits[r]; // a limit alone defaults the request
      if (req !== undefined || limits[r] !== undefined) any = true;
      if (limits[r] === undefined || String(req) !== String(limits[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

type Condition = { type: string; status: string; lastTransitionTime?: string | Date; [k: string]: unknown };

/** withPodScheduled adds PodScheduled=True unless the runtime reported it; it keeps an existing transition time. */
function withPodScheduled(conditions: Condition[], previous: readonly Condition[], now: Date): Condition[] {
  if (conditions.some((c) => c.type === 'PodScheduled')) return conditions;
  const before = previous.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  return [...conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: before?.lastTransitionTime ?? rfc3339Now(now) }];
}

/**
 * completeStatus merges a runtime status with the node's knowledge. `previous` is the status last
 * written for this pod (for the transition time and startTime to keep; default: the pod's own).
 */
export function completeStatus(pod: Readonly<V1Pod>, status: Readonly<V1PodStatus>, hostIP: string, now: Date, previous?: Readonly<V1PodStatus>): V1PodStatus {
  const current = previous ?? pod.status ?? {};
  const out: V1PodStatus = { ...structuredClone(status) };
  out.hostIP ??= hostIP;
  out.hostIPs ??= [{ ip: out.hostIP }];
  if (out.podIP && !out.podIPs) out.podIPs = [{ ip: out.podIP }];
  out.startTime ??= current.startTime ?? rfc3339Now(now);
  out.qosClass ??= qosClass(pod);
  out.conditions = withPodScheduled((out.conditions ?? []) as Condition[], (current.conditions ?? []) as Condition[], now) as V1PodStatus['conditions'];
  return out;
}

/** keyOf names a pod `namespace/name`. */
export function podKeyOf(pod: Readonly<V1Pod>): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

interface Pending {
  pod: Readonly<V1Pod>;
  status: V1PodStatus;
  /** Epoch ms before which this status is not written (a retry's back-off). */
  notBefore: number;
  /** Failed writes of this status so far. */
  failures: number;
}

/** STATUS_RETRY_MAX_MS caps the back-off between retries of a failed status write. */
const STATUS_RETRY_MAX_MS = 10_000;

/**
 * StatusReporter writes pod statuses. `report` may be called at any rate: per pod, the newest
 * status is written after at most `delayMs`, and writes of one pod never overlap. A write that
 * fails for a reason other than the pod being gone or replaced (404, 409) is retried with back-off
 * (from `delayMs` doubling, at most 10 s) until it succeeds or a newer status replaces it: the
 * runtime reports a status once, when it changes, so a dropped write would leave the pod's
 * status stale until the next change.
 */
export class StatusReporter {
  private readonly pending = new Map<string, Pending>();
  private readonly written = new Map<string, { uid: string; status: V1PodStatus }>();
  private readonly inFlight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(
    private readonly client: ApiClient,
    private readonly hostIP: string,
    private readonly log: (message: string) => void,
    private readonly delayMs = 50,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** report queues `status` for `pod` (coalescing with anything not yet written). */
  report(pod: Readonly<V1Pod>, status: V1PodStatus): void {
    if (this.closed) return;
    this.pending.set(podKeyOf(pod), { pod, status, notBefore: 0, failures: 0 });
    this.schedule(Date.now() + this.delayMs);
  }

  /** forget drops what is known of a pod (it is gone). */
  forget(key: string): void {
    this.pending.delete(key);
    this.written.delete(key);
  }

  /** flush writes every pending status that is due now (those of pods being written wait for the next flush). */
  async flush(): Promise<void> {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    const batch = [...this.pending].filter(([key, p]) => !this.inFlight.has(key) && p.notBefore <= now);
    for (const [key] of batch) this.pending.delete(key);
    await Promise.all(batch.map(([key, p]) => this.write(key, p)));
    if (this.closed || this.pending.size === 0) return;
    const due = Math.min(...[...this.pending.values()].map((p) => p.notBefore));
    this.schedule(Math.max(due, Date.now() + this.delayMs));
  }

  /** schedule arranges a flush at `at` (epoch ms) unless one is due sooner. */
  private schedule(at: number): void {
    if (this.closed || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => void this.flush(), Math.max(0, at - Date.now()));
  }

  private async write(key: string, pending: Pending): Promise<void> {
    const { pod, status } = pending;
    const uid = pod.metadata?.uid ?? '';
    const last = this.written.get(key);
    const full = completeStatus(pod, status, this.hostIP, this.now(), last?.uid === uid ? last.status : undefined);
    if (last && last.uid === uid && deepEqual(last.status, full)) return;
    this.inFlight.add(key);
    try {
      const ref = { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' };
      // The uid in the patch makes a pod recreated under the same name refuse this status (409).
      await this.client.patch(PODS, ref, { metadata: { uid }, status: full }, 'merge', { subresource: 'status' });
      this.written.set(key, { uid, status: full });
    } catch (err) {
      // Gone or replaced: nothing to report. Anything else: retried, unless a newer status came meanwhile.
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      const failures = pending.failures + 1;
      if (failures === 1 || failures % 10 === 0) this.log(`status of ${key} (attempt ${failures}, retried): ${(err as Error).message}`);
      if (!this.pending.has(key) && !this.closed) {
        const notBefore = Date.now() + Math.min(STATUS_RETRY_MAX_MS, this.delayMs * 2 ** failures);
        this.pending.set(key, { ...pending, failures, notBefore });
      }
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** close stops writing; pending statuses are dropped. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
