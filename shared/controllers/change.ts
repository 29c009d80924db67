/**
 * The neutral change record controllers consume: one write to the store, whatever delivered it
 * (the Cosmos DB change feed in Azure, the store's watch on the local host).
 */
import type { KubeObject } from '../api/objects.js';

/**
 * Change is one write to the store.
 * - `put`: `key` was created (`prevValue` absent) or updated (`prevValue` is what it replaced,
 *   when the source knows it).
 * - `delete`: `key` was deleted; `value` is the last version it had.
 * `revision` is the store revision of the write; changes of one key arrive in revision order.
 */
export interface Change {
  key: string;
  type: 'put' | 'delete';
  value: KubeObject;
  prevValue?: KubeObject;
  revision: number;
  /** The API request that made the write, when the writer recorded it (shared/telemetry/requestlog.ts). */
  requestId?: string;
}
