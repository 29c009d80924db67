/**
 * The node IPAM controller (kube-controller-manager's `nodeipam` with the range allocator): every
 * Node gets `spec.podCIDR`/`spec.podCIDRs` from the cluster CIDR, and a deleted Node's CIDR is
 * released. Keys are node names.
 *
 * reconcile(name):
 * - Node gone: release whatever it held.
 * - Node with pod CIDRs: make sure its allocation exists (the repair of an allocation lost or
 *   never written) and release any other it holds (a lost race); a CIDR another node holds, or one
 *   outside the cluster CIDR, is left on the Node with a `CIDRAssignmentFailed` warning, as
 *   upstream leaves it.
 * - Node without: allocate (reusing one it already holds, so a retry never takes a second) and
 *   merge-patch the spec. Two controllers racing both patch; the API accepts only the first
 *   (`node updates may not change podCIDR except from "" to valid`), and the loser releases its
 *   own at its next reconcile of the Node (the patch made one). When the range is exhausted the
 *   Node gets upstream's `CIDRNotAvailable` event and the reconcile fails, so the queue retries with
 *   back-off until a Node's deletion frees a CIDR.
 */
import { readMetadata, type KubeObject } from '../../api/objects.js';
import { podCIDRsOf } from '../../api/node.js';
import { ApiError } from '../../api/status.js';
import { AllocationError } from '../../apiserver/allocator.js';
import { resourceFor } from '../client.js';
import type { ControllerContext } from '../controller.js';
import { recorderFor } from '../events.js';
import type { PodCIDRAllocator } from './cidrs.js';

const NODES = resourceFor('v1', 'Node');

/** NODE_IPAM_CONTROLLER is the controller's event source (upstream: `cidrAllocator`). */
export const NODE_IPAM_CONTROLLER = 'cidrAllocator';

/** reconcileNodeCIDR gives Node `name` a pod CIDR, or releases what a deleted Node held; see the file's comment. */
export async function reconcileNodeCIDR(name: string, ctx: ControllerContext, allocator: PodCIDRAllocator): Promise<void> {
  const node = await ctx.client.getOrUndefined(NODES, { name });
  if (!node) return allocator.release(name);
  const held = podCIDRsOf(node);
  if (held.length > 0) return occupy(node, held[0], ctx, allocator);
  let cidr: string;
  try {
    cidr = await allocator.allocate(name);
  } catch (err) {
    if (!(err instanceof AllocationError)) throw err;
    await recorderFor(ctx, NODE_IPAM_CONTROLLER).normal(node, 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
    throw new Error(`failed to allocate cidr from cluster cidr ${allocator.clusterCIDR}: ${err.message}`, { cause: err });
  }
  try {
    await ctx.client.patch(NODES, { name }, { spec: { podCIDR: cidr, podCIDRs: [cidr] } }, 'merge');
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return allocator.release(name);
    // 422: another allocator set the Node's CIDRs first; its change brings this Node back here, where ours is released.
    if (err instanceof ApiError && err.code === 422) return;
    throw err;
  }
}

async function occupy(node: Readonly<KubeObject>, cidr: string, ctx: ControllerContext, allocator: PodCIDRAllocator): Promise<void> {
  const name = String(readMetadata(node).name);
  try {
    await allocator.occupy(name, cidr);
  } catch (err) {
    if (!(err instanceof AllocationError)) throw err;
    await recorderFor(ctx, NODE_IPAM_CONTROLLER).warning(node, 'CIDRAssignmentFailed', `Node ${name}'s pod CIDR ${cidr} cannot be recorded in cluster CIDR ${allocator.clusterCIDR}: ${err.message}`);
    return;
  }
  await allocator.release(name, cidr);
}
