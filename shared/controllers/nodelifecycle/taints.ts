/**
 * The condition-taint controller: the event-driven half of the node lifecycle controller
 * (upstream taints nodes by condition on every node update, not only on its monitor period). A
 * Node change whose taints disagree with its conditions or `spec.unschedulable` — a cordon, an
 * uncordon, an agent posting Ready again — queues that node, and the reconcile fixes its taints
 * at once instead of at the next monitor pass (the pass still does it, should this miss one).
 */
import { findResourceByKind } from '../../api/resources.js';
import { readMetadata } from '../../api/objects.js';
import type { Change } from '../change.js';
import type { Controller, ControllerContext } from '../controller.js';
import { nextTaints, taintsOf, wantedTaints } from './health.js';
import { syncTaints } from './monitor.js';

const NODES = findResourceByKind('v1', 'Node')!;

/** NODE_TAINT_CONTROLLER is the controller's name. */
export const NODE_TAINT_CONTROLLER = 'node-taints';

/** nodeTaintKeys maps a Node change to its name when its taints need work. Pure. */
export function nodeTaintKeys(change: Change): string[] {
  if (change.value.kind !== 'Node' || change.type === 'delete') return [];
  const name = readMetadata(change.value).name;
  // The clock only stamps timeAdded; whether anything changes does not depend on it.
  return name && nextTaints(taintsOf(change.value), wantedTaints(change.value), new Date(0)) ? [name] : [];
}

/** reconcileNodeTaints re-reads node `name` and makes its controller-owned taints follow its conditions. */
export async function reconcileNodeTaints(name: string, ctx: ControllerContext): Promise<void> {
  const node = await ctx.client.getOrUndefined(NODES, { name });
  if (node) await syncTaints(ctx, node);
}

/** nodeTaintController keeps nodes' condition taints, in-process, on every Node change. */
export const nodeTaintController: Controller = {
  name: NODE_TAINT_CONTROLLER,
  kinds: ['Node'],
  keysFor: nodeTaintKeys,
  reconcile: reconcileNodeTaints,
  async resync(ctx) {
    const nodes = await ctx.client.listAll(NODES);
    return nodes.filter((n) => nextTaints(taintsOf(n), wantedTaints(n), ctx.now())).map((n) => String(readMetadata(n).name));
  },
};
