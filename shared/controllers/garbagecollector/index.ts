/** The garbage collector's descriptor: every kind's changes, keyed by owner (see reconcile.ts). */
import { RESOURCES } from '../../api/resources.js';
import type { Controller } from '../controller.js';
import { garbageCollectorKeys } from './keys.js';
import { reconcileOwner } from './reconcile.js';

/** garbageCollector is the ownerReferences controller: background, foreground and orphan cascades. */
export const garbageCollector: Controller = {
  name: 'garbagecollector',
  kinds: '*',
  keysFor: garbageCollectorKeys,
  reconcile: reconcileOwner,
  async resync(ctx) {
    const keys = new Set<string>();
    for (const resource of RESOURCES) {
      if (!resource.verbs.includes('list')) continue;
      for (const value of await ctx.client.listAll(resource)) {
        for (const key of garbageCollectorKeys({ key: '', type: 'put', value, revision: 0 })) keys.add(key);
      }
    }
    return [...keys];
  },
};
