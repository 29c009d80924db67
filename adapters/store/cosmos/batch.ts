/**
 * Transactional batches: every write is ONE batch in the cluster's partition,
 * `[replace counter (If-Match its etag), change the current item, create the log item]`.
 *
 * On Cosmos DB the batch is atomic: when an operation fails, the one that failed carries its
 * status and every other one 424, and nothing is applied. The emulator applies operations one
 * by one and stops at the first failure WITHOUT undoing the earlier ones. Because the counter is
 * the first operation, the only partial outcome possible is "counter bumped, object unchanged":
 * the revision is consumed by nothing. `executeBatch` detects it (an operation before the failed
 * one succeeded, which an atomic backend never reports) and the store then writes an
 * `abandoned` log item for that revision (`NON_ATOMIC_FALLBACK`), so watchers need not wait for
 * the gap. This path runs only when the backend itself shows it is not atomic.
 */
import type { Container, OperationInput } from '@azure/cosmos';
import { StoreError } from '../../../shared/store/store.js';
import { httpStatusOf, type CosmosCalls } from './calls.js';

/** BatchOperationResult is one operation's answer. */
export interface BatchOperationResult {
  statusCode: number;
  eTag?: string;
  resourceBody?: Record<string, unknown>;
}

/** BatchOutcome is a batch's answer, classified. */
export interface BatchOutcome {
  ok: boolean;
  results: BatchOperationResult[];
  /** Index of the operation that failed (-1 when ok). */
  failedIndex: number;
  /** Status of the failed operation (0 when ok). */
  failedStatus: number;
  /** True when operations before the failed one were applied: the backend is not atomic. */
  partiallyApplied: boolean;
}

/** NON_ATOMIC_FALLBACK names the repair made when `partiallyApplied` is reported: see the file header. */
export const NON_ATOMIC_FALLBACK = 'abandoned-revision-marker';

const isSuccess = (status: number) => status >= 200 && status < 300;

function classify(results: BatchOperationResult[], batchStatus: number | undefined): BatchOutcome {
  const failedIndex = results.findIndex((r) => !isSuccess(r.statusCode) && r.statusCode !== 424);
  if (failedIndex < 0 && (batchStatus === undefined || isSuccess(batchStatus))) {
    return { ok: true, results, failedIndex: -1, failedStatus: 0, partiallyApplied: false };
  }
  const failedStatus = failedIndex >= 0 ? results[failedIndex].statusCode : (batchStatus ?? 500);
  const partiallyApplied = results.slice(0, Math.max(failedIndex, 0)).some((r) => isSuccess(r.statusCode));
  return { ok: false, results, failedIndex, failedStatus, partiallyApplied };
}

/** executeBatch runs `operations` as one transactional batch in partition `cluster`. */
export async function executeBatch(
  calls: CosmosCalls,
  container: Container,
  cluster: string,
  operations: OperationInput[],
): Promise<BatchOutcome> {
  // The emulator needs each operation's partition key; Cosmos DB accepts it when it matches.
  const withKeys = operations.map((op) => ({ ...op, partitionKey: cluster }) as OperationInput);
  try {
    const response = await calls.run(() => container.items.batch(withKeys, cluster));
    return classify((response.result ?? []) as BatchOperationResult[], response.code);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const status = httpStatusOf(err);
    const body = (err as { cause?: { body?: unknown } }).cause?.body;
    if (status !== undefined && Array.isArray(body)) return classify(body as BatchOperationResult[], status);
    throw new StoreError('Unavailable', `cosmos batch failed with status ${status}`);
  }
}
