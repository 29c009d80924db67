/**
 * Watch by polling the log: each poll reads the counter (one round trip when idle) and, when it
 * moved, queries `type = 'log' AND revision > last ORDER BY revision`. Events are filtered by
 * key prefix here, not in the query, because every revision must be seen to notice gaps.
 *
 * A gap (revision r+1 missing while a later one exists) is a write still in flight or one that
 * will never land (a writer that died between the counter and its repair on a non-atomic
 * backend). Like kine, the watcher waits `gapWaitMs` for it, then checks compaction (a gap below
 * the compacted revision means history is gone: Gone) and skips it.
 */
import { StoreError, type WatchEvent, type WatchOptions } from '../../../shared/store/store.js';
import { logToKeyValue, replacedVersion, type LogItem } from './items.js';

/** WatchSource is what the watcher needs from the store. */
export interface WatchSource {
  counterRevision(): Promise<number>;
  logAfter(revision: number, max: number): Promise<LogItem[]>;
  compactedRevision(): Promise<number>;
  /** Aborted when the store closes. */
  closed: AbortSignal;
  pollIntervalMs: number;
  gapWaitMs: number;
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

function sleep(ms: number, signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}

/** WatchStart is where a watch begins: a revision (resolved when watch was called), and whether to check it against compaction. */
export interface WatchStart {
  start: Promise<number>;
  checkCompaction: boolean;
}

/** watchLog yields the changes under `prefix` after the start revision (see the Store contract). */
export async function* watchLog(source: WatchSource, prefix: string, from: WatchStart, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  const signals = [source.closed, ...(options.signal ? [options.signal] : [])];
  const stopped = () => signals.some((s) => s.aborted);
  const fromRevision = await from.start;
  if (from.checkCompaction) {
    const compacted = await source.compactedRevision();
    if (fromRevision < compacted) throw new StoreError('Gone', `revision ${fromRevision} is compacted (compacted revision ${compacted})`);
  }
  const progressMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_MS;
  let position = fromRevision;
  let gapSince: number | undefined;
  let lastSent = Date.now();
  while (!stopped()) {
    let newest: number;
    let items: LogItem[];
    try {
      newest = await source.counterRevision();
      items = newest > position ? await source.logAfter(position, PAGE) : [];
    } catch (err) {
      if (stopped()) return; // the store closed or the signal aborted mid-request: just end
      throw err;
    }
    if (stopped()) return;
    for (const item of items) {
      if (item.revision <= position) continue;
      if (item.revision > position + 1) {
        gapSince ??= Date.now();
        if (Date.now() - gapSince < source.gapWaitMs) break;
        if ((await source.compactedRevision()) > position) throw new StoreError('Gone', `watch fell behind compaction at ${position}`);
      }
      gapSince = undefined;
      position = item.revision;
      if (!item.abandoned && item.key.startsWith(prefix)) {
        yield logEvent(item);
        lastSent = Date.now();
        if (stopped()) return;
      }
    }
    if (items.length === 0 && newest > position) {
      // The counter moved but no log item is visible: treat the missing tail as a gap too.
      gapSince ??= Date.now();
      if (Date.now() - gapSince >= source.gapWaitMs) {
        gapSince = undefined;
        position = newest;
      }
    }
    if (progressMs > 0 && Date.now() - lastSent >= progressMs) {
      yield { type: 'progress', revision: position };
      lastSent = Date.now();
    }
    const morePending = items.length === PAGE && gapSince === undefined;
    if (!morePending) await sleep(source.pollIntervalMs, signals);
  }
}
