/**
 * The store's compactor: keeps about `retentionMs` of history, the way kube-apiserver does.
 *
 * kube-apiserver's compactor (k8s.io/apiserver/pkg/storage/etcd3/compact.go) wakes every interval
 * and compacts to the revision it saw one interval earlier, so watchers that fall behind by less
 * than that still resume. Here the samples are kept explicitly: each tick remembers (time,
 * current revision) and compacts to the newest revision seen at least `retentionMs` ago.
 */
import type { Store } from './store.js';

/** CompactorClock is the time source and timer; tests pass a fake one. */
export interface CompactorClock {
  now(): number;
  setInterval(tick: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** CompactorOptions tune startCompactor. */
export interface CompactorOptions {
  /** History younger than this is kept (default 5 minutes, like kube-apiserver). */
  retentionMs?: number;
  /** How often to sample and compact (default: a fifth of retentionMs). */
  intervalMs?: number;
  /** Told about a failed compaction; the compactor keeps going (default: ignore). */
  onError?: (err: unknown) => void;
  clock?: CompactorClock;
}

/** CompactionSample is the revision the store had at a time. */
export interface CompactionSample {
  at: number;
  revision: number;
}

const systemClock: CompactorClock = {
  now: () => Date.now(),
  setInterval: (tick, ms) => {
    const handle = setInterval(tick, ms);
    handle.unref?.();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * startCompactor samples `store` every interval and compacts it to the revision it had
 * `retentionMs` ago (never beyond, never backwards). Returns stop; a tick in progress finishes.
 */
export function startCompactor(
  store: Pick<Store, 'currentRevision' | 'compact'>,
  options: CompactorOptions = {},
): () => void {
  const retentionMs = options.retentionMs ?? 5 * 60_000;
  const intervalMs = options.intervalMs ?? Math.max(1, Math.floor(retentionMs / 5));
  const clock = options.clock ?? systemClock;
  const samples: CompactionSample[] = [];
  let compactedTo = 0;
  let busy = false;

  const tick = async () => {
    if (busy) return; // a slow compaction must not overlap the next one
    busy = true;
    try {
      const now = clock.now();
      samples.push({ at: now, revision: await store.currentRevision() });
      const target = takeCompactionTarget(samples, now - retentionMs);
      if (target !== undefined && target > compactedTo) {
        await store.compact(target);
        compactedTo = target;
      }
    } catch (err) {
      options.onError?.(err);
    } finally {
      busy = false;
    }
  };

  const handle = clock.setInterval(() => void tick(), intervalMs);
  return () => clock.clearInterval(handle);
}

/**
 * takeCompactionTarget returns the revision of the newest sample taken at or before `cutoff`, and
 * drops the samples older than it (they can never be a target again). Samples are in time order.
 */
export function takeCompactionTarget(samples: CompactionSample[], cutoff: number): number | undefined {
  let newestOld = -1;
  while (newestOld + 1 < samples.length && samples[newestOld + 1].at <= cutoff) newestOld++;
  if (newestOld < 0) return undefined;
  samples.splice(0, newestOld);
  return samples[0].revision;
}
