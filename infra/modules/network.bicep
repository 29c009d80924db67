// The node pools' network: one VNet, one subnet for nodes, no inbound from the internet (the
// NSG's default rules already deny it; none are added) and no public IP on any VM. Outbound
// traffic (package installs, the API server, Service Bus, Storage) leaves through a NAT gateway,
// since Azure's default outbound access is off for this subnet.
//
// Pod addresses: each node's pod CIDR (cut from the cluster CIDR by the control plane) is made
// routable by a route in the nodes' subnet's route table, `<pod CIDR> -> <node's private IP>`
// (next hop VirtualAppliance; the scale sets' NICs forward IP). The route controller of the
// Function App writes those routes (identity.bicep gives it Network Contributor on this table
// only). The table is declared without routes: a redeployment's PUT of the table replaces its
// routes with none, and the controller writes them again at its next start (README: pod
// networking on Azure).

@description('Azure region.')
param location string

@description('Name stem shared by every resource of this deployment.')
param stem string

@description('Address space of the VNet.')
param addressPrefix string = '10.42.0.0/16'

@description('Address range of the nodes\' subnet.')
param nodeSubnetPrefix string = '10.42.0.0/20'

resource natIp 'Microsoft.Network/publicIPAddresses@2025-05-01' = {
  name: '${stem}-nat-ip'
  location: location
  sku: { name: 'Standard', tier: 'Regional' }
  properties: { publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4' }
}

resource nat 'Microsoft.Network/natGateways@2025-05-01' = {
  name: '${stem}-nat'
  location: location
  sku: { name: 'Standard' }
  properties: {
    idleTimeoutInMinutes: 10
    publicIpAddresses: [{ id: natIp.id }]
  }
}

resource nsg 'Microsoft.Network/networkSecurityGroups@2025-05-01' = {
  name: '${stem}-nodes-nsg'
  location: location
  properties: { securityRules: [] }
}

resource podRoutes 'Microsoft.Network/routeTables@2025-05-01' = {
  name: '${stem}-pod-routes'
  location: location
  properties: {
    // Nothing learned over BGP (there is no gateway) overrides the pod routes.
    disableBgpRoutePropagation: true
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: '${stem}-vnet'
  location: location
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'nodes'
        properties: {
          addressPrefix: nodeSubnetPrefix
          networkSecurityGroup: { id: nsg.id }
          natGateway: { id: nat.id }
          routeTable: { id: podRoutes.id }
          defaultOutboundAccess: false
        }
      }
    ]
  }
}

@description('Resource id of the nodes\' subnet.')
output nodeSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'nodes')

@description('Name of the route table of pod CIDRs (associated with the nodes\' subnet).')
output podRouteTableName string = podRoutes.name

@description('Resource id of the route table of pod CIDRs.')
output podRouteTableId string = podRoutes.id
