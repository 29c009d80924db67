/**
 * The Store port on Azure Cosmos DB (`@azure/cosmos` 4.x): one logical partition per cluster
 * (partition key `/cluster`), holding a revision counter item, one current item per live key and
 * one log item per revision (see items.ts for the model, batch.ts for how writes commit,
 * history.ts for reads at a revision, watch.ts for watch).
 *
 * Round trips (`stats.roundTrips`): get = 1 (a point read); create = 1; update and delete = 1 when
 * this instance has the key's version cached (from a get or a write) and its counter is fresh,
 * else 2 (read, then batch). Another writer moving the counter costs 1 more (re-read) per retry.
 * currentRevision = 1; count = 1; list = 3 (counter, the current items query, counter again) plus
 * one point read per revision written meanwhile (or one query when more than 32); a list at an
 * older revision reads the log from it instead. get at a revision = 2 + the compaction check
 * (3 in parallel). An idle watch poll (shared by all watches of the instance) = 1.
 * The SDK also fetches a query plan before each query: one more HTTP request per query.
 */
import { CosmosClient, type Container, type JSONObject, type OperationInput } from '@azure/cosmos';
import { StoreError, type KeyValue, type ListOptions, type ListResult, type Store, type StoredValue, type WatchEvent, type WatchOptions, type WriteOptions } from '../../../shared/store/store.js';
import { CosmosCalls, DEFAULT_THROTTLE_POLICY, httpStatusOf, type CosmosStats, type ThrottlePolicy } from './calls.js';
import { ensureStoreContainer } from './container.js';
import { migrateCosmosSchema } from './schema.js';
import { StorageSchemaError, type StorageSchema } from '../../../shared/store/schema.js';
import { executeBatch, type BatchOutcome } from './batch.js';
import { COUNTER_ID, currentToKeyValue, keyItemId, logItemId, type CounterItem, type CurrentItem, type LogItem } from './items.js';
import { KeyCache, type CachedVersion } from './lru.js';
import { mergeAt, versionAt } from './history.js';
import { watchLog } from './watch.js';
import { LogTailer } from './tailer.js';
import { compactLog, compactionFloor } from './compaction.js';

/** CosmosStoreOptions configure `openCosmosStore`. */
export interface CosmosStoreOptions {
  /** A client to use (its own retry policy applies first); else `endpoint` and `key` build one. */
  client?: CosmosClient;
  endpoint?: string;
  key?: string;
  databaseId: string;
  containerId: string;
  /** The cluster: the partition key value of every item this store touches. */
  cluster: string;
  /** Create the database and container when absent (default true). */
  createContainer?: boolean;
  /** Seconds after which log items (history, tombstones) expire on Cosmos DB (default 3600; 0: never). */
  historyTtlSeconds?: number;
  /** How often a watch polls (default 100 ms). */
  watchPollIntervalMs?: number;
  /** How long a watch waits for a missing revision before skipping it (default 1000 ms, as kine). */
  watchGapWaitMs?: number;
  /** The adapter's own 429 retry bounds (see calls.ts). */
  throttle?: Partial<ThrottlePolicy>;
  /** How many keys' versions to cache for one-round-trip updates (default 10 000). */
  cacheSize?: number;
}

/** CosmosStore is a Store that also reports what it asked of Cosmos DB. */
export interface CosmosStore extends Store {
  readonly stats: CosmosStats;
  /** storageSchema reports the layout this store was brought to when it opened (schema.ts). */
  storageSchema(): Promise<StorageSchema>;
}

const MAX_COUNTER_RETRIES = 100;
const MAX_ETAG_RETRIES = 10;
/** Up to this many new revisions are point-read rather than queried (see logAfter). */
const POINT_READ_RANGE = 32;

/**
 * openCosmosStore opens the store of `options.cluster` in the given container (created with
 * partition key `/cluster` when absent). Close it to release a client it built.
 */
export async function openCosmosStore(options: CosmosStoreOptions): Promise<CosmosStore> {
  const calls = new CosmosCalls({ ...DEFAULT_THROTTLE_POLICY, ...options.throttle });
  const ownsClient = !options.client;
  const client = options.client ?? buildClient(options);
  try {
    const container = options.createContainer === false
      ? client.database(options.databaseId).container(options.containerId)
      : await ensureStoreContainer(client, options.databaseId, options.containerId);
    const schema = await migrateCosmosSchema(container, options.cluster);
    return new CosmosDbStore(container, options, calls, schema, ownsClient ? client : undefined);
  } catch (err) {
    if (ownsClient) client.dispose();
    if (err instanceof StoreError || err instanceof StorageSchemaError) throw err;
    throw new StoreError('Unavailable', `cannot open cosmos container: ${(err as Error).message}`);
  }
}

function buildClient(options: CosmosStoreOptions): CosmosClient {
  if (!options.endpoint || !options.key) throw new StoreError('BadRequest', 'openCosmosStore needs a client, or an endpoint and a key');
  return new CosmosClient({
    endpoint: options.endpoint,
    key: options.key,
    connectionPolicy: {
      enableEndpointDiscovery: false,
      // 429s are retried by CosmosCalls, after the server's retry-after, within its bounds.
      retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 },
    },
  });
}

const asJson = (item: object): JSONObject => item as unknown as JSONObject;
const clone = (kv: KeyValue): KeyValue => ({ ...kv, value: structuredClone(kv.value) });

/** CosmosDbStore implements the Store port on one cluster's partition; built by `openCosmosStore`. */
class CosmosDbStore implements CosmosStore {
  private counter?: { revision: number; etag: string };
  private writeQueue: Promise<unknown> = Promise.resolve();
  private readonly cache: KeyCache;
  private readonly closing = new AbortController();
  private readonly cluster: string;
  private readonly ttl?: number;
  private readonly tailer: LogTailer;

  constructor(
    private readonly container: Container,
    private readonly options: CosmosStoreOptions,
    private readonly calls: CosmosCalls,
    private readonly schema: StorageSchema,
    private readonly ownedClient?: CosmosClient,
  ) {
    this.cluster = options.cluster;
    this.cache = new KeyCache(options.cacheSize ?? 10_000);
    const ttl = options.historyTtlSeconds ?? 3600;
    this.ttl = ttl > 0 ? ttl : undefined;
    this.tailer = new LogTailer({
      counterRevision: () => this.currentRevision(),
      logAfter: (revision, max, newest) => this.logAfter(revision, max, newest),
      compactedRevision: () => this.compactedRevision(),
      closed: this.closing.signal,
      pollIntervalMs: options.watchPollIntervalMs ?? 100,
      gapWaitMs: options.watchGapWaitMs ?? 1000,
    });
  }

  get stats(): CosmosStats {
    return this.calls.stats;
  }

  async storageSchema(): Promise<StorageSchema> {
    return structuredClone(this.schema);
  }

  async currentRevision(): Promise<number> {
    return (await this.loadCounter()).revision;
  }

  async compactedRevision(): Promise<number> {
    return compactionFloor(this.calls, this.container, this.cluster, () => this.currentRevision());
  }

  async get(key: string, options?: { revision?: number }): Promise<KeyValue | undefined> {
    if (options?.revision) return this.getAt(key, options.revision);
    const entry = await this.readCurrent(key);
    return entry && clone(entry.kv);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const revision = options.revision || (await this.currentRevision());
    const after = options.startAfter ?? '';
    // The fieldEquals pre-filter (a node's pods) goes into the query, so the items of other nodes
    // are neither sent nor decoded. A key whose value matched at `revision` but not now was
    // changed since, so the log read below still brings its version at `revision`.
    const field = options.countRemaining === false && options.fieldEquals?.field === 'spec.nodeName' ? options.fieldEquals.value : undefined;
    const currents = await this.calls.queryAll<CurrentItem>(this.container, this.cluster, {
      query: `SELECT * FROM c WHERE c.cluster = @cluster AND c.type = 'current' AND STARTSWITH(c.key, @prefix) AND c.key > @after${field === undefined ? '' : ' AND c["value"].spec.nodeName = @field'} ORDER BY c.key`,
      parameters: [{ name: '@prefix', value: prefix }, { name: '@after', value: after }, ...(field === undefined ? [] : [{ name: '@field', value: field }])],
    });
    // Changes made after `revision` (racing writes, or all since an older revision) are in the
    // log between it and the counter as read now, AFTER the current items.
    const changes = (await this.logBetween(revision, await this.currentRevision()))
      .filter((item) => item.key.startsWith(prefix) && item.key > after);
    if (options.revision) await this.assertNotCompacted(revision);
    const all = mergeAt(currents, changes, revision);
    const limit = options.limit && options.limit > 0 ? options.limit : all.length;
    const more = all.length > limit;
    return { items: all.slice(0, limit), revision, more, remaining: more ? all.length - limit : 0 };
  }

  /** logBetween returns every log item in (from, to], in revision order. */
  private async logBetween(from: number, to: number): Promise<LogItem[]> {
    const items: LogItem[] = [];
    for (let position = from; position < to; ) {
      const page = (await this.logAfter(position, 1000, to)).filter((item) => item.revision <= to);
      if (page.length === 0) break;
      items.push(...page);
      position = page[page.length - 1].revision;
    }
    return items;
  }

  async count(prefix: string): Promise<number> {
    const counts = await this.calls.queryAll<{ n: number }>(this.container, this.cluster, {
      query: "SELECT COUNT(1) AS n FROM c WHERE c.cluster = @cluster AND c.type = 'current' AND STARTSWITH(c.key, @prefix)",
      parameters: [{ name: '@prefix', value: prefix }],
    });
    return counts.reduce((sum, row) => sum + row.n, 0);
  }

  async create(key: string, value: StoredValue, options?: WriteOptions): Promise<KeyValue> {
    const stored = structuredClone(value);
    const { outcome, revision } = await this.commit((rev) => [
      { operationType: 'Create', resourceBody: asJson(this.currentItem(key, stored, rev, rev)) },
      { operationType: 'Create', resourceBody: asJson(this.logItem({ key, revision: rev, value: stored, createRevision: rev }, options)) },
    ]);
    if (outcome.ok) return clone(this.remember(key, stored, revision, revision, outcome.results[1]?.eTag));
    if (outcome.failedIndex === 1 && outcome.failedStatus === 409) {
      const current = await this.readCurrent(key);
      throw new StoreError('AlreadyExists', `key ${key} already exists`, current && clone(current.kv));
    }
    throw unexpected(outcome);
  }

  async update(key: string, value: StoredValue, expectedModRevision: number, options?: WriteOptions): Promise<KeyValue> {
    const stored = structuredClone(value);
    let known = await this.versionExpected(key, expectedModRevision, true);
    for (let attempt = 0; attempt < MAX_ETAG_RETRIES; attempt++) {
      const prev = known.kv;
      const { outcome, revision } = await this.commit((rev) => [
        { operationType: 'Replace', id: keyItemId(key), ifMatch: known.etag, resourceBody: asJson(this.currentItem(key, stored, rev, prev.createRevision)) },
        { operationType: 'Create', resourceBody: asJson(this.logItem({ key, revision: rev, value: stored, createRevision: prev.createRevision, prevRevision: prev.modRevision, prevValue: prev.value }, options)) },
      ]);
      if (outcome.ok) return clone(this.remember(key, stored, revision, prev.createRevision, outcome.results[1]?.eTag));
      if (outcome.failedIndex !== 1 || (outcome.failedStatus !== 412 && outcome.failedStatus !== 404)) throw unexpected(outcome);
      known = await this.versionExpected(key, expectedModRevision, false);
    }
    throw new StoreError('Unavailable', `update of ${key} kept losing its If-Match`);
  }

  async delete(key: string, expectedModRevision?: number, options?: WriteOptions): Promise<KeyValue> {
    let known = await this.versionExpected(key, expectedModRevision, true);
    for (let attempt = 0; attempt < MAX_ETAG_RETRIES; attempt++) {
      const prev = known.kv;
      const { outcome, revision } = await this.commit((rev) => [
        // The SDK's type omits ifMatch on Delete, but sends it: Cosmos DB honours it in a batch.
        { operationType: 'Delete', id: keyItemId(key), ifMatch: known.etag } as OperationInput,
        { operationType: 'Create', resourceBody: asJson(this.logItem({ key, revision: rev, value: prev.value, createRevision: prev.createRevision, prevRevision: prev.modRevision, deleted: true }, options)) },
      ]);
      if (outcome.ok) {
        this.cache.delete(key);
        return clone({ ...prev, modRevision: revision });
      }
      if (outcome.failedIndex !== 1 || (outcome.failedStatus !== 412 && outcome.failedStatus !== 404)) throw unexpected(outcome);
      known = await this.versionExpected(key, expectedModRevision, false);
    }
    throw new StoreError('Unavailable', `delete of ${key} kept losing its If-Match`);
  }

  watch(prefix: string, fromRevision: number, options?: WatchOptions): AsyncIterable<WatchEvent> {
    // Revision 0 means "from now", fixed when watch is called (not at the first next()).
    const start = fromRevision > 0 ? Promise.resolve(fromRevision) : this.counter && !this.closing.signal.aborted ? Promise.resolve(this.counter.revision) : this.currentRevision();
    start.catch(() => undefined); // a failure (say, Unavailable) surfaces from the iterator
    return watchLog({
      tailer: this.tailer,
      logAfter: (revision, max) => this.logAfter(revision, max),
      compactedRevision: () => this.compactedRevision(),
      closed: this.closing.signal,
    }, prefix, { start, checkCompaction: fromRevision > 0 }, options);
  }

  /**
   * logAfter returns the log items above `revision`, in order, at most `max` of them. When the
   * counter says only a few revisions are new (POINT_READ_RANGE), they are point-read by id in
   * parallel (1 RU each, and O(1) in the emulator, whose queries scan the whole container);
   * otherwise one query. Missing revisions are simply absent: callers treat them as gaps.
   */
  private async logAfter(revision: number, max: number, newest?: number): Promise<LogItem[]> {
    const upTo = newest ?? (await this.currentRevision());
    if (upTo <= revision) return [];
    if (upTo - revision <= POINT_READ_RANGE) {
      const revisions = Array.from({ length: Math.min(upTo - revision, max) }, (_, i) => revision + 1 + i);
      const found = await Promise.all(revisions.map((r) =>
        this.calls.run(() => this.container.item(logItemId(r), this.cluster).read<LogItem>(), true).then((res) => res.resource)));
      return found.filter((item) => item?.type === 'log') as LogItem[];
    }
    const page = await this.calls.queryPage<LogItem>(this.container, this.cluster, {
      query: "SELECT * FROM c WHERE c.cluster = @cluster AND c.type = 'log' AND c.revision > @rev ORDER BY c.revision",
      parameters: [{ name: '@rev', value: revision }],
    }, max);
    return page.items;
  }

  async compact(revision: number): Promise<void> {
    const current = await this.currentRevision();
    if (revision > current) throw new StoreError('BadRequest', `cannot compact to ${revision}: the current revision is ${current}`);
    await compactLog(this.calls, this.container, this.cluster, revision);
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.calls.close();
    this.ownedClient?.dispose();
  }

  // --- writes -------------------------------------------------------------------------------

  /**
   * commit runs one write's batch behind the counter: `[replace counter If-Match, ...ops]`.
   * A stale counter (412 on the first operation: another writer got there first) is re-read and
   * the batch retried with the next revision; any other failure is returned to the caller.
   *
   * Batches of one instance run one at a time: every write replaces the counter If-Match its
   * etag, so two batches in flight with the same etag cannot both succeed. Queuing them here
   * costs nothing in throughput and saves the loser's 412 and re-read.
   */
  private commit(ops: (revision: number) => OperationInput[]): Promise<{ outcome: BatchOutcome; revision: number }> {
    const run = this.writeQueue.then(() => this.commitNow(ops));
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  private async commitNow(ops: (revision: number) => OperationInput[]): Promise<{ outcome: BatchOutcome; revision: number }> {
    for (let attempt = 0; attempt < MAX_COUNTER_RETRIES; attempt++) {
      const counter = this.counter ?? (await this.loadCounter());
      const revision = counter.revision + 1;
      const counterOp: OperationInput = {
        operationType: 'Replace', id: COUNTER_ID, ifMatch: counter.etag,
        resourceBody: asJson({ id: COUNTER_ID, cluster: this.cluster, type: 'counter', revision } satisfies CounterItem),
      };
      const outcome = await executeBatch(this.calls, this.container, this.cluster, [counterOp, ...ops(revision)]);
      const counterResult = outcome.results[0];
      if (counterResult?.eTag && counterResult.statusCode < 300) this.counter = { revision, etag: counterResult.eTag };
      if (outcome.ok) return { outcome, revision };
      if (outcome.failedIndex === 0 && (outcome.failedStatus === 412 || outcome.failedStatus === 404)) {
        this.counter = undefined;
        continue;
      }
      if (outcome.partiallyApplied) await this.markAbandoned(revision);
      return { outcome, revision };
    }
    throw new StoreError('Unavailable', 'the revision counter stayed contended');
  }

  /** markAbandoned is the non-atomic fallback (batch.ts): the revision was consumed by nothing. */
  private async markAbandoned(revision: number): Promise<void> {
    const marker: LogItem = { id: logItemId(revision), cluster: this.cluster, type: 'log', revision, key: '', abandoned: true, ...(this.ttl ? { ttl: this.ttl } : {}) };
    try {
      await this.calls.run(() => this.container.items.create(marker));
    } catch {
      // Watchers wait for the gap and then skip it; nothing is lost but latency.
    }
  }

  /**
   * versionExpected is the key's version and etag, checked against `expected` (when given):
   * from the cache when allowed and matching, else read. NotFound when absent, Conflict when the
   * key's modRevision is not `expected`.
   */
  private async versionExpected(key: string, expected: number | undefined, cacheAllowed: boolean): Promise<CachedVersion> {
    const cached = cacheAllowed ? this.cache.get(key) : undefined;
    if (cached && (expected === undefined || cached.kv.modRevision === expected)) return cached;
    const current = await this.readCurrent(key);
    if (!current) throw new StoreError('NotFound', `key ${key} not found`);
    if (expected !== undefined && current.kv.modRevision !== expected) {
      throw new StoreError('Conflict', `key ${key} is at modRevision ${current.kv.modRevision}, not ${expected}`, clone(current.kv));
    }
    return current;
  }

  private remember(key: string, value: StoredValue, modRevision: number, createRevision: number, etag: string | undefined): KeyValue {
    const kv = { key, value, modRevision, createRevision };
    if (etag) this.cache.set(key, { kv, etag });
    else this.cache.delete(key);
    return kv;
  }

  private currentItem(key: string, value: StoredValue, modRevision: number, createRevision: number): CurrentItem {
    return { id: keyItemId(key), cluster: this.cluster, type: 'current', key, value, modRevision, createRevision };
  }

  private logItem(fields: Omit<LogItem, 'id' | 'cluster' | 'type' | 'requestId'>, options?: WriteOptions): LogItem {
    return {
      id: logItemId(fields.revision), cluster: this.cluster, type: 'log', ...fields,
      ...(options?.requestId ? { requestId: options.requestId } : {}), ...(this.ttl ? { ttl: this.ttl } : {}),
    };
  }

  // --- reads --------------------------------------------------------------------------------

  private async loadCounter(): Promise<{ revision: number; etag: string }> {
    for (;;) {
      const { resource } = await this.calls.run(() => this.container.item(COUNTER_ID, this.cluster).read<CounterItem>(), true);
      if (resource?._etag) return this.noteCounter(resource.revision, resource._etag);
      try {
        const created = await this.calls.run(() => this.container.items.create<CounterItem>({ id: COUNTER_ID, cluster: this.cluster, type: 'counter', revision: 0 }));
        if (created.resource?._etag) return this.noteCounter(0, created.resource._etag);
      } catch (err) {
        if (httpStatusOf(err) !== 409) throw err; // another writer created it: read it again
      }
    }
  }

  private noteCounter(revision: number, etag: string): { revision: number; etag: string } {
    if (!this.counter || this.counter.revision <= revision) this.counter = { revision, etag };
    return { revision, etag };
  }

  private async readCurrent(key: string): Promise<CachedVersion | undefined> {
    const { resource } = await this.calls.run(() => this.container.item(keyItemId(key), this.cluster).read<CurrentItem>(), true);
    if (!resource || resource.key !== key || !resource._etag) {
      this.cache.delete(key);
      return undefined;
    }
    const entry = { kv: currentToKeyValue(resource), etag: resource._etag };
    this.cache.set(key, entry);
    return entry;
  }

  private async getAt(key: string, revision: number): Promise<KeyValue | undefined> {
    const { resource: current } = await this.calls.run(() => this.container.item(keyItemId(key), this.cluster).read<CurrentItem>(), true);
    const [firstChange] = (await this.calls.queryPage<LogItem>(this.container, this.cluster, {
      query: "SELECT TOP 1 * FROM c WHERE c.cluster = @cluster AND c.type = 'log' AND c.key = @key AND c.revision > @rev ORDER BY c.revision",
      parameters: [{ name: '@key', value: key }, { name: '@rev', value: revision }],
    }, 1)).items;
    await this.assertNotCompacted(revision);
    const version = versionAt(current?.key === key ? current : undefined, firstChange, revision);
    return version && clone(version);
  }

  /** assertNotCompacted runs AFTER a historical read: compaction records itself before deleting. */
  private async assertNotCompacted(revision: number): Promise<void> {
    const compacted = await this.compactedRevision();
    if (revision < compacted) throw new StoreError('Gone', `revision ${revision} is compacted (compacted revision ${compacted})`);
  }
}

function unexpected(outcome: BatchOutcome): StoreError {
  return new StoreError('Unavailable', `cosmos batch failed at operation ${outcome.failedIndex} with status ${outcome.failedStatus}`);
}
