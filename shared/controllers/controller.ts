/**
 * What a controller is, as the change feed and its work queue see it: which changes it cares
 * about, how a change becomes reconcile keys, and a level-triggered, idempotent reconcile.
 */
import type { ResourceType } from '../api/resources.js';
import type { Change } from './change.js';
import type { ApiClient } from './client.js';
import type { Informer } from './informer.js';
import type { ReconcileOutcome } from './queue.js';
import type { StorageSchema } from '../store/schema.js';

/** ControllerContext is what a reconcile may use: the API (never the store directly) and a clock. */
export interface ControllerContext {
  client: ApiClient;
  now: () => Date;
  /**
   * The process's shared watch-fed cache of a resource (informer.ts), where the runtime keeps
   * them: a reconcile that would list many objects reads it after a consistent sync
   * (`syncToCurrent`), and lists through the API when that fails or no cache is given.
   */
  informer?: (resource: ResourceType) => Informer;
  /** The cluster CA (PEM) pods use to verify the API server (the root CA publisher's); undefined: none is known. */
  clusterCaPem?: string;
  /** The store's layout as this process opened it (shared/store/schema.ts); undefined: not known here. */
  storage?: StorageSchema;
}

/**
 * Controller describes one controller.
 *
 * `reconcile(key)` re-reads the desired and the actual state through the API, acts, and returns;
 * a key whose object is gone returns quietly; a throw asks for a retry with back-off. It may be
 * called any number of times for the same key, also concurrently with other keys.
 *
 * A controller may instead run as a durable orchestration per key: see OrchestratedController.
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

/**
 * OrchestratedController describes a controller whose reconcile runs as an eternal durable
 * orchestration per key (functions/orchestration.ts: `registerReconcileOrchestration`). The change
 * feed maps changes to keys exactly as for an in-process Controller, then starts or signals the
 * instance `<orchestration>:<key>` (`signalReconcile`) instead of queueing the key in process:
 * the orchestration is the durable work queue (signals coalesce) and the requeue/resync timer.
 */
export interface OrchestratedController {
  name: string;
  /** The kinds whose changes may produce keys (`'*'`: every kind). */
  kinds: readonly string[] | '*';
  /** keysFor maps one change to the keys to reconcile (none is fine). Pure. */
  keysFor(change: Change): string[];
  /** The orchestrator registered with registerReconcileOrchestration for this controller. */
  orchestration: string;
  /**
   * resync lists every key that may need work. The change feed signals them once when it starts
   * in a process (a fresh durable store, or changes acted on by no instance, still converge);
   * optional: without it only changes reach the orchestrations.
   */
  resync?(ctx: ControllerContext): Promise<string[]>;
}

/** ControllerDescriptor is one registry entry: an in-process or an orchestrated controller. */
export type ControllerDescriptor = Controller | OrchestratedController;

/** isOrchestrated tells an orchestrated controller from an in-process one. */
export function isOrchestrated(c: ControllerDescriptor): c is OrchestratedController {
  return 'orchestration' in c && typeof c.orchestration === 'string';
}
