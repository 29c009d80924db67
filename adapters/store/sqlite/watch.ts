/**
 * Watch for the SQLite store, built like kine's: the log is polled for `id > last`.
 *
 * One WatchHub per store reads new rows ONCE, decodes each ONCE, and fans the events out to every
 * watcher in memory (the values are shared between watchers: read-only). It reads
 * right after each local commit (low latency) and on a timer (another process may write the same
 * file). A new watcher first catches up from the database up to the hub's head, then takes the
 * hub's live rows; the two meet exactly at that head, so nothing is missed or repeated.
 */
import { StoreError, type WatchEvent, type WatchOptions } from '../../../shared/store/store.js';
import { prefixRange, toWatchEvent, type EventRow, type SqliteQueries } from './queries.js';

const ALL_KEYS = prefixRange('');
const PAGE = 1_000;
/** How many recently decoded events the hub keeps for watchers catching up over the same rows. */
const RECENT_EVENTS = 4_096;
const DEFAULT_PROGRESS_MS = 10_000;

interface Subscriber {
  prefix: string;
  /** Events after the catch-up point, not yet yielded; shared with the other subscribers. */
  queue: WatchEvent[];
  failure?: StoreError;
  wake: () => void;
}

/** WatchHub tails the store's log and feeds the watchers of one store. */
export class WatchHub {
  /** Every row up to `head` has been handed to the subscribers (or there were none). */
  private head: number;
  private readonly subscribers = new Set<Subscriber>();
  private poller: NodeJS.Timeout | undefined;
  /** Recently decoded events by revision: a hundred watchers that start together catch up on the same rows once. */
  private readonly recent = new Map<number, WatchEvent>();

  constructor(
    private readonly queries: SqliteQueries,
    private readonly pollIntervalMs: number,
    /** The newest revision that may be delivered (this process's commits count once durable). */
    private readonly deliverable: () => number = () => Number.MAX_SAFE_INTEGER,
  ) {
    this.head = queries.currentRevision();
  }

  /**
   * tail hands every row after the head to the subscribers; call after each commit. It never
   * throws: if the file cannot be read, the watches end with Unavailable (clients watch again).
   */
  tail(): void {
    try {
      this.tailOrThrow();
    } catch (err) {
      this.failAll(new StoreError('Unavailable', `SQLite watch read failed: ${(err as Error).message}`));
    }
  }

  private tailOrThrow(): void {
    if (this.subscribers.size === 0) {
      this.head = Math.min(this.queries.currentRevision(), this.deliverable());
      return;
    }
    for (;;) {
      const rows = this.readAfterHead();
      if (rows === undefined || rows.length === 0) return;
      this.head = rows[rows.length - 1].id;
      // Decoded on first use, once for every subscriber (a hundred watchers used to parse each row a hundred times).
      const events: (WatchEvent | undefined)[] = new Array(rows.length);
      for (const sub of this.subscribers) {
        rows.forEach((row, i) => {
          if (row.name.startsWith(sub.prefix)) sub.queue.push((events[i] ??= this.decoded(row)));
        });
        sub.wake();
      }
      if (rows.length < PAGE) return;
    }
  }

  /** Reads the next page after the head; if another process compacted past it, fails everyone. */
  private readAfterHead(): EventRow[] | undefined {
    return this.queries.db.transaction(() => {
      const compacted = this.queries.compactedRevision();
      if (compacted > this.head) {
        this.failAll(new StoreError('Gone', `history up to ${compacted} was compacted under a watch`));
        this.head = this.queries.currentRevision();
        return undefined;
      }
      return this.queries.events(ALL_KEYS, this.head, this.deliverable(), PAGE);
    })();
  }

  /** failAll ends every watch with `err` (on close: Unavailable). */
  failAll(err: StoreError): void {
    for (const sub of this.subscribers) {
      sub.failure = err;
      sub.wake();
    }
    this.subscribers.clear();
    this.stopPolling();
  }

  /**
   * watch implements Store.watch; see the Store port for the contract. Revision 0 means "now" and is
   * fixed when watch is called (not when iteration starts), so a write in between is not missed.
   */
  watch(prefix: string, fromRevision: number, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
    this.tail();
    return this.stream(prefix, fromRevision === 0 ? this.head : fromRevision, options);
  }

  private async *stream(prefix: string, start: number, options: WatchOptions): AsyncGenerator<WatchEvent> {
    const { signal } = options;
    const progressMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_MS;
    this.queries.checkNotCompacted(start);
    let wake: () => void = () => {};
    const sub: Subscriber = { prefix, queue: [], wake: () => wake() };
    const caughtUpTo = this.subscribe(sub);
    const onAbort = () => sub.wake();
    signal?.addEventListener('abort', onAbort);
    try {
      for (const row of this.catchUp(prefix, start, caughtUpTo)) {
        if (signal?.aborted) return;
        yield this.decoded(row);
      }
      // Progress is due `progressMs` after the last thing sent, however often other keys' writes wake us.
      let lastSent = Date.now();
      for (;;) {
        while (sub.queue.length > 0 && !signal?.aborted) {
          const batch = sub.queue;
          sub.queue = [];
          for (const ev of batch) {
            if (signal?.aborted) return;
            if (ev.type !== 'progress' && ev.kv.modRevision > start) {
              yield ev; // `start` may lie past the head
              lastSent = Date.now();
            }
          }
        }
        if (signal?.aborted) return;
        if (sub.failure) throw sub.failure;
        const dueIn = lastSent + progressMs - Date.now();
        if (progressMs > 0 && dueIn <= 0) {
          // The queue is drained: every row up to the head under the prefix has been sent.
          yield { type: 'progress', revision: this.head };
          lastSent = Date.now();
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = progressMs > 0 ? setTimeout(resolve, dueIn) : undefined;
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => {};
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.unsubscribe(sub);
    }
  }

  /** decoded is the row's event, decoded once while it is recent (shared: read-only). */
  private decoded(row: EventRow): WatchEvent {
    let ev = this.recent.get(row.id);
    if (!ev) {
      ev = toWatchEvent(row);
      this.recent.set(row.id, ev);
      if (this.recent.size > RECENT_EVENTS) this.recent.delete(this.recent.keys().next().value!);
    }
    return ev;
  }

  private subscribe(sub: Subscriber): number {
    this.subscribers.add(sub);
    if (!this.poller && this.pollIntervalMs > 0) {
      this.poller = setInterval(() => this.tail(), this.pollIntervalMs);
      this.poller.unref();
    }
    return this.head;
  }

  private unsubscribe(sub: Subscriber): void {
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0) this.stopPolling();
  }

  private stopPolling(): void {
    clearInterval(this.poller);
    this.poller = undefined;
  }

  /** catchUp reads the rows under `prefix` in (from, upTo] page by page, failing Gone if compacted meanwhile. */
  private *catchUp(prefix: string, from: number, upTo: number): Generator<EventRow> {
    const range = prefixRange(prefix);
    let after = from;
    while (after < upTo) {
      if (!this.queries.db.open) throw new StoreError('Unavailable', 'the store is closed');
      const rows = this.queries.db.transaction(() => {
        this.queries.checkNotCompacted(after);
        return this.queries.events(range, after, upTo, PAGE);
      })();
      yield* rows;
      after = rows.length < PAGE ? upTo : rows[rows.length - 1].id;
    }
  }
}
