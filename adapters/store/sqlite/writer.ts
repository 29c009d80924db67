/**
 * Group commit for the SQLite store: writes requested during one event-loop turn share ONE
 * transaction (and so one WAL fsync). Each write is still checked on its own inside it — a write
 * sees the writes queued before it — and is acknowledged only after the transaction committed
 * and, when a WalSync is given, after the WAL holding it was fsynced (off the event loop; see
 * wal-sync.ts).
 */
import { StoreError, type KeyValue, type StoredValue } from '../../../shared/store/store.js';
import { toKeyValue, type Row, type SqliteQueries } from './queries.js';
import type { WalSync } from './wal-sync.js';

/**
 * WriteOp is one requested change. `value` is JSON text (serialized when requested); `object`,
 * when given, is the value it was serialized from: the acknowledgement carries it instead of
 * parsing the text back.
 */
export type WriteOp = (
  | { kind: 'create'; key: string; value: string; object?: StoredValue }
  | { kind: 'update'; key: string; value: string; expected: number; object?: StoredValue }
  | { kind: 'delete'; key: string; expected?: number }
) & { requestId?: string };

interface Pending {
  op: WriteOp;
  resolve: (kv: KeyValue) => void;
  reject: (err: unknown) => void;
}

/** Bounds one transaction so a flood of writers still sees steady acknowledgements. */
const MAX_BATCH = 1_000;

/**
 * GroupCommitter queues writes and commits them in batches; `onCommit` runs once a commit is
 * durable (before its writes are acknowledged).
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly insert;
  /** The first revision of each committed batch still waiting for its WAL sync, oldest first. */
  private readonly unsynced: number[] = [];
  private settledWaiters: Array<() => void> = [];

  constructor(
    private readonly queries: SqliteQueries,
    private readonly onCommit: () => void,
    private readonly walSync?: WalSync,
  ) {
    this.insert = queries.db.prepare(
      `INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value, request_id)
       VALUES (@id, @name, @created, @deleted, @create_revision, @prev_revision, @value, @request_id)`,
    );
  }

  /** submit queues `op`; the promise resolves once it is durable, or rejects with a StoreError. */
  submit(op: WriteOp): Promise<KeyValue> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** flush commits everything queued now (also used by close, so no accepted write is dropped). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.commit(batch);
    }
  }

  /**
   * durableRevision is the newest revision known durable: rows above it were committed by this
   * writer but their WAL sync has not completed (the watch hub delivers nothing past it).
   */
  durableRevision(): number {
    return this.unsynced.length > 0 ? this.unsynced[0]! - 1 : Number.MAX_SAFE_INTEGER;
  }

  /** hasUnsynced tells whether a committed batch still waits for its WAL sync. */
  get hasUnsynced(): boolean {
    return this.unsynced.length > 0;
  }

  /** settled resolves once every batch committed so far is durable (acknowledged or failed). */
  settled(): Promise<void> {
    if (this.unsynced.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private commit(batch: Pending[]): void {
    let outcomes!: (KeyValue | StoreError)[];
    let first = 0;
    let next = 0;
    try {
      this.queries.db.transaction(() => {
        first = next = this.queries.currentRevision() + 1;
        outcomes = batch.map((p) => {
          const outcome = this.apply(p.op, next);
          if (!(outcome instanceof StoreError)) next++;
          return outcome;
        });
      }).immediate();
    } catch (err) {
      const failure = new StoreError('Unavailable', `SQLite write failed: ${(err as Error).message}`);
      for (const p of batch) p.reject(failure);
      return;
    }
    const acknowledge = () => {
      this.onCommit();
      batch.forEach((p, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof StoreError) p.reject(outcome);
        else p.resolve(outcome);
      });
    };
    if (!this.walSync || next === first) {
      acknowledge();
      return;
    }
    this.unsynced.push(first);
    const synced = () => {
      this.unsynced.splice(this.unsynced.indexOf(first), 1);
      if (this.unsynced.length === 0) for (const resolve of this.settledWaiters.splice(0)) resolve();
    };
    this.walSync.afterCommit().then(() => {
      synced();
      acknowledge();
    }, (err: unknown) => {
      synced();
      // Committed but not known durable: the writers get Unavailable (the outcome is unknown to them).
      const failure = new StoreError('Unavailable', `SQLite WAL sync failed: ${(err as Error).message}`);
      for (const p of batch) p.reject(failure);
    });
  }

  /** apply checks and inserts one write as revision `id` inside the batch's transaction. */
  private apply(op: WriteOp, id: number): KeyValue | StoreError {
    try {
      const row = this.check(op, id);
      this.insert.run(row);
      if (op.kind !== 'delete' && op.object) {
        const kv: KeyValue = { key: row.name, value: op.object, modRevision: row.id, createRevision: row.create_revision };
        if (op.requestId) kv.requestId = op.requestId;
        return kv;
      }
      return toKeyValue(row);
    } catch (err) {
      if (err instanceof StoreError) return err;
      // The unique (name, prev_revision) index caught a lost compare-and-swap.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        return new StoreError('Conflict', `${op.key} was changed concurrently`);
      }
      throw err;
    }
  }

  /** check validates `op` against the key's newest row and returns the row to insert as `id`. */
  private check(op: WriteOp, id: number): Row {
    const latest = this.queries.latest(op.key);
    const live = latest && !latest.deleted ? latest : undefined;
    const base = { id, name: op.key, created: 0, deleted: 0, request_id: op.requestId || null };
    if (op.kind === 'create') {
      if (live) throw new StoreError('AlreadyExists', `${op.key} already exists`, toKeyValue(live));
      const prev = latest?.id ?? 0;
      return { ...base, created: 1, create_revision: id, prev_revision: prev, value: op.value };
    }
    if (!live) throw new StoreError('NotFound', `${op.key} not found`);
    if (op.expected !== undefined && op.expected !== live.id) {
      const msg = `${op.key} is at revision ${live.id}, not ${op.expected}`;
      throw new StoreError('Conflict', msg, toKeyValue(live));
    }
    const history = { create_revision: live.create_revision, prev_revision: live.id };
    if (op.kind === 'update') return { ...base, ...history, value: op.value };
    return { ...base, ...history, deleted: 1, value: live.value };
  }
}
