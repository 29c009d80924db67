/**
 * The node pool status controller: keeps each NodePool's status (nodes, readyNodes,
 * nodeVersions, and version once every node reports the same release) current from its Nodes.
 * Keys are pool names: a Node `<pool>-<n>` changing (registered, Ready flipping, removed) names
 * its pool. A pool whose object is gone returns quietly; an unchanged status is not written.
 */
import { deepEqual, isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { resourceFor } from '../client.js';
import type { Change } from '../change.js';
import type { Controller, ControllerContext } from '../controller.js';
import { NODEPOOLS } from '../../upgrade/objects.js';
import { nodePoolOf, poolNodes } from '../../upgrade/preview.js';

const NODES = resourceFor('v1', 'Node');

/** isNodeReady tells whether a Node's Ready condition is True. */
export function isNodeReady(node: Readonly<KubeObject>): boolean {
  const conditions = isRecord(node.status) && Array.isArray(node.status.conditions) ? node.status.conditions : [];
  return conditions.some((c) => isRecord(c) && c.type === 'Ready' && c.status === 'True');
}

/** kubeletVersionOf is the release a Node reports ('' when none). */
export function kubeletVersionOf(node: Readonly<KubeObject>): string {
  const info = isRecord(node.status) && isRecord(node.status.nodeInfo) ? node.status.nodeInfo : {};
  return String(info.kubeletVersion ?? '');
}

/** poolStatusFrom computes a pool's status fields from its Nodes (pure). */
export function poolStatusFrom(nodes: readonly Readonly<KubeObject>[]): { nodes: number; readyNodes: number; nodeVersions: Record<string, number>; version?: string } {
  const nodeVersions: Record<string, number> = {};
  for (const n of nodes) {
    const v = kubeletVersionOf(n) || 'unknown';
    nodeVersions[v] = (nodeVersions[v] ?? 0) + 1;
  }
  const versions = Object.keys(nodeVersions);
  return { nodes: nodes.length, readyNodes: nodes.filter(isNodeReady).length, nodeVersions, ...(versions.length === 1 ? { version: versions[0] } : {}) };
}

/** reconcileNodePoolStatus writes pool `key`'s status from its Nodes when it differs. */
export async function reconcileNodePoolStatus(key: string, ctx: ControllerContext): Promise<void> {
  const np = await ctx.client.getOrUndefined(NODEPOOLS, { name: key });
  if (!np) return;
  const current = isRecord(np.status) ? np.status : {};
  const computed = poolStatusFrom(poolNodes(await ctx.client.listAll(NODES), key));
  const next: Record<string, unknown> = { ...current, ...computed };
  if (computed.version === undefined) delete next.version;
  if (deepEqual(next, current)) return;
  await ctx.client.updateStatus(NODEPOOLS, { ...np, status: next });
}

/** nodePoolKeys maps a Node change to its pool (`node-3` → `node`; a labelled Node → its label), and the pool it left when its label changed. */
export function nodePoolKeys(change: Change): string[] {
  const pools = [nodePoolOf(change.value), change.prevValue ? nodePoolOf(change.prevValue) : undefined];
  return [...new Set(pools.filter((p): p is string => p !== undefined))];
}

/** nodePoolStatusController is the registry entry. */
export const nodePoolStatusController: Controller = {
  name: 'nodepool-status',
  kinds: ['Node', 'NodePool'],
  keysFor: (change) => (change.value.kind === 'NodePool' ? [String(readMetadata(change.value).name)] : nodePoolKeys(change)),
  reconcile: reconcileNodePoolStatus,
  async resync(ctx) {
    return (await ctx.client.listAll(NODEPOOLS)).map((np) => String(readMetadata(np).name));
  },
};
