/**
 * Read-modify-write helpers for controllers: re-read on a lost race (409 Conflict), as client-go's
 * RetryOnConflict, and treat a vanished object as done.
 */
import type { ResourceType } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import { type KubeObject } from '../api/objects.js';
import type { ApiClient, ObjectName } from './client.js';

/** Mutation edits a private copy of the object in place and tells whether it changed anything. */
export type Mutation = (obj: KubeObject) => boolean;

/**
 * updateWithRetry re-reads `ref`, applies `mutate` to a copy and writes it back (PUT with the
 * read resourceVersion, through `subresource` if given), retrying on Conflict. Resolves to the
 * written object, the unchanged one when `mutate` changed nothing, or undefined when it is gone.
 */
export async function updateWithRetry(
  client: ApiClient, r: ResourceType, ref: ObjectName, mutate: Mutation, subresource?: string, attempts = 10,
): Promise<KubeObject | undefined> {
  for (let i = 1; ; i++) {
    const live = await client.getOrUndefined(r, ref);
    if (!live) return undefined;
    const copy = structuredClone(live);
    if (!mutate(copy)) return live;
    try {
      return await client.update(r, copy, { subresource });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      if (!(err instanceof ApiError && err.reason === 'Conflict') || i >= attempts) throw err;
    }
  }
}

/** ignoreNotFound runs `call`, answering undefined instead of a 404 ApiError. */
export async function ignoreNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}
