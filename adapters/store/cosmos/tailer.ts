/**
 * LogTailer: ONE poll loop per store instance follows the log and hands every revision, in
 * order, to all its watchers (kine's shape), so 100 watchers cost what one does.
 *
 * Each poll reads the counter (one round trip when idle) and, when it moved, reads the log
 * items above its position (point reads for a few, a query for many: see the store's logAfter).
 * A gap (revision r+1 missing while a later one exists, or the counter ahead of the last log
 * item) is a write still in flight or one that will never land (a writer that died between the counter and its repair on a non-atomic
 * backend): like kine, the tailer waits `gapWaitMs` for it, then skips it. Items are handed out
 * unfiltered (abandoned markers included); watchers filter. A skipped revision below the
 * compacted revision ends every watch with Gone.
 */
import { StoreError } from '../../../shared/store/store.js';
import type { LogItem } from './items.js';

/** TailSource is what the tailer reads. */
export interface TailSource {
  counterRevision(): Promise<number>;
  /** The log items above `revision`, in order, at most `max`; `newest` is the counter just read. */
  logAfter(revision: number, max: number, newest: number): Promise<LogItem[]>;
  compactedRevision(): Promise<number>;
  /** Aborted when the store closes. */
  closed: AbortSignal;
  pollIntervalMs: number;
  gapWaitMs: number;
}

/** TailSubscriber receives the tailer's items, or the error that stopped it. */
export interface TailSubscriber {
  deliver(items: LogItem[]): void;
  fail(err: unknown): void;
}

const PAGE = 500;

/** LogTailer polls the log while it has subscribers (see the file header). */
export class LogTailer {
  /** The revision up to which every item has been handed out; undefined while (re)starting. */
  position?: number;
  private readonly subscribers = new Set<TailSubscriber>();
  private running = false;
  private started?: Promise<number>;

  constructor(private readonly source: TailSource) {}

  /**
   * subscribe registers `subscriber` for every item after the tailer's position, and resolves
   * to that position: the subscriber must read anything it needs up to it from the log itself.
   */
  subscribe(subscriber: TailSubscriber): Promise<number> {
    this.subscribers.add(subscriber);
    if (!this.running) {
      this.running = true;
      this.started = this.source.counterRevision().then((revision) => (this.position = revision));
      this.started.then(() => this.loop()).catch((err) => this.stop(err));
    }
    // Registered now, so every item after the position as of now reaches the subscriber.
    return this.position !== undefined ? Promise.resolve(this.position) : this.started!;
  }

  unsubscribe(subscriber: TailSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  private stop(err: unknown): void {
    this.running = false;
    this.position = undefined;
    for (const s of this.subscribers) s.fail(err);
    this.subscribers.clear();
  }

  private async loop(): Promise<void> {
    let gapSince: number | undefined;
    while (this.subscribers.size > 0 && !this.source.closed.aborted) {
      const position = this.position!;
      const newest = await this.source.counterRevision();
      const items = newest > position ? await this.source.logAfter(position, PAGE, newest) : [];
      const accepted: LogItem[] = [];
      let next = position;
      let waiting = false;
      for (const item of items) {
        if (item.revision <= next) continue;
        if (item.revision > next + 1 && Date.now() - (gapSince ??= Date.now()) < this.source.gapWaitMs) {
          waiting = true;
          break;
        }
        gapSince = undefined;
        accepted.push(item);
        next = item.revision;
      }
      if (!waiting && next < newest && items.length < PAGE) {
        // The counter is ahead of every visible log item: the missing tail is a gap too.
        if (Date.now() - (gapSince ??= Date.now()) >= this.source.gapWaitMs) {
          gapSince = undefined;
          next = newest;
        }
      }
      // Skipping is safe only for revisions that never landed: missing ones compacted away
      // before the tailer read them would be lost, so that ends every watch with Gone.
      const skipped = (accepted[0]?.revision ?? next + 1) > position + 1 || accepted.some((item, i) => i > 0 && item.revision > accepted[i - 1].revision + 1);
      if (skipped && (await this.source.compactedRevision()) > position) {
        throw new StoreError('Gone', `the log was compacted past ${position} before the watch read it`);
      }
      this.position = next;
      if (accepted.length > 0) for (const s of this.subscribers) s.deliver(accepted);
      if (items.length < PAGE || waiting) await this.sleep();
    }
    this.running = false;
    this.position = undefined;
  }

  private sleep(): Promise<void> {
    const closed = this.source.closed;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        closed.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.source.pollIntervalMs);
      closed.addEventListener('abort', done, { once: true });
    });
  }
}
