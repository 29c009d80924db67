/**
 * settleInChunks: many API calls from one reconcile without holding the event loop. In-process
 * calls resolve through microtasks (the SQLite store answers synchronously), so 500 of them
 * started at once run back to back without letting a single socket be served: /readyz and Lease
 * renewals waited seconds behind a ReplicaSet's burst (issue 15). Calls go `chunk` at a time,
 * with a turn of the event loop between chunks.
 */

/** CALL_CHUNK is how many calls a controller runs at once between two turns of the event loop. */
export const CALL_CHUNK = 100;

/** yieldToEventLoop resolves after pending I/O callbacks have run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** settleInChunks calls `fn` on every item, `chunk` at a time, yielding between chunks; results in item order. */
export async function settleInChunks<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, chunk = CALL_CHUNK): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = [];
  for (let i = 0; i < items.length; i += chunk) {
    if (i > 0) await yieldToEventLoop();
    results.push(...(await Promise.allSettled(items.slice(i, i + chunk).map(fn))));
  }
  return results;
}
