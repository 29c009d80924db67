/**
 * The node IPAM controller's descriptor (reconcile.ts says what it does). Its keys are node
 * names: a Node's create, delete, or a change of its pod CIDRs (a heartbeat changes nothing here).
 * Its resync is the repair pass of a start: every Node's CIDR allocated, allocations of deleted
 * Nodes released (upstream repairs its bitmap from the Nodes at start the same way), then the
 * Nodes still without a CIDR queued.
 */
import { readMetadata } from '../../api/objects.js';
import { podCIDRsOf } from '../../api/node.js';
import type { Change } from '../change.js';
import { resourceFor } from '../client.js';
import type { Controller } from '../controller.js';
import type { PodCIDRAllocator } from './cidrs.js';
import { reconcileNodeCIDR } from './reconcile.js';

const NODES = resourceFor('v1', 'Node');

/** nodeCIDRKeys maps a Node change to its name when it may need work: created, deleted, or its pod CIDRs changed. */
export function nodeCIDRKeys(change: Change): string[] {
  const name = readMetadata(change.value).name;
  if (!name) return [];
  if (change.type === 'put' && change.prevValue && podCIDRsOf(change.prevValue).join() === podCIDRsOf(change.value).join()) return [];
  return [name];
}

/** nodeIpamController is the descriptor; `allocator` gives the composition root's PodCIDRAllocator. */
export function nodeIpamController(allocator: () => Promise<PodCIDRAllocator>): Controller {
  return {
    name: 'nodeipam',
    kinds: ['Node'],
    keysFor: nodeCIDRKeys,
    reconcile: async (name, ctx) => reconcileNodeCIDR(name, ctx, await allocator()),
    async resync(ctx) {
      const nodes = await ctx.client.listAll(NODES);
      const held = nodes.flatMap((n) => podCIDRsOf(n).slice(0, 1).map((cidr) => ({ node: String(readMetadata(n).name), cidr })));
      const report = await (await allocator()).repair(held, ctx.now());
      for (const conflict of report.conflicts) console.warn(`nodeipam: repair: ${conflict}`);
      return nodes.filter((n) => podCIDRsOf(n).length === 0).map((n) => String(readMetadata(n).name));
    },
  };
}
