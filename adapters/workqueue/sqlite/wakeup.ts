/**
 * In-process wake-ups for long-polling receives: a send or abandon on a queue wakes every
 * receive waiting on that queue in this process, through any connection to the same file.
 * Other processes writing the file are noticed by the receivers' slow poll instead.
 */

type Wake = () => void;

/** WakeupBoard holds the waiting receivers of one queue file, by queue name. */
export class WakeupBoard {
  private readonly waiting = new Map<string, Set<Wake>>();

  /** notify wakes every receiver waiting on `queue`. */
  notify(queue: string): void {
    for (const wake of this.waiting.get(queue) ?? []) wake();
  }

  /** wait resolves on a notify of `queue`, after `ms`, or when any signal aborts, whichever is first. */
  wait(queue: string, ms: number, signals: ReadonlyArray<AbortSignal | undefined>): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiting.get(queue) ?? new Set<Wake>();
      this.waiting.set(queue, set);
      const live = signals.filter((s): s is AbortSignal => s !== undefined);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiting.get(queue) === set) this.waiting.delete(queue);
        for (const s of live) s.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      set.add(done);
      for (const s of live) s.addEventListener('abort', done, { once: true });
      if (live.some((s) => s.aborted)) done();
    });
  }
}

const boards = new Map<string, { board: WakeupBoard; users: number }>();

/** acquireBoard returns the board shared by every connection to `key` (a resolved file path) in this process. */
export function acquireBoard(key: string): WakeupBoard {
  const entry = boards.get(key) ?? { board: new WakeupBoard(), users: 0 };
  entry.users += 1;
  boards.set(key, entry);
  return entry.board;
}

/** releaseBoard drops one user of `key`'s board; the last one removes it. */
export function releaseBoard(key: string): void {
  const entry = boards.get(key);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users <= 0) boards.delete(key);
}
