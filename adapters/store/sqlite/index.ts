/**
 * The SQLite adapter of the Store port (kine's model over better-sqlite3): the local host's store.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  StoreError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type StoredValue,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from '../../../shared/store/store.js';
import { openDatabase, sqliteSchema, COMPACTED_REVISION_KEY, type SqliteDatabase, type SqliteDurability } from './schema.js';
import type { StorageSchema } from '../../../shared/store/schema.js';
import { prefixRange, SqliteQueries, toKeyValue, toListedKeyValue } from './queries.js';
import { GroupCommitter, type WriteOp } from './writer.js';
import { WatchHub } from './watch.js';
import { WalSync } from './wal-sync.js';

export type { SqliteDurability } from './schema.js';

/** COMPACT_CHUNK is how many revisions one compaction transaction covers (a few ms of work). */
const COMPACT_CHUNK = 5_000;

/** SqliteStoreOptions configure openSqliteStore. */
export interface SqliteStoreOptions {
  /** The database file (its folder is created if missing), or ':memory:' for a private in-memory store. */
  path: string;
  /** 'full' (default): a write is acknowledged after the WAL is fsynced; see schema.ts for 'normal'. */
  durability?: SqliteDurability;
  /** How often watchers poll the file for other processes' writes (default 1000 ms; 0: never). */
  pollIntervalMs?: number;
}

/**
 * openSqliteStore opens (or creates) the store in `options.path` and returns it ready to use.
 * Throws an Error naming the path if the file is not a usable Coracle store; never starts empty
 * over a file it cannot read.
 *
 * Durability 'full' on a file: SQLite itself runs with `synchronous=NORMAL` and the store fsyncs
 * the WAL off the event loop before acknowledging (wal-sync.ts) — acknowledged writes are on disk
 * as with FULL, without stalling every request for each fsync. Reads may see a write that is
 * committed but not yet acknowledged (it survives `kill -9`, and a power cut only if its sync
 * completed); watches deliver only writes whose sync completed.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const onDisk = options.path !== ':memory:';
  if (onDisk) mkdirSync(dirname(options.path), { recursive: true });
  const syncHere = onDisk && (options.durability ?? 'full') === 'full';
  const db = openDatabase(options.path, syncHere ? 'normal' : options.durability);
  const walSync = syncHere ? new WalSync(`${resolve(options.path)}-wal`) : undefined;
  return new SqliteStore(options.path, db, options.pollIntervalMs, walSync);
}

/** SqliteStore keeps the Store contract in one SQLite file; several processes may share the file. */
export class SqliteStore implements Store {
  private readonly queries: SqliteQueries;
  private readonly writer: GroupCommitter;
  private readonly hub: WatchHub;
  private readonly compactStatement;
  private closed = false;

  constructor(
    /** The database file this store lives in. */
    readonly path: string,
    private readonly db: SqliteDatabase,
    pollIntervalMs = 1_000,
    /** When given, commits are acknowledged after this WAL sync (the connection then need not sync itself). */
    private readonly walSync?: WalSync,
  ) {
    this.queries = new SqliteQueries(db);
    this.hub = new WatchHub(this.queries, pollIntervalMs, () => this.writer.durableRevision());
    this.writer = new GroupCommitter(this.queries, () => this.hub.tail(), walSync);
    // Superseded versions and tombstones with a revision in (from, to], to ≤ the compacted revision.
    this.compactStatement = db.prepare(
      `DELETE FROM kv WHERE id > @from AND id <= @to AND (deleted = 1 OR EXISTS
         (SELECT 1 FROM kv n WHERE n.name = kv.name AND n.id > kv.id AND n.id <= @rev))`,
    );
  }

  /** storageSchema reports the file's layout (shared/store/schema.ts): its version and the migrations applied to it. */
  async storageSchema(): Promise<StorageSchema> {
    return this.read(() => sqliteSchema(this.db), false);
  }

  // One statement each: no transaction (consistent reads ask for the current revision per pass).
  async currentRevision(): Promise<number> {
    return this.read(() => this.queries.currentRevision(), false);
  }

  async compactedRevision(): Promise<number> {
    return this.read(() => this.queries.compactedRevision(), false);
  }

  async get(key: string, options: { revision?: number } = {}): Promise<KeyValue | undefined> {
    if (!options.revision) {
      // Now: one statement reads one snapshot by itself (no transaction, no revision lookup).
      const row = this.read(() => this.queries.latest(key), false);
      return row && !row.deleted ? toKeyValue(row) : undefined;
    }
    return this.read(() => {
      const revision = this.readRevision(options.revision);
      const row = this.queries.latest(key, revision);
      return row && !row.deleted ? toKeyValue(row) : undefined;
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    return this.read(() => {
      const revision = this.readRevision(options.revision);
      const range = prefixRange(prefix);
      const limit = options.limit ?? 0;
      if (limit < 0) throw new StoreError('BadRequest', `limit must not be negative (got ${limit})`);
      const count = options.countRemaining ?? true;
      // Uncounted, one row past the page tells whether more follow.
      // The index narrows an uncounted page only (a count of the range would not honour it).
      const hint = count || options.fieldEquals?.field !== 'spec.nodeName' ? undefined : options.fieldEquals.value;
      const rows = this.queries.liveRows(range, revision, options.startAfter ?? '', limit > 0 && !count ? limit + 1 : limit, hint);
      if (!count) {
        const more = limit > 0 && rows.length > limit;
        if (more) rows.length = limit;
        return { items: rows.map(toListedKeyValue), revision, more, remaining: more ? 1 : 0 };
      }
      const full = limit > 0 && rows.length === limit;
      const remaining = full ? this.queries.liveCount(range, rows[rows.length - 1].name, revision) : 0;
      return { items: rows.map(toListedKeyValue), revision, more: remaining > 0, remaining };
    });
  }

  /** explainNodeNameList is the query plan of a list by spec.nodeName (for tests). */
  explainNodeNameList(): string {
    return this.queries.nodeNameListPlan();
  }

  async count(prefix: string): Promise<number> {
    return this.read(() => this.queries.liveCount(prefixRange(prefix)));
  }

  async create(key: string, value: StoredValue, options?: WriteOptions): Promise<KeyValue> {
    return this.write({ kind: 'create', key, value: serialize(key, value), object: value, requestId: options?.requestId });
  }

  async update(key: string, value: StoredValue, expectedModRevision: number, options?: WriteOptions): Promise<KeyValue> {
    return this.write({ kind: 'update', key, value: serialize(key, value), expected: expectedModRevision, object: value, requestId: options?.requestId });
  }

  async delete(key: string, expectedModRevision?: number, options?: WriteOptions): Promise<KeyValue> {
    return this.write({ kind: 'delete', key, expected: expectedModRevision, requestId: options?.requestId });
  }

  watch(prefix: string, fromRevision: number, options?: WatchOptions): AsyncIterable<WatchEvent> {
    if (this.closed) return failing(unavailable());
    return this.hub.watch(prefix, fromRevision, options);
  }

  /**
   * compact removes history at or below `revision` (superseded versions and tombstones). The
   * compacted revision is recorded first, in one short transaction, so a read or watch below it
   * answers Gone from then on; the rows then go in chunks of COMPACT_CHUNK revisions, oldest
   * first (a key's older versions go before the tombstone that supersedes them), one transaction
   * per chunk with a turn of the event loop between chunks: compacting a burst of a million
   * writes never blocks requests for long (issue 15).
   */
  async compact(revision: number): Promise<void> {
    this.checkOpen();
    this.writer.flush();
    // Live watchers must hold every row before any is deleted: wait until every commit is durable
    // (so delivered), then mark the compaction in the same turn, before another batch commits.
    while (this.writer.hasUnsynced) {
      await this.writer.settled();
      this.checkOpen();
      this.writer.flush();
    }
    this.hub.tail();
    const marked = this.db
      .transaction(() => {
        const current = this.queries.currentRevision();
        if (revision > current) {
          throw new StoreError('BadRequest', `cannot compact to ${revision}: newer than ${current}`);
        }
        if (revision <= this.queries.compactedRevision()) return false;
        this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(revision, COMPACTED_REVISION_KEY);
        return true;
      })
      .immediate();
    if (!marked) return;
    // From the oldest row left (rows of an interrupted compaction included) up to `revision`.
    const oldest = (this.db.prepare('SELECT min(id) AS id FROM kv').get() as { id: number | null }).id ?? revision;
    for (let from = oldest - 1; from < revision; from += COMPACT_CHUNK) {
      if (this.closed) return;
      this.compactStatement.run({ from, to: Math.min(from + COMPACT_CHUNK, revision), rev: revision });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.writer.flush();
    this.closed = true;
    await this.writer.settled(); // writes accepted before close are acknowledged first
    this.hub.failAll(unavailable());
    this.db.close();
    await this.walSync?.close();
  }

  /**
   * read runs `fn` in one read transaction (one snapshot), or bare when it runs a single
   * statement (`snapshot` false); driver failures become Unavailable.
   */
  private read<T>(fn: () => T, snapshot = true): T {
    this.checkOpen();
    try {
      return snapshot ? this.db.transaction(fn)() : fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('Unavailable', `SQLite read failed: ${(err as Error).message}`);
    }
  }

  /** readRevision resolves a requested revision (0/absent: now), rejecting compacted and future ones. */
  private readRevision(requested: number | undefined): number {
    const current = this.queries.currentRevision();
    if (!requested) return current;
    if (requested > current) {
      throw new StoreError('BadRequest', `revision ${requested} is newer than the current revision ${current}`);
    }
    this.queries.checkNotCompacted(requested);
    return requested;
  }

  private write(op: WriteOp): Promise<KeyValue> {
    this.checkOpen();
    if (typeof op.key !== 'string' || op.key === '') throw new StoreError('BadRequest', 'a key must be a non-empty string');
    return this.writer.submit(op);
  }

  private checkOpen(): void {
    if (this.closed) throw unavailable();
  }
}

function serialize(key: string, value: StoredValue): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError('BadRequest', `the value of ${key} must be a JSON object`);
  }
  return JSON.stringify(value);
}

function unavailable(): StoreError {
  return new StoreError('Unavailable', 'the store is closed');
}

/** failing is an iterable whose iteration throws `err` (a watch on a closed store). */
function failing(err: StoreError): AsyncIterable<WatchEvent> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }),
  };
}
