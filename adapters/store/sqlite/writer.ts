/**
 * Group commit for the SQLite store: writes requested during one event-loop turn share ONE
 * transaction (and so one WAL fsync). Each write is still checked on its own inside it — a write
 * sees the writes queued before it — and is acknowledged only after the transaction committed.
 */
import { StoreError, type KeyValue } from '../../../shared/store/store.js';
import { toKeyValue, type Row, type SqliteQueries } from './queries.js';

/** WriteOp is one requested change. `value` is JSON text (serialized when requested). */
export type WriteOp =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expected: number }
  | { kind: 'delete'; key: string; expected?: number };

interface Pending {
  op: WriteOp;
  resolve: (kv: KeyValue) => void;
  reject: (err: unknown) => void;
}

/** Bounds one transaction so a flood of writers still sees steady acknowledgements. */
const MAX_BATCH = 1_000;

/** GroupCommitter queues writes and commits them in batches; `onCommit` runs after each commit. */
export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly insert;

  constructor(
    private readonly queries: SqliteQueries,
    private readonly onCommit: (revision: number) => void,
  ) {
    this.insert = queries.db.prepare(
      `INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value)
       VALUES (@id, @name, @created, @deleted, @create_revision, @prev_revision, @value)`,
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

  private commit(batch: Pending[]): void {
    let outcomes: (KeyValue | StoreError)[];
    try {
      outcomes = this.queries.db.transaction(() => this.applyAll(batch.map((p) => p.op))).immediate();
    } catch (err) {
      const failure = new StoreError('Unavailable', `SQLite write failed: ${(err as Error).message}`);
      for (const p of batch) p.reject(failure);
      return;
    }
    this.onCommit(this.queries.currentRevision());
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof StoreError) p.reject(outcome);
      else p.resolve(outcome);
    });
  }

  /** applyAll runs inside the transaction; revisions are assigned in queue order. */
  private applyAll(ops: WriteOp[]): (KeyValue | StoreError)[] {
    let next = this.queries.currentRevision() + 1;
    return ops.map((op) => {
      try {
        const row = this.check(op, next);
        this.insert.run(row);
        next++;
        return toKeyValue(row);
      } catch (err) {
        if (err instanceof StoreError) return err;
        // The unique (name, prev_revision) index caught a lost compare-and-swap.
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          return new StoreError('Conflict', `${op.key} was changed concurrently`);
        }
        throw err;
      }
    });
  }

  /** check validates `op` against the key's newest row and returns the row to insert as `id`. */
  private check(op: WriteOp, id: number): Row {
    const latest = this.queries.latest(op.key);
    const live = latest && !latest.deleted ? latest : undefined;
    const base = { id, name: op.key, created: 0, deleted: 0 };
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
