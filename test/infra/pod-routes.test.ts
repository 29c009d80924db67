/**
 * Pod networking in the compiled templates (infra/main.bicep): the route table of pod CIDRs is on
 * the nodes' subnet, the scale sets' NICs forward IP, the Function App is told the table and the
 * cluster CIDR, and its identity holds Network Contributor on that table only.
 */
import { describe, expect, it } from '@jest/globals';
import { readRouteTableConfig } from '../../functions/config.js';
import { armResources, compileBicep, type ArmResource } from '../support/bicep.js';

describe('Bicep: the pod route table', () => {
  const resources = armResources(compileBicep('infra/main.bicep'));
  const ofType = (type: string): ArmResource[] => resources.filter((r) => r.type === type);

  it('is associated with the nodes\' subnet and learns no BGP routes; NICs forward IP', () => {
    const [table] = ofType('Microsoft.Network/routeTables');
    expect(ofType('Microsoft.Network/routeTables')).toHaveLength(1);
    expect(table.properties).toEqual({ disableBgpRoutePropagation: true });
    const [vnet] = ofType('Microsoft.Network/virtualNetworks');
    const subnets = (vnet.properties as { subnets: { name: string; properties: { routeTable?: { id: string } } }[] }).subnets;
    expect(subnets.map((s) => [s.name, s.properties.routeTable?.id])).toEqual([['nodes', expect.stringContaining("'Microsoft.Network/routeTables'")]]);
    for (const set of ofType('Microsoft.Compute/virtualMachineScaleSets')) {
      const nics = (set.properties as any).virtualMachineProfile.networkProfile.networkInterfaceConfigurations;
      expect(nics.map((n: any) => n.properties.enableIPForwarding)).toEqual([true]);
    }
  });

  it('the Function App gets the cluster CIDR and the table\'s id, in the form the configuration reads', () => {
    const [site] = ofType('Microsoft.Web/sites');
    const settings = new Map(((site.properties as any).siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]));
    expect(settings.get('CORACLE_CLUSTER_CIDR')).toBe("[parameters('clusterCidr')]");
    expect(settings.get('CORACLE_ROUTE_TABLE_ID')).toBe("[parameters('podRouteTableId')]");
    // What the table's resource id looks like once deployed is what readRouteTableConfig parses.
    expect(readRouteTableConfig({ CORACLE_ROUTE_TABLE_ID: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/coracle-x-pod-routes' })?.name).toBe('coracle-x-pod-routes');
  });

  it('every node pool\'s agents get the same cluster CIDR', () => {
    const pools = ofType('Microsoft.Resources/deployments').filter((d) => String(d.name).includes('nodepool-'));
    expect(pools.length).toBeGreaterThan(0);
    for (const pool of pools) expect((pool.properties as any).parameters.clusterCidr).toEqual({ value: "[parameters('clusterCidr')]" });
  });

  it('the app\'s identity is Network Contributor on the route table only', () => {
    const identity = ofType('Microsoft.Resources/deployments').find((d) => d.name === 'identity')!;
    const roles = ((identity.properties as any).template.variables as { roles: Record<string, string> }).roles;
    expect(roles.networkContributor).toBe('4d97b98b-1d4f-4787-a291-c67834d212e7');
    const grants = ofType('Microsoft.Authorization/roleAssignments').filter((r) => JSON.stringify(r.properties).includes("variables('roles').networkContributor"));
    expect(grants).toHaveLength(1);
    expect(String(grants[0].scope)).toBe("[resourceId('Microsoft.Network/routeTables', parameters('podRouteTableName'))]");
    expect((grants[0].properties as { principalId: string }).principalId).toBe("[parameters('appPrincipalId')]");
  });
});
