/**
 * NodeRoutes on Azure: the routes of one route table (infra/modules/network.bicep's, associated
 * with the nodes' subnet), through `@azure/arm-network`. Each route is a user-defined route
 * `<node>`: `addressPrefix` the node's pod CIDR, next hop type `VirtualAppliance` at the node's
 * private IP (the scale set's NICs forward IP packets: `enableIPForwarding`). Azure's limit is 400
 * routes a table, so about 400 nodes a cluster.
 * - list: GET …/routeTables/<table>/routes (paged);
 * - ensure: PUT …/routes/<node> (a long-running operation: Azure-AsyncOperation);
 * - remove: DELETE …/routes/<node> (202 and Location; 204 when there was none).
 */
import { NetworkManagementClient, type Route } from '@azure/arm-network';
import type { TokenCredential } from '@azure/core-auth';
import { armClientOptions, armStatusOf, classifyArmError, type ArmEndpointOptions } from './arm.js';
import { checkNodeRoute, type NodeRoute, type NodeRoutes } from '../../shared/nodes/routes.js';

/** AzureNodeRoutesOptions say which route table. */
export interface AzureNodeRoutesOptions extends ArmEndpointOptions {
  credential: TokenCredential;
  subscriptionId: string;
  resourceGroup: string;
  routeTable: string;
  /** Poll interval of long-running operations (default: as ARM's Retry-After says). */
  pollIntervalMs?: number;
}

/** AzureNodeRoutes keeps node routes in an Azure route table; see the file's comment. */
export class AzureNodeRoutes implements NodeRoutes {
  private readonly client: NetworkManagementClient;

  constructor(private readonly o: AzureNodeRoutesOptions) {
    this.client = new NetworkManagementClient(o.credential, o.subscriptionId, armClientOptions(o) as ConstructorParameters<typeof NetworkManagementClient>[2]);
  }

  private get lro() {
    return this.o.pollIntervalMs !== undefined ? { updateIntervalInMs: this.o.pollIntervalMs } : {};
  }

  async list(): Promise<NodeRoute[]> {
    const routes: NodeRoute[] = [];
    try {
      for await (const r of this.client.routes.list(this.o.resourceGroup, this.o.routeTable)) routes.push(routeOf(r));
    } catch (err) {
      throw classifyArmError(err, `list the routes of ${this.o.routeTable}`);
    }
    return routes;
  }

  async ensure(route: NodeRoute): Promise<void> {
    checkNodeRoute(route);
    try {
      await this.client.routes.createOrUpdate(this.o.resourceGroup, this.o.routeTable, route.name,
        { addressPrefix: route.destinationCIDR, nextHopType: 'VirtualAppliance', nextHopIpAddress: route.nextHopIP }, this.lro);
    } catch (err) {
      throw classifyArmError(err, `write route ${route.name} in ${this.o.routeTable}`);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.client.routes.delete(this.o.resourceGroup, this.o.routeTable, name, this.lro);
    } catch (err) {
      if (armStatusOf(err) !== 404) throw classifyArmError(err, `delete route ${name} of ${this.o.routeTable}`);
    }
  }
}

function routeOf(r: Route): NodeRoute {
  return { name: r.name ?? '', destinationCIDR: r.addressPrefix ?? '', nextHopIP: r.nextHopIpAddress ?? '' };
}
