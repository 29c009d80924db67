/**
 * Event expiry: kube-apiserver stores Events with an etcd lease of `--event-ttl` (1 h), so an
 * Event disappears an hour after its last write. Stores here have no per-key TTL, so a sweep does
 * it: page through the Events (all namespaces), delete those whose last write — `lastTimestamp`,
 * else `series.lastObservedTime`, `eventTime`, `metadata.creationTimestamp` — is older than the
 * TTL. Pages are bounded, their deletes run in parallel, and the sweep yields to the event loop
 * between pages and stops after `maxDeletes`, so a backlog of 50,000 Events (issue 15: a scale
 * burst) is cleared over a few sweeps without ever blocking requests for long.
 */
import { findResourceByKind } from '../api/resources.js';
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import { ApiError } from '../api/status.js';
import type { ApiClient } from './client.js';
import { ignoreNotFound } from './update.js';
import type { Change } from './change.js';
import type { OrchestratedController } from './controller.js';

const EVENTS = findResourceByKind('v1', 'Event')!;

/** EVENT_TTL_MS is Kubernetes' default --event-ttl (1 hour). */
export const EVENT_TTL_MS = 60 * 60_000;

/** EventSweepOptions tune one sweep. */
export interface EventSweepOptions {
  now: Date;
  /** Events last written longer ago than this are deleted (default EVENT_TTL_MS). */
  ttlMs?: number;
  /** Events per page read (default 500). */
  pageSize?: number;
  /** Stop after this many deletes; the next sweep goes on (default 10,000). */
  maxDeletes?: number;
}

/** EventSweepReport says what one sweep did. */
export interface EventSweepReport {
  scanned: number;
  deleted: number;
  /** True when the sweep stopped at maxDeletes with pages left. */
  truncated: boolean;
  /** When the first Event left alive expires (ms since the epoch); undefined when none is left (or truncated). */
  nextExpiryAt?: number;
}

/** lastWriteMs is when an Event was last written, as far as its fields tell; undefined when none does. */
export function lastWriteMs(event: Readonly<KubeObject>): number | undefined {
  const series = isRecord(event.series) ? event.series.lastObservedTime : undefined;
  for (const t of [event.lastTimestamp, series, event.eventTime, readMetadata(event).creationTimestamp]) {
    const ms = typeof t === 'string' ? Date.parse(t) : NaN;
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

/** isExpired tells whether `event` was last written more than `ttlMs` before `nowMs`. */
export function isExpired(event: Readonly<KubeObject>, nowMs: number, ttlMs = EVENT_TTL_MS): boolean {
  const at = lastWriteMs(event);
  return at !== undefined && nowMs - at > ttlMs;
}

/** sweepExpiredEvents runs one sweep through `client` (see the file comment). */
export async function sweepExpiredEvents(client: ApiClient, options: EventSweepOptions): Promise<EventSweepReport> {
  const nowMs = options.now.getTime();
  const maxDeletes = options.maxDeletes ?? 10_000;
  const report: EventSweepReport = { scanned: 0, deleted: 0, truncated: false };
  let cont: string | undefined;
  do {
    const page = await client.list(EVENTS, { limit: options.pageSize ?? 500, continue: cont });
    cont = page.metadata.continue || undefined;
    report.scanned += page.items.length;
    const expired = page.items.filter((e) => isExpired(e, nowMs, options.ttlMs)).slice(0, maxDeletes - report.deleted);
    for (const e of page.items) {
      const at = lastWriteMs(e);
      // One millisecond past the TTL: isExpired is strict.
      if (at !== undefined && !isExpired(e, nowMs, options.ttlMs)) report.nextExpiryAt = Math.min(report.nextExpiryAt ?? Infinity, at + (options.ttlMs ?? EVENT_TTL_MS) + 1);
    }
    await Promise.all(expired.map((e) => {
      const meta = readMetadata(e);
      // Exactly this version: an Event written again meanwhile (count up) lives on.
      return ignoreConflict(ignoreNotFound(client.delete(EVENTS, { namespace: meta.namespace, name: String(meta.name) }, { preconditions: { resourceVersion: meta.resourceVersion } })));
    }));
    report.deleted += expired.length;
    if (report.deleted >= maxDeletes && cont) {
      report.truncated = true;
      report.nextExpiryAt = undefined;
      break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  } while (cont);
  return report;
}

async function ignoreConflict<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiError && err.code === 409) return undefined;
    throw err;
  }
}

/** EVENT_TTL_KEY is the Event TTL sweep's only key (a sweep covers every Event). */
export const EVENT_TTL_KEY = 'events';
/** EVENT_TTL_CONTROLLER is the sweep's reconcile orchestration. */
export const EVENT_TTL_CONTROLLER = 'event-ttl';

/**
 * eventTtlKeys wakes the sweep when an Event is created. An Event created now expires after every
 * Event already known, so the sweep's own timer (at the first expiry) covers it whenever one is
 * set; the reconcile skips the scan then (EventTtlMemo).
 */
export function eventTtlKeys(change: Change): string[] {
  return change.value.kind === 'Event' && change.type === 'put' && !change.prevValue ? [EVENT_TTL_KEY] : [];
}

/**
 * EventTtlMemo remembers, per process, when the next sweep is due, so that the Event creations
 * that wake the sweep between deadlines cost no scan: `due(now)` is undefined when a scan is
 * needed, else the milliseconds to wait.
 */
export class EventTtlMemo {
  private nextAt: number | undefined;

  /** due returns the wait until the known deadline, or undefined when a sweep should run now. */
  due(now: Date): number | undefined {
    return this.nextAt !== undefined && now.getTime() < this.nextAt ? this.nextAt - now.getTime() : undefined;
  }

  /** record keeps a sweep's outcome: the next expiry, or (truncated) nothing, so the next wake sweeps again. */
  record(report: EventSweepReport): void {
    this.nextAt = report.truncated ? undefined : report.nextExpiryAt;
  }
}

/** eventTtlOrchestration is the sweep's descriptor for the change feed (registry.ts). */
export const eventTtlOrchestration: OrchestratedController = {
  name: EVENT_TTL_CONTROLLER,
  kinds: ['Event'],
  keysFor: eventTtlKeys,
  orchestration: EVENT_TTL_CONTROLLER,
  resync: async () => [EVENT_TTL_KEY],
};
