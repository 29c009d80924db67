/**
 * One watch: it reads the log itself from its start revision up to where the store's shared
 * LogTailer (tailer.ts) was when the watch subscribed, then takes the tailer's items, keeping
 * those under its prefix. Revisions missing from that settled history were never written or were
 * compacted: the compacted revision tells which (Gone).
 */
import { StoreError, type WatchEvent, type WatchOptions } from '../../../shared/store/store.js';
import { logToKeyValue, replacedVersion, type LogItem } from './items.js';
import type { LogTailer, TailSubscriber } from './tailer.js';

/** WatchSource is what a watch needs from the store. */
export interface WatchSource {
  tailer: LogTailer;
  logAfter(revision: number, max: number): Promise<LogItem[]>;
  compactedRevision(): Promise<number>;
  /** Aborted when the store closes. */
  closed: AbortSignal;
}

/** WatchStart is where a watch begins: a revision (resolved when watch was called), and whether to check it against compaction. */
export interface WatchStart {
  start: Promise<number>;
  checkCompaction: boolean;
}

const PAGE = 500;
const DEFAULT_PROGRESS_MS = 10_000;

/** logEvent is the watch event of one (non-abandoned) log item. */
export function logEvent(item: LogItem): WatchEvent {
  const kv = logToKeyValue(item);
  const prev = replacedVersion(item);
  if (item.deleted) return { type: 'delete', kv, prev: prev ?? kv };
  return prev ? { type: 'put', kv, prev } : { type: 'put', kv };
}

/** LiveQueue buffers the tailer's items for one watch and wakes it. */
class LiveQueue implements TailSubscriber {
  readonly items: LogItem[] = [];
  failure?: unknown;
  private wake?: () => void;

  deliver(items: LogItem[]): void {
    this.items.push(...items);
    this.wake?.();
  }

  fail(err: unknown): void {
    this.failure = err ?? new StoreError('Unavailable', 'watch stopped');
    this.wake?.();
  }

  /** wait resolves on the next delivery, failure, `interrupt()`, or after `ms` (undefined: no timeout). */
  wait(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.interrupt(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  interrupt(): void {
    this.wake?.();
  }
}

async function assertNotCompacted(source: WatchSource, position: number): Promise<void> {
  const compacted = await source.compactedRevision();
  if (position < compacted) throw new StoreError('Gone', `revision ${position} is compacted (compacted revision ${compacted})`);
}

/** watchLog yields the changes under `prefix` after the start revision (see the Store contract). */
export async function* watchLog(source: WatchSource, prefix: string, from: WatchStart, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  const signals = [source.closed, ...(options.signal ? [options.signal] : [])];
  const stopped = () => signals.some((s) => s.aborted);
  let position = await from.start;
  if (from.checkCompaction) await assertNotCompacted(source, position);
  const live = new LiveQueue();
  const interrupt = () => live.interrupt();
  for (const s of signals) s.addEventListener('abort', interrupt);
  try {
    const settled = await source.tailer.subscribe(live);
    // Catch up from the log: (position, settled] is complete, so a missing revision is never coming.
    while (position < settled && !stopped()) {
      const items = (await source.logAfter(position, PAGE)).filter((item) => item.revision <= settled);
      if (items.length === 0 || items[0].revision > position + 1) await assertNotCompacted(source, position);
      if (items.length === 0) position = settled;
      for (const item of items) {
        if (item.revision > position + 1) await assertNotCompacted(source, position);
        position = item.revision;
        if (!item.abandoned && item.key.startsWith(prefix)) yield logEvent(item);
        if (stopped()) return;
      }
    }
    const progressMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_MS;
    let lastSent = Date.now();
    while (!stopped()) {
      const item = live.items.shift();
      if (item) {
        if (item.revision <= position) continue;
        position = item.revision;
        if (item.abandoned || !item.key.startsWith(prefix)) continue;
        yield logEvent(item);
        lastSent = Date.now();
        continue;
      }
      if (live.failure) {
        if (stopped()) return;
        throw live.failure;
      }
      const dueIn = lastSent + progressMs - Date.now();
      if (progressMs > 0 && dueIn <= 0) {
        // The queue is drained: everything up to the tailer's position has been seen.
        yield { type: 'progress', revision: Math.max(position, source.tailer.position ?? position) };
        lastSent = Date.now();
        continue;
      }
      await live.wait(progressMs > 0 ? dueIn : undefined);
    }
  } finally {
    source.tailer.unsubscribe(live);
    for (const s of signals) s.removeEventListener('abort', interrupt);
  }
}
