/**
 * The NodeRoutes port: the routes that make pod addresses routable between machines, one per node
 * (`podCIDR` → the node's address), kept by the route controller (shared/controllers/routes/).
 * Upstream's cloud provider `Routes` interface (ListRoutes, CreateRoute, DeleteRoute) in the same
 * role; on Azure a route table on the nodes' subnet (adapters/nodes/routes-azure.ts), locally an
 * in-memory table (adapters/nodes/routes-memory.ts: the local nodes share one bridge, so nothing
 * needs routing).
 *
 * Contract (checked through the port alone by `shared/nodes/routes-contract.ts`):
 * - A route's `name` is its node's name (a DNS-1123 subdomain of at most 80 characters, Azure's
 *   limit for a route name); the table holds at most one route per name.
 * - `list()` returns every route of the table now, the cluster's and any other (the caller tells
 *   them apart by destination), in no particular order.
 * - `ensure(route)` creates the route, or replaces the one of that name (idempotent). A malformed
 *   name, CIDR or address → `Invalid`, before anything is written.
 * - `remove(name)` deletes the route; a route that does not exist resolves (idempotent).
 * - Calls on different routes may run concurrently.
 * - Failures are NodeProviderErrors classified by `reason` (this is the NodeProvider's side of the
 *   cluster), never by message text.
 */
import { isDNS1123Subdomain } from '../api/validation.js';
import { cidrFamily } from '../api/node.js';
import { isIP } from 'node:net';
import { NodeProviderError } from './provider.js';

/** NodeRoute is one route: packets for `destinationCIDR` go to `nextHopIP`, the address of node `name`. */
export interface NodeRoute {
  name: string;
  destinationCIDR: string;
  nextHopIP: string;
}

/** NodeRoutes lists, writes and deletes the routes of one table; see the file's contract. */
export interface NodeRoutes {
  /** list returns every route of the table. */
  list(): Promise<NodeRoute[]>;
  /** ensure creates or replaces the route named `route.name`. */
  ensure(route: NodeRoute): Promise<void>;
  /** remove deletes route `name`; resolves if it is already gone. */
  remove(name: string): Promise<void>;
}

/** MAX_ROUTE_NAME is the longest route name (Azure: 80 characters). */
export const MAX_ROUTE_NAME = 80;

/** checkNodeRoute throws an Invalid NodeProviderError when `route` is malformed (every adapter checks before it writes). */
export function checkNodeRoute(route: NodeRoute): void {
  const problems = [
    ...(isDNS1123Subdomain(route.name).length > 0 || route.name.length > MAX_ROUTE_NAME ? [`name "${route.name}" must be a node name of at most ${MAX_ROUTE_NAME} characters`] : []),
    ...(cidrFamily(route.destinationCIDR) === 0 ? [`destination "${route.destinationCIDR}" is not a CIDR`] : []),
    ...(isIP(route.nextHopIP) === 0 ? [`next hop "${route.nextHopIP}" is not an IP address`] : []),
  ];
  if (problems.length > 0) throw new NodeProviderError('Invalid', `route ${route.name}: ${problems.join('; ')}`);
}
