/**
 * The route controller's descriptor (reconcile.ts says what it does). Its keys are node names: a
 * Node's create, delete, or a change of its pod CIDRs or InternalIP (heartbeats change nothing
 * here). Its resync is the start's repair: stale routes removed, then every Node queued.
 */
import { readMetadata } from '../../api/objects.js';
import type { NodeRoutes } from '../../nodes/routes.js';
import type { Change } from '../change.js';
import { resourceFor } from '../client.js';
import type { Controller } from '../controller.js';
import { desiredRoute, reconcileNodeRoute, staleRoutes } from './reconcile.js';

const NODES = resourceFor('v1', 'Node');

/** nodeRouteKeys maps a Node change to its name when its route may change: created, deleted, new pod CIDR or address. */
export function nodeRouteKeys(change: Change): string[] {
  const name = readMetadata(change.value).name;
  if (!name) return [];
  if (change.type === 'put' && change.prevValue && JSON.stringify(desiredRoute(change.prevValue)) === JSON.stringify(desiredRoute(change.value))) return [];
  return [name];
}

/** routeController is the descriptor; `routes` gives the composition root's NodeRoutes, `clusterCIDR` the range whose routes it owns. */
export function routeController(routes: () => Promise<NodeRoutes>, clusterCIDR: string): Controller {
  return {
    name: 'routes',
    kinds: ['Node'],
    keysFor: nodeRouteKeys,
    reconcile: async (name, ctx) => reconcileNodeRoute(name, ctx, await routes()),
    async resync(ctx) {
      const table = await routes();
      const nodes = await ctx.client.listAll(NODES);
      for (const stale of staleRoutes(await table.list(), nodes, clusterCIDR)) {
        // A route whose node now wants another is rewritten by that node's key, not removed.
        if (!nodes.some((n) => readMetadata(n).name === stale.name && desiredRoute(n))) await table.remove(stale.name);
      }
      return nodes.map((n) => String(readMetadata(n).name));
    },
  };
}
