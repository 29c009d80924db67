/**
 * The route controller (the cloud-controller-manager's route controller): one route per node in
 * the cluster's route table (shared/nodes/routes.ts), from the Node's pod CIDR to its InternalIP,
 * so that pod addresses are routable between machines. Keys are node names.
 *
 * reconcile(name) compares the route the Node wants (none when the Node is gone, or has no pod
 * CIDR or no InternalIP yet) with the table's route of that name, and writes only a difference. A
 * failed write records upstream's `FailedToCreateRoute` warning on the Node and fails the
 * reconcile, so the queue retries it with back-off.
 *
 * staleRoutes is the start's repair: the routes inside the cluster CIDR that no Node wants (as
 * upstream, a route outside the cluster CIDR is someone else's and never touched).
 */
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { podCIDRsOf } from '../../api/node.js';
import { parseIPv4CIDR } from '../../apiserver/allocator.js';
import type { NodeRoute, NodeRoutes } from '../../nodes/routes.js';
import { resourceFor } from '../client.js';
import type { ControllerContext } from '../controller.js';
import { recorderFor } from '../events.js';

const NODES = resourceFor('v1', 'Node');

/** ROUTE_CONTROLLER is the controller's event source (upstream's). */
export const ROUTE_CONTROLLER = 'route_controller';

/** internalIPOf is a Node's first InternalIP ('' when it reports none). */
export function internalIPOf(node: Readonly<KubeObject>): string {
  const addresses = isRecord(node.status) && Array.isArray(node.status.addresses) ? node.status.addresses : [];
  const internal = addresses.find((a) => isRecord(a) && a.type === 'InternalIP' && typeof a.address === 'string');
  return isRecord(internal) ? String(internal.address) : '';
}

/** desiredRoute is the route a Node wants: its IPv4 pod CIDR to its InternalIP; undefined until it has both. */
export function desiredRoute(node: Readonly<KubeObject>): NodeRoute | undefined {
  const cidr = podCIDRsOf(node).find((c) => parseIPv4CIDR(c) !== undefined);
  const nextHopIP = internalIPOf(node);
  if (!cidr || !nextHopIP) return undefined;
  return { name: String(readMetadata(node).name), destinationCIDR: cidr, nextHopIP };
}

const sameRoute = (a: NodeRoute | undefined, b: NodeRoute | undefined) => a?.destinationCIDR === b?.destinationCIDR && a?.nextHopIP === b?.nextHopIP;

/** reconcileNodeRoute makes the table's route `name` what Node `name` wants; see the file's comment. */
export async function reconcileNodeRoute(name: string, ctx: ControllerContext, routes: NodeRoutes): Promise<void> {
  const node = await ctx.client.getOrUndefined(NODES, { name });
  const want = node ? desiredRoute(node) : undefined;
  const have = (await routes.list()).find((r) => r.name === name);
  if (!want) {
    if (have) await routes.remove(name);
    return;
  }
  if (have && sameRoute(have, want)) return;
  const started = Date.now();
  try {
    await routes.ensure(want);
  } catch (err) {
    const seconds = ((Date.now() - started) / 1000).toFixed(3);
    await recorderFor(ctx, ROUTE_CONTROLLER).warning(node!, 'FailedToCreateRoute', `Could not create route ${name} ${want.destinationCIDR} for node ${name} after ${seconds}s: ${(err as Error).message}`);
    throw err;
  }
}

/** isInCIDR tells whether `cidr` lies inside `outer` (both IPv4). */
function isInCIDR(cidr: string, outer: string): boolean {
  const inner = parseIPv4CIDR(cidr);
  const range = parseIPv4CIDR(outer);
  if (!inner || !range || inner.bits < range.bits) return false;
  const size = 2 ** (32 - range.bits);
  return inner.network >= range.network && inner.network < range.network + size;
}

/** staleRoutes lists the routes of `table` inside `clusterCIDR` that no Node of `nodes` wants as they are (pure). */
export function staleRoutes(table: readonly NodeRoute[], nodes: readonly Readonly<KubeObject>[], clusterCIDR: string): NodeRoute[] {
  const wanted = new Map(nodes.map(desiredRoute).filter((r): r is NodeRoute => r !== undefined).map((r) => [r.name, r]));
  return table.filter((r) => isInCIDR(r.destinationCIDR, clusterCIDR) && !sameRoute(r, wanted.get(r.name)));
}
