/** The garbage collector's descriptor: every kind's changes, keyed by owner (see reconcile.ts). */
import { RESOURCES } from '../../api/resources.js';
import type { Controller } from '../controller.js';
import { garbageCollectorKeys } from './keys.js';
import { OwnerIndex } from './owners.js';
import { reconcileOwner } from './reconcile.js';

/**
 * garbageCollectorWith builds the collector around its own OwnerIndex: every change it maps is
 * indexed before its keys are queued, and the resync (one list of every kind) fills the index.
 */
export function garbageCollectorWith(index = new OwnerIndex()): Controller {
  return {
    name: 'garbagecollector',
    kinds: '*',
    keysFor: (change) => {
      index.observe(change);
      return garbageCollectorKeys(change);
    },
    reconcile: (key, ctx) => reconcileOwner(key, ctx, index),
    async resync(ctx) {
      const keys = new Set<string>();
      for (const resource of RESOURCES) {
        if (!resource.verbs.includes('list') || resource.notStored) continue;
        for (const value of await ctx.client.listAll(resource)) {
          index.put(value, true);
          for (const key of garbageCollectorKeys({ key: '', type: 'put', value, revision: 0 })) keys.add(key);
        }
      }
      index.markSynced();
      return [...keys];
    },
  };
}

/** garbageCollector is the ownerReferences controller: background, foreground and orphan cascades. */
export const garbageCollector: Controller = garbageCollectorWith();
