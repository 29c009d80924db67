/**
 * EventRecorder: how controllers write core/v1 Events, shaped like client-go's EventRecorder and
 * its EventCorrelator (k8s.io/client-go/tools/record). An event identical to one this recorder
 * already wrote (same source, involved object, type, reason and message) is not created again:
 * the existing Event's `count` goes up and its `lastTimestamp` moves, as `kubectl describe`
 * shows ("3x over 2m"). Recording never throws: events are best effort, as in Kubernetes; a
 * failure goes to `onError`.
 *
 * Usage:
 * ```ts
 * const recorder = new EventRecorder(ctx.client, { component: 'replicaset-controller', now: ctx.now });
 * await recorder.normal(rs, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
 * await recorder.warning(pod, 'FailedScheduling', message);
 * ```
 */
import { findResourceByKind } from '../api/resources.js';
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../api/objects.js';
import { ApiError } from '../api/status.js';
import type { ApiClient } from './client.js';

/** EventType is an Event's `type`. */
export type EventType = 'Normal' | 'Warning';

/** ObjectReference is an Event's `involvedObject` (core/v1 ObjectReference). */
export interface ObjectReference {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** EventRecorderOptions say who records and how. */
export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent`, e.g. `default-scheduler`, `replicaset-controller`. */
  component: string;
  /** `source.host` (a node name, for node-local components). */
  host?: string;
  /** `reportingInstance` (defaults to `component`). */
  reportingInstance?: string;
  /** The clock for timestamps (default: the wall clock). */
  now?: () => Date;
  /** How many distinct events to remember for aggregation (default 4096; least recently used go first). */
  cacheSize?: number;
  /** Told about a failed write (the event is dropped). */
  onError?: (err: unknown, event: KubeObject) => void;
}

/** SeenEvent is what the recorder remembers of an Event it wrote. */
interface SeenEvent {
  namespace: string;
  name: string;
  count: number;
}

const EVENTS = findResourceByKind('v1', 'Event')!;

/** objectReference builds the `involvedObject` of `obj` (a full object, or already a reference). */
export function objectReference(obj: Readonly<KubeObject> | ObjectReference): ObjectReference {
  if (!isRecord((obj as KubeObject).metadata)) return obj as ObjectReference;
  const o = obj as KubeObject;
  const meta = readMetadata(o);
  return {
    apiVersion: typeof o.apiVersion === 'string' ? o.apiVersion : undefined,
    kind: String(o.kind ?? ''),
    namespace: meta.namespace,
    name: String(meta.name ?? ''),
    uid: meta.uid,
    resourceVersion: meta.resourceVersion,
  };
}

/**
 * EventRecorder writes Events for one component. Safe to share across concurrent reconciles:
 * writes of the same aggregation key are serialized, so concurrent identical events count up
 * instead of creating twins. Aggregation memory is per process (as client-go's).
 */
export class EventRecorder {
  private readonly seen = new Map<string, SeenEvent>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private sequence = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly options: EventRecorderOptions,
  ) {}

  /** normal records a Normal event about `obj`. */
  normal(obj: Readonly<KubeObject> | ObjectReference, reason: string, message: string): Promise<KubeObject | undefined> {
    return this.record(obj, 'Normal', reason, message);
  }

  /** warning records a Warning event about `obj`. */
  warning(obj: Readonly<KubeObject> | ObjectReference, reason: string, message: string): Promise<KubeObject | undefined> {
    return this.record(obj, 'Warning', reason, message);
  }

  /**
   * record writes an event about `obj` (created, or an earlier identical one counted up) and
   * resolves to the Event as stored, or undefined when the write failed (never rejects).
   * Events of a cluster-scoped object go to the `default` namespace, as client-go's.
   */
  record(obj: Readonly<KubeObject> | ObjectReference, type: EventType, reason: string, message: string): Promise<KubeObject | undefined> {
    const ref = objectReference(obj);
    const key = this.aggregationKey(ref, type, reason, message);
    const previous = this.inflight.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.write(key, ref, type, reason, message));
    this.inflight.set(key, next);
    void next.finally(() => { if (this.inflight.get(key) === next) this.inflight.delete(key); });
    return next;
  }

  private aggregationKey(ref: ObjectReference, type: EventType, reason: string, message: string): string {
    const o = this.options;
    return JSON.stringify([o.component, o.host ?? '', ref.kind, ref.namespace ?? '', ref.name, ref.uid ?? '', ref.apiVersion ?? '', type, reason, message]);
  }

  private async write(key: string, ref: ObjectReference, type: EventType, reason: string, message: string): Promise<KubeObject | undefined> {
    const now = rfc3339Now(this.options.now?.() ?? new Date());
    const seen = this.seen.get(key);
    if (seen) {
      try {
        const patched = await this.client.patch(EVENTS, seen, { count: seen.count + 1, lastTimestamp: now }, 'merge');
        this.remember(key, { ...seen, count: Number(patched.count ?? seen.count + 1) });
        return patched;
      } catch (err) {
        // The Event expired or was deleted: start a new one. Anything else is dropped.
        this.seen.delete(key);
        if (!(err instanceof ApiError && err.code === 404)) return this.fail(err, { ...seen });
      }
    }
    const event = this.newEvent(ref, type, reason, message, now);
    try {
      const created = await this.client.create(EVENTS, event);
      const meta = readMetadata(created);
      this.remember(key, { namespace: String(meta.namespace), name: String(meta.name), count: Number(created.count ?? 1) });
      return created;
    } catch (err) {
      return this.fail(err, event);
    }
  }

  private newEvent(ref: ObjectReference, type: EventType, reason: string, message: string, now: string): KubeObject {
    const namespace = ref.namespace || 'default';
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${ref.name}.${this.uniqueSuffix()}`, namespace },
      involvedObject: Object.fromEntries(Object.entries(ref).filter(([, v]) => v !== undefined)),
      reason,
      message,
      source: { component: this.options.component, ...(this.options.host ? { host: this.options.host } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: this.options.component,
      reportingInstance: this.options.reportingInstance ?? this.options.host ?? this.options.component,
    };
  }

  /** uniqueSuffix is client-go's `%x` of UnixNano, made unique within this process by a sequence in the sub-millisecond digits. */
  private uniqueSuffix(): string {
    const ms = BigInt((this.options.now?.() ?? new Date()).getTime());
    this.sequence = (this.sequence + 1) % 1_000_000;
    return (ms * 1_000_000n + BigInt(this.sequence)).toString(16);
  }

  private remember(key: string, seen: SeenEvent): void {
    this.seen.delete(key);
    this.seen.set(key, seen);
    const max = this.options.cacheSize ?? 4096;
    while (this.seen.size > max) this.seen.delete(this.seen.keys().next().value!);
  }

  private fail(err: unknown, event: KubeObject): undefined {
    this.options.onError?.(err, event);
    return undefined;
  }
}

const recordersByClient = new WeakMap<ApiClient, Map<string, EventRecorder>>();

/**
 * recorderFor returns the EventRecorder of `component` on `ctx`'s client, made on first use and
 * kept as long as the client (so aggregation spans reconciles, as one client-go recorder does).
 */
export function recorderFor(ctx: { client: ApiClient; now?: () => Date }, component: string): EventRecorder {
  let byComponent = recordersByClient.get(ctx.client);
  if (!byComponent) recordersByClient.set(ctx.client, (byComponent = new Map()));
  let recorder = byComponent.get(component);
  if (!recorder) byComponent.set(component, (recorder = new EventRecorder(ctx.client, { component, now: ctx.now })));
  return recorder;
}
