/**
 * Cosmos DB triggers on the local host, fed from the store's watch instead of Cosmos DB's change
 * feed. Each batch is the list of `log` documents the real trigger would deliver
 * (adapters/store/cosmos/change.ts), so the function is the same in Azure and here.
 *
 * Delivery is in revision order: the checkpoint (the last revision acted on) is a key in the store
 * itself, `/coracle/checkpoints/<function>`, written after each batch's invocation, so a restart
 * redelivers at most that last batch. A failed invocation is handled as the Functions host handles
 * it for a Cosmos DB trigger: without a retry policy on the function the batch is given up and the
 * checkpoint moves past it; with one (`retry` in `app.cosmosDB`) the same batch is invoked again
 * after the policy's delay (`fixedDelay`, or `exponentialBackoff` from minimumInterval doubling up
 * to maximumInterval) until it succeeds or `maxRetryCount` retries are spent (-1: never), with the
 * InvocationContext's `retryContext` counting. On first start (no checkpoint), or when the checkpoint's
 * history has been compacted, the runner resyncs: it delivers every object under `/registry/` as a put (controllers are
 * level-triggered, so that is safe) and goes on from the listing's revision.
 */
import { documentFromWatchEvent, type ChangeFeedDocument } from '../adapters/store/cosmos/change.js';
import { isStoreError, type KeyValue, type Store, type WatchEvent } from '../shared/store/store.js';
import type { BindingInfo, RegisteredFunction } from './functions-core.js';
import { triggerOf } from './functions-core.js';
import { invokeFunction, type InvokeOptions } from './invoke.js';

/** COSMOS_TRIGGER is the binding type `app.cosmosDB` registers. */
export const COSMOS_TRIGGER = 'cosmosDBTrigger';

/** The keys whose changes are delivered: the API objects (checkpoints live outside, so they never feed back). */
const FEED_PREFIX = '/registry/';
const CHECKPOINT_PREFIX = '/coracle/checkpoints/';
const DEFAULT_MAX_ITEMS = 100;
const MAX_BACKOFF_MS = 30_000;

/** ChangeFeedSource is what a cosmosDBTrigger function's feed reads: the store, and the cluster (partition) its documents name. */
export interface ChangeFeedSource {
  store: Store;
  cluster: string;
}

/** ChangeFeedStoreProvider gives the source a cosmosDBTrigger function's feed reads (locally, the cluster's store). */
export type ChangeFeedStoreProvider = (binding: BindingInfo, fn: RegisteredFunction) => Promise<ChangeFeedSource>;

/** ChangeFeedErrorLogger is told about failed invocations and feed errors; the feed goes on. */
export type ChangeFeedErrorLogger = (functionName: string, err: unknown) => void;

/** RetryPolicy is a function's retry policy as registered (`retryOptions` of its metadata), in milliseconds. */
export interface RetryPolicy {
  /** Retries after the first attempt; -1: without end. */
  maxRetryCount: number;
  /** The delay before retry `n` (1-based). */
  delayMs(retry: number): number;
}

/** RpcDuration is how the library registers a retry interval (whole seconds). */
interface RpcDuration {
  seconds?: number;
}

const durationMs = (d: unknown): number => Math.max(0, Number((d as RpcDuration | undefined)?.seconds ?? 0) * 1000);

/**
 * retryPolicyOf reads the retry policy the library registered for `fn` (`retryStrategy`
 * `fixedDelay` with `delayInterval`, or `exponentialBackoff` with `minimumInterval` and
 * `maximumInterval`, each `{ seconds }`), or undefined when it has none.
 */
export function retryPolicyOf(fn: RegisteredFunction): RetryPolicy | undefined {
  const options = fn.metadata.retryOptions as Record<string, unknown> | undefined;
  if (!options) return undefined;
  const maxRetryCount = Number(options.maxRetryCount);
  if (!Number.isInteger(maxRetryCount) || maxRetryCount < -1) throw new Error(`function "${fn.metadata.name}": retry maxRetryCount must be a whole number ≥ -1`);
  if (options.retryStrategy === 'fixedDelay') {
    const delay = durationMs(options.delayInterval);
    return { maxRetryCount, delayMs: () => delay };
  }
  if (options.retryStrategy === 'exponentialBackoff') {
    const min = durationMs(options.minimumInterval);
    const max = Math.max(min, durationMs(options.maximumInterval));
    return { maxRetryCount, delayMs: (retry) => Math.min(max, min * 2 ** Math.min(retry - 1, 30)) };
  }
  throw new Error(`function "${fn.metadata.name}": retry strategy "${String(options.retryStrategy)}" is not supported`);
}

/** checkpointKey is where a function's checkpoint lives in the store. */
export function checkpointKey(functionName: string): string {
  return `${CHECKPOINT_PREFIX}${functionName}`;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    resolve();
  }, { once: true });
});

/**
 * batchesOf reads a watch into batches of at most `max` changes: whatever has arrived while the
 * previous batch was being handled goes into the next one. Progress events are dropped.
 */
export async function* batchesOf(events: AsyncIterable<WatchEvent>, max: number): AsyncGenerator<Array<Exclude<WatchEvent, { type: 'progress' }>>> {
  const buffer: Array<Exclude<WatchEvent, { type: 'progress' }>> = [];
  let wake: (() => void) | undefined;
  let done = false;
  let failure: unknown;
  void (async () => {
    try {
      for await (const e of events) {
        if (e.type === 'progress') continue;
        buffer.push(e);
        wake?.();
      }
    } catch (err) {
      failure = err;
    } finally {
      done = true;
      wake?.();
    }
  })();
  for (;;) {
    if (buffer.length > 0) {
      yield buffer.splice(0, max);
      continue;
    }
    if (failure !== undefined) throw failure;
    if (done) return;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
}

/** FeedRunner delivers one function's feed until stopped. */
class FeedRunner {
  private checkpoint: KeyValue | undefined;
  private readonly retry: RetryPolicy | undefined;

  constructor(
    private readonly fn: RegisteredFunction,
    private readonly store: Store,
    private readonly cluster: string,
    private readonly options: InvokeOptions,
    private readonly onError: ChangeFeedErrorLogger,
    private readonly signal: AbortSignal,
  ) {
    this.retry = retryPolicyOf(fn);
  }

  private get name(): string {
    return this.fn.metadata.name;
  }

  private get maxItems(): number {
    const n = Number(triggerOf(this.fn.metadata).maxItemsPerInvocation ?? DEFAULT_MAX_ITEMS);
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_ITEMS;
  }

  async run(): Promise<void> {
    let failures = 0;
    while (!this.signal.aborted) {
      try {
        this.checkpoint = await this.store.get(checkpointKey(this.name));
        // No checkpoint yet (first start): begin from a listing, as after compaction (a watch from 0 means "from now").
        if (!this.checkpoint) await this.resync();
        else await this.follow(Number(this.checkpoint.value.revision));
        failures = 0;
      } catch (err) {
        if (this.signal.aborted) return;
        if (isStoreError(err, 'Gone')) {
          await this.resync();
          continue;
        }
        this.onError(this.name, err);
        await sleep(Math.min(500 * 2 ** failures++, MAX_BACKOFF_MS), this.signal);
      }
    }
  }

  /** follow delivers every change after `from`, batch by batch, until the watch ends. */
  private async follow(from: number): Promise<void> {
    // Its own signal too: a failed delivery must end the watch behind it, not leave it reading.
    const ended = new AbortController();
    const watch = this.store.watch(FEED_PREFIX, from, { signal: AbortSignal.any([this.signal, ended.signal]), progressIntervalMs: 0 });
    try {
      for await (const batch of batchesOf(watch, this.maxItems)) {
        // In-process deliveries can run on promises alone: let I/O (requests, signals) in between batches.
        await new Promise((resolve) => setImmediate(resolve));
        const documents = batch.map((e) => documentFromWatchEvent(e, this.cluster)!);
        await this.deliver(documents, batch[batch.length - 1]!.kv.modRevision);
        if (this.signal.aborted) return;
      }
    } finally {
      ended.abort();
    }
  }

  /** resync delivers every current object as a put, then checkpoints at the listing's revision. */
  private async resync(): Promise<void> {
    let startAfter: string | undefined;
    let revision = 0;
    for (;;) {
      const page = await this.store.list(FEED_PREFIX, { limit: this.maxItems, startAfter, revision });
      revision = page.revision;
      const documents = page.items.map((kv) => documentFromWatchEvent({ type: 'put', kv }, this.cluster)!);
      if (documents.length > 0) await this.invokeUntilDone(documents);
      if (!page.more || page.items.length === 0 || this.signal.aborted) break;
      startAfter = page.items[page.items.length - 1]!.key;
    }
    if (!this.signal.aborted) await this.saveCheckpoint(revision);
  }

  private async deliver(documents: ChangeFeedDocument[], lastRevision: number): Promise<void> {
    await this.invokeUntilDone(documents);
    if (!this.signal.aborted) await this.saveCheckpoint(lastRevision);
  }

  /**
   * invokeUntilDone invokes the function with `documents`, and again after a failure as far as
   * its retry policy says (none: the batch is given up, as the Functions host does).
   */
  private async invokeUntilDone(documents: ChangeFeedDocument[]): Promise<void> {
    const max = this.retry?.maxRetryCount ?? 0;
    for (let retry = 0; !this.signal.aborted; retry++) {
      try {
        const retryContext = this.retry ? { retryCount: retry, maxRetryCount: max } : undefined;
        await invokeFunction(this.fn, documents, { ...this.options, retryContext });
        return;
      } catch (err) {
        this.onError(this.name, err);
        if (!this.retry || (max !== -1 && retry >= max)) {
          this.onError(this.name, new Error(`a batch of ${documents.length} change(s) is given up after ${retry + 1} attempt(s) (retry policy: ${this.retry ? `maxRetryCount ${max}` : 'none'})`));
          return;
        }
        await sleep(this.retry.delayMs(retry + 1), this.signal);
      }
    }
  }

  private async saveCheckpoint(revision: number): Promise<void> {
    const key = checkpointKey(this.name);
    const value = { revision, updated: new Date().toISOString() };
    try {
      this.checkpoint = this.checkpoint
        ? await this.store.update(key, value, this.checkpoint.modRevision)
        : await this.store.create(key, value);
    } catch (err) {
      // Someone else moved it (another host on the same store): take theirs and go on from ours next time.
      if (!isStoreError(err, 'Conflict') && !isStoreError(err, 'AlreadyExists') && !isStoreError(err, 'NotFound')) throw err;
      this.checkpoint = await this.store.get(key);
      this.checkpoint = this.checkpoint ? await this.store.update(key, value, this.checkpoint.modRevision) : await this.store.create(key, value);
    }
  }
}

/**
 * ChangeFeedTriggerRunner runs every cosmosDBTrigger function from the store the provider gives.
 * Construct it only when a provider exists (the host refuses such functions otherwise).
 */
export class ChangeFeedTriggerRunner {
  private readonly functions: RegisteredFunction[];
  private readonly stopping = new AbortController();
  private readonly running: Array<Promise<void>> = [];

  constructor(
    functions: Iterable<RegisteredFunction>,
    private readonly options: InvokeOptions,
    private readonly provider: ChangeFeedStoreProvider,
    private readonly onError: ChangeFeedErrorLogger,
  ) {
    this.functions = [...functions].filter((fn) => triggerOf(fn.metadata).type === COSMOS_TRIGGER);
  }

  /** start opens each function's store and begins delivering. */
  start(): void {
    for (const fn of this.functions) {
      const run = (async () => {
        const { store, cluster } = await this.provider(triggerOf(fn.metadata), fn);
        await new FeedRunner(fn, store, cluster, this.options, this.onError, this.stopping.signal).run();
      })().catch((err: unknown) => this.onError(fn.metadata.name, err));
      this.running.push(run);
    }
  }

  /** stop ends every feed after its current invocation (its checkpoint is then not advanced past it). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled(this.running);
  }
}
