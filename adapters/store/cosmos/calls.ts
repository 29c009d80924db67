/**
 * CosmosCalls runs every request the adapter makes: it counts round trips, retries throttled
 * requests (HTTP 429) after the server's retry-after, and turns transport failures into
 * `Unavailable`.
 *
 * Throttling is handled HERE, explicitly and bounded: when the adapter builds its own client it
 * sets the SDK's throttle retries to 0, so each 429 reaches this layer, which waits the server's
 * `x-ms-retry-after-ms` (or `defaultRetryAfterMs` when absent), at most `maxRetries` times and
 * `maxWaitMs` in total, then fails with `Unavailable`. A client passed in keeps its own SDK retry
 * policy, which runs first (SDK default: 9 retries, 30 s).
 */
import type { Container, ItemDefinition, SqlQuerySpec } from '@azure/cosmos';
import { StoreError } from '../../../shared/store/store.js';

/** ThrottlePolicy bounds the adapter's own 429 retries. */
export interface ThrottlePolicy {
  maxRetries: number;
  maxWaitMs: number;
  /** Used when a 429 carries no retry-after. */
  defaultRetryAfterMs: number;
}

/** DEFAULT_THROTTLE_POLICY mirrors the SDK's defaults (9 retries, 30 s in total). */
export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = { maxRetries: 9, maxWaitMs: 30_000, defaultRetryAfterMs: 100 };

/** CosmosStats counts what the adapter asked of Cosmos DB. */
export interface CosmosStats {
  /** Requests the adapter made: a point operation, a batch, or one page of a query. */
  roundTrips: number;
  /** 429 answers retried by the adapter. */
  throttled: number;
}

/** httpStatusOf is the HTTP status of an SDK failure (a batch failure wraps it in `cause`). */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.cause?.code === 'number') return e.cause.code;
  return undefined;
}

function retryAfterMsOf(err: unknown): number | undefined {
  const e = err as { retryAfterInMs?: number; cause?: { retryAfterInMs?: number } };
  return e?.retryAfterInMs ?? e?.cause?.retryAfterInMs;
}

const TRANSPORT_RETRIES = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CosmosCalls wraps requests with counting, throttle retries and transport-error mapping. */
export class CosmosCalls {
  readonly stats: CosmosStats = { roundTrips: 0, throttled: 0 };
  private closed = false;

  constructor(private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY) {}

  /** close makes every later `run` fail with Unavailable. */
  close(): void {
    this.closed = true;
  }

  /**
   * run performs one request. HTTP failures other than 429 are rethrown as the SDK raised them,
   * for the caller to classify by status; failures without an HTTP status (transport errors)
   * become Unavailable, after up to TRANSPORT_RETRIES retries when the request is `idempotent`
   * (reads and queries). Writes are never retried on a transport error: the batch may have been
   * applied, and a second one would apply the change again.
   */
  async run<T>(request: () => Promise<T>, idempotent = false): Promise<T> {
    let waitedMs = 0;
    let transportRetries = 0;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new StoreError('Unavailable', 'cosmos store is closed');
      this.stats.roundTrips++;
      try {
        return await request();
      } catch (err) {
        const status = httpStatusOf(err);
        if (status === undefined && idempotent && transportRetries++ < TRANSPORT_RETRIES && !this.closed) continue;
        if (status === undefined) throw new StoreError('Unavailable', `cosmos request failed: ${(err as Error).message}`);
        if (status !== 429) throw err;
        const delay = retryAfterMsOf(err) ?? this.policy.defaultRetryAfterMs;
        if (attempt >= this.policy.maxRetries || waitedMs + delay > this.policy.maxWaitMs) {
          throw new StoreError('Unavailable', `cosmos throttled (429) after ${attempt + 1} attempts`);
        }
        this.stats.throttled++;
        waitedMs += delay;
        await sleep(delay);
      }
    }
  }

  /**
   * queryPage fetches one page of a single-partition query, resuming at `continuationToken`.
   * The query must filter on `c.cluster = @cluster`; the parameter is added here.
   */
  async queryPage<T extends ItemDefinition>(
    container: Container,
    cluster: string,
    spec: SqlQuerySpec,
    maxItemCount: number,
    continuationToken?: string,
  ): Promise<{ items: T[]; continuationToken?: string }> {
    // Queries name `@cluster` too: the emulator ignores the partition key of a query.
    const scoped: SqlQuerySpec = { ...spec, parameters: [...(spec.parameters ?? []), { name: '@cluster', value: cluster }] };
    const page = await this.run(() =>
      container.items.query<T>(scoped, { partitionKey: cluster, maxItemCount, continuationToken }).fetchNext(),
    true);
    return { items: page.resources, continuationToken: page.continuationToken || undefined };
  }

  /**
   * queryAll fetches every page of a single-partition query (each page retried on its own).
   * Pages are large: Cosmos DB still ends a page at about 4 MB, and the emulator re-runs the
   * whole query for every page.
   */
  async queryAll<T extends ItemDefinition>(container: Container, cluster: string, spec: SqlQuerySpec, pageSize = 10_000): Promise<T[]> {
    const all: T[] = [];
    let token: string | undefined;
    do {
      const page = await this.queryPage<T>(container, cluster, spec, pageSize, token);
      all.push(...page.items);
      token = page.continuationToken;
    } while (token);
    return all;
  }
}
