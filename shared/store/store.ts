/**
 * The Store port: etcd's contract, as the API server needs it.
 *
 * A store holds the objects of ONE cluster. Every successful write (create, update, delete)
 * takes the next value of a single monotonic revision counter, so revisions order all changes of
 * the cluster. Keys are strings such as `/registry/pods/default/web-1`; values are JSON objects
 * that the store never interprets.
 *
 * Adapters (SQLite, Cosmos DB) live outside `shared/` and are typed `satisfies StoreFactory`;
 * every one of them passes the contract suite in `shared/store/contract.ts`.
 */

/** StoredValue is the JSON object kept under a key; the store treats it as opaque. */
export type StoredValue = Record<string, unknown>;

/** KeyValue is one version of one key. */
export interface KeyValue {
  key: string;
  value: StoredValue;
  /** The revision of the write that produced this version (etcd's mod_revision). */
  modRevision: number;
  /** The revision at which the key was (last) created (etcd's create_revision). */
  createRevision: number;
  /**
   * Optional: `value`'s JSON text exactly as `JSON.stringify(value)` renders it, when the adapter
   * holds it anyway (SQLite lists); a reader that only re-serializes values can use it and skip
   * decoding. Adapters that set it keep it non-enumerable, so comparisons of KeyValues ignore it.
   */
  readonly json?: string;
  /**
   * The id of the API request whose write produced this version (WriteOptions.requestId), when
   * its writer gave one. Kept beside the value, never inside it: clients never see it. Present on
   * watch events (and so in change-feed documents) and write results; reads may leave it off.
   */
  requestId?: string;
}

/** WriteOptions are what a write records beside the value. */
export interface WriteOptions {
  /** The id of the API request making the write (shared/telemetry/requestlog.ts). */
  requestId?: string;
}

/** StoreErrorReason classifies a failure; the API server maps each to a Kubernetes Status once. */
export type StoreErrorReason =
  | 'NotFound' // the key does not exist (at that revision)
  | 'AlreadyExists' // create of a key that exists
  | 'Conflict' // compare-and-swap lost: the key's modRevision is not the expected one
  | 'Gone' // the revision asked for has been compacted
  | 'BadRequest' // an option the adapter does not support, or a malformed argument
  | 'Unavailable'; // the backend cannot be reached or is closed

/** StoreError is the only error a Store throws on purpose; classify by `reason`, never by message. */
export class StoreError extends Error {
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
    /** For Conflict and AlreadyExists: the key's current version, when the adapter has it. */
    readonly current?: KeyValue,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** isStoreError tells whether `err` is a StoreError, optionally of the given reason. */
export function isStoreError(err: unknown, reason?: StoreErrorReason): err is StoreError {
  return err instanceof StoreError && (reason === undefined || err.reason === reason);
}

/** ListOptions select a page of a prefix. */
export interface ListOptions {
  /** Read as of this revision (0 or absent: the current revision). Below the compacted revision: Gone. */
  revision?: number;
  /** At most this many items (0 or absent: all). */
  limit?: number;
  /** Start strictly after this key (the last key of the previous page). */
  startAfter?: string;
  /**
   * Whether to count the keys after the page (`remaining`; default true). Counting reads every
   * key of the range, so a caller that does not answer with the count (a filtered list) skips it.
   */
  countRemaining?: boolean;
  /**
   * A pre-filter: only items whose value has `field` equal to `value` are needed. A store may
   * answer from an index and leave the others out (SQLite does); the caller still applies its own
   * filter to what comes back, so a store may also ignore it. Only for an uncounted page
   * (`countRemaining: false`).
   */
  fieldEquals?: { field: IndexedField; value: string };
}

/**
 * IndexedField names the value fields a store may index for lists: a Pod's `spec.nodeName`, which
 * every node agent selects its pods by (upstream's watch cache indexes the same field).
 */
export type IndexedField = 'spec.nodeName';

/** ListResult is a consistent page: every item as of `revision`. */
export interface ListResult {
  items: KeyValue[];
  /** The revision the page was read at; pass it back as `revision` for the next page. */
  revision: number;
  /** True when keys after the last item match the prefix. */
  more: boolean;
  /** How many matching keys follow this page, when `more` (uncounted when `countRemaining` was false: then at least 1 when `more`, else 0). */
  remaining: number;
}

/**
 * WatchEvent is one change, or a progress notice.
 * - `put`: the key was created (`prev` absent) or updated (`prev` is the version it replaced).
 * - `delete`: the key was deleted; `kv` is the last version with `modRevision` set to the revision
 *   of the delete, `prev` the version that was deleted.
 * - `progress`: nothing matching changed up to `revision` (a bookmark).
 * An adapter may hand the same event (and value objects) to every watcher of one change, so that
 * a change is decoded once, not once per watcher: treat watch events as read-only.
 */
export type WatchEvent =
  | { type: 'put'; kv: KeyValue; prev?: KeyValue }
  | { type: 'delete'; kv: KeyValue; prev: KeyValue }
  | { type: 'progress'; revision: number };

/** WatchOptions tune one watch. */
export interface WatchOptions {
  /** Ends the watch; the iterator then returns. */
  signal?: AbortSignal;
  /** Send a `progress` event when nothing was delivered for this long (default 10 000 ms; 0: never). */
  progressIntervalMs?: number;
}

/**
 * Store is the contract every adapter keeps.
 *
 * - Revisions are per store (per cluster), start above 0 and only grow.
 * - An acknowledged write (a resolved promise) is durable.
 * - Concurrent writers never lose an update: a compare-and-swap that loses gets Conflict.
 * - `watch(prefix, r)` yields every change to a key under `prefix` with revision > r, in revision
 *   order, none missed and none repeated; with r below the compacted revision it throws Gone
 *   (before yielding anything).
 */
export interface Store {
  /** The newest revision (0 for an empty store). */
  currentRevision(): Promise<number>;
  /** The revision below which history is gone (reads and watches there fail with Gone). */
  compactedRevision(): Promise<number>;

  /** get returns the key's version as of `revision` (default: now), or undefined if absent then. */
  get(key: string, options?: { revision?: number }): Promise<KeyValue | undefined>;
  /** list returns the keys that start with `prefix`, ordered by key, as of one revision. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** count returns how many keys start with `prefix` now. */
  count(prefix: string): Promise<number>;

  /** create stores a new key; AlreadyExists if it exists. */
  create(key: string, value: StoredValue, options?: WriteOptions): Promise<KeyValue>;
  /** update replaces the key's value if its modRevision is `expectedModRevision`; else Conflict (NotFound if absent). */
  update(key: string, value: StoredValue, expectedModRevision: number, options?: WriteOptions): Promise<KeyValue>;
  /**
   * delete removes the key, leaving a tombstone in history; with `expectedModRevision`, only if it
   * matches (else Conflict). NotFound if absent. Returns the deleted version with `modRevision`
   * set to the revision of the delete.
   */
  delete(key: string, expectedModRevision?: number, options?: WriteOptions): Promise<KeyValue>;

  /** watch yields the changes under `prefix` after `fromRevision` (see the contract above). */
  watch(prefix: string, fromRevision: number, options?: WatchOptions): AsyncIterable<WatchEvent>;

  /** compact drops history below `revision`: older versions and tombstones. Never drops a key's live version. */
  compact(revision: number): Promise<void>;

  /** close releases the backend; later calls fail with Unavailable. */
  close(): Promise<void>;
}
