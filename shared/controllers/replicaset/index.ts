/** The ReplicaSet controller's descriptor: ReplicaSet and Pod changes, keyed `<namespace>/<name>` (see keys.ts, reconcile.ts). */
import { readMetadata } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import type { Controller } from '../controller.js';
import { replicaSetKey, replicaSetKeys, SelectorIndex } from './keys.js';
import { reconcileReplicaSet } from './reconcile.js';

const REPLICASETS = findResourceByKind('apps/v1', 'ReplicaSet')!;

/** REPLICASET_CONTROLLER is the controller's name (and its orchestration's). */
export const REPLICASET_CONTROLLER = 'replicaset';

/**
 * replicaSetControllerWith builds the descriptor around `reconcile`: the reconcile itself when
 * keys run in-process, or a function that hands the key to the controller's orchestration. Each
 * descriptor holds its own selector index (a cache filled by the changes it maps and by resync).
 */
export function replicaSetControllerWith(reconcile: Controller['reconcile']): Controller {
  const index = new SelectorIndex();
  return {
    name: REPLICASET_CONTROLLER,
    kinds: ['ReplicaSet', 'Pod'],
    keysFor: (change) => replicaSetKeys(change, index),
    reconcile,
    async resync(ctx) {
      const all = await ctx.client.listAll(REPLICASETS);
      for (const rs of all) index.observe(rs);
      return all.map((rs) => replicaSetKey(String(readMetadata(rs).namespace), String(readMetadata(rs).name)));
    },
  };
}

/** replicaSetController keeps each ReplicaSet's pods at `spec.replicas`, reconciling in-process. */
export const replicaSetController: Controller = replicaSetControllerWith(reconcileReplicaSet);
