/**
 * What a controller is, as the change feed and its work queue see it: which changes it cares
 * about, how a change becomes reconcile keys, and a level-triggered, idempotent reconcile.
 */
import type { Change } from './change.js';
import type { ApiClient } from './client.js';
import type { ReconcileOutcome } from './queue.js';

/** ControllerContext is what a reconcile may use: the API (never the store directly) and a clock. */
export interface ControllerContext {
  client: ApiClient;
  now: () => Date;
}

/**
 * Controller describes one controller.
 *
 * `reconcile(key)` re-reads the desired and the actual state through the API, acts, and returns;
 * a key whose object is gone returns quietly; a throw asks for a retry with back-off. It may be
 * called any number of times for the same key, also concurrently with other keys.
 *
 * Later controllers (scheduling, replication) will be durable orchestrations: their descriptor
 * will name the orchestration to start or signal per key instead of a reconcile function; the
 * change feed keeps mapping changes to keys the same way.
 */
export interface Controller {
  name: string;
  /** The kinds whose changes may produce keys (`'*'`: every kind). */
  kinds: readonly string[] | '*';
  /** keysFor maps one change to the keys to reconcile (none is fine). Pure. */
  keysFor(change: Change): string[];
  reconcile(key: string, ctx: ControllerContext): Promise<ReconcileOutcome | void>;
  /** resync lists every key that may need work (after a restart, or when changes were lost). */
  resync(ctx: ControllerContext): Promise<string[]>;
}
