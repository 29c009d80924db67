/**
 * The ReplicaSet controller's descriptors: ReplicaSet and Pod changes, keyed `<namespace>/<name>`
 * (see keys.ts, reconcile.ts). Two ways to run it, chosen by the registry entry:
 * `replicaSetController` reconciles in-process (the ControllerManager's queue);
 * `replicaSetOrchestration` has the change feed start or signal the durable orchestration
 * `replicaset:<namespace>/<name>` that functions/replicaset.ts registers.
 */
import { readMetadata } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import type { Change } from '../change.js';
import type { Controller, ControllerContext, OrchestratedController } from '../controller.js';
import { replicaSetKey, replicaSetKeys, SelectorIndex } from './keys.js';
import { reconcileReplicaSet } from './reconcile.js';

const REPLICASETS = findResourceByKind('apps/v1', 'ReplicaSet')!;
const KINDS = ['ReplicaSet', 'Pod'] as const;

/** REPLICASET_CONTROLLER is the controller's name (and its orchestration's). */
export const REPLICASET_CONTROLLER = 'replicaset';

/** resyncInto lists every ReplicaSet's key, recording each selector in `index`. */
function resyncInto(index: SelectorIndex): (ctx: ControllerContext) => Promise<string[]> {
  return async (ctx) => {
    const all = await ctx.client.listAll(REPLICASETS);
    for (const rs of all) index.observe(rs);
    return all.map((rs) => replicaSetKey(String(readMetadata(rs).namespace), String(readMetadata(rs).name)));
  };
}

/**
 * replicaSetControllerWith builds the in-process descriptor around `reconcile`. Each descriptor
 * holds its own selector index (a cache filled by the changes it maps and by resync).
 */
export function replicaSetControllerWith(reconcile: Controller['reconcile']): Controller {
  const index = new SelectorIndex();
  return { name: REPLICASET_CONTROLLER, kinds: KINDS, keysFor: (change: Change) => replicaSetKeys(change, index), reconcile, resync: resyncInto(index) };
}

/**
 * replicaSetOrchestrationWith builds the orchestrated descriptor; its selector index is filled by
 * the changes it maps and by the resync the change feed runs once when it starts.
 */
export function replicaSetOrchestrationWith(orchestration: string): OrchestratedController {
  const index = new SelectorIndex();
  return { name: REPLICASET_CONTROLLER, kinds: KINDS, keysFor: (change: Change) => replicaSetKeys(change, index), orchestration, resync: resyncInto(index) };
}

/** replicaSetController keeps each ReplicaSet's pods at `spec.replicas`, reconciling in-process. */
export const replicaSetController: Controller = replicaSetControllerWith(reconcileReplicaSet);

/** replicaSetOrchestration is the same controller run as one durable orchestration per ReplicaSet. */
export const replicaSetOrchestration: OrchestratedController = replicaSetOrchestrationWith(REPLICASET_CONTROLLER);
