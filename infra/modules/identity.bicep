// The node VMs' user-assigned identity, and every role assignment of the deployment: the
// Function App's (system-assigned) and the nodes' identities get exactly the data-plane roles
// they use, and no keys exist to hand out.
//
//   Function App -> Storage: Blob Data Owner, Queue and Table Data Contributor (its package,
//                   the Functions host and the durable task hub); Cosmos DB: Built-in Data
//                   Contributor (SQL data plane); Service Bus: Data Owner (it creates each
//                   node's queue and sends to it); Application Insights: Metrics Publisher;
//                   Key Vault: Crypto User on the key of Secrets at rest only (wrap, unwrap);
//                   the audit log's data collection rule: Metrics Publisher (Logs Ingestion API);
//                   the pod route table: Network Contributor on that table only (the route
//                   controller writes and deletes its routes; AKS asks the same of a kubenet
//                   cluster's own route table).
//   Node VMs     -> Service Bus: Data Receiver and Data Sender (an agent abandons a failed work
//                   item with a back-off by scheduling it again on its queue, which is a send);
//                   Storage: Blob Data Contributor on the logs container only, Blob Data Reader
//                   on the agent package container only.
//                   Its own site: Website Contributor (a control-plane upgrade asks ARM for a One
//                   Deploy of the release's package, adapters/releases/flex.ts; the account-wide
//                   Blob Data Owner above already lets it read the releases container and write
//                   the package container).
//   Deployer     -> Storage: Blob Data Contributor on the agent package container and on the
//                   releases container (whoever runs the deployment uploads the agent package
//                   and publishes releases; the account accepts no keys).

@description('Azure region.')
param location string

@description('Name stem shared by every resource of this deployment.')
param stem string

@description('Principal id of the Function App\'s system-assigned identity.')
param appPrincipalId string

@description('Function App name (its identity may deploy to it).')
param appName string

@description('Storage account name.')
param storageName string

@description('Container of the release catalog.')
param releasesContainerName string

@description('Container the agents write logs to.')
param logsContainerName string

@description('Container the agents download their package from.')
param agentContainerName string

@description('Cosmos DB account name.')
param cosmosName string

@description('Service Bus namespace name.')
param serviceBusName string

@description('Application Insights component name.')
param insightsName string

@description('Name of the audit log\'s data collection rule.')
param auditRuleName string

@description('Name of the route table of pod CIDRs.')
param podRouteTableName string

@description('Key Vault holding the key-encryption key of Secrets at rest (key `secrets-kek`).')
param keyVaultName string

// Built-in role definition ids (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424'
  networkContributor: '4d97b98b-1d4f-4787-a291-c67834d212e7'
  virtualMachineContributor: '9980e02c-c2be-4d73-94e8-173b1dc7cf3c'
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830'
  websiteContributor: 'de139f84-1756-47ae-9be6-808fbbe84772'
}
// Cosmos DB's own (data-plane) built-in role: Cosmos DB Built-in Data Contributor.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource nodeIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${stem}-node-id'
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageName
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' existing = {
  parent: storage
  name: 'default'
}

resource logsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = {
  parent: blobs
  name: logsContainerName
}

resource agentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = {
  parent: blobs
  name: agentContainerName
}

resource releasesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = {
  parent: blobs
  name: releasesContainerName
}

resource site 'Microsoft.Web/sites@2025-03-01' existing = {
  name: appName
}

resource appSite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(site.id, appPrincipalId, roles.websiteContributor)
  scope: site
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.websiteContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2025-10-15' existing = {
  name: cosmosName
}

resource bus 'Microsoft.ServiceBus/namespaces@2026-01-01' existing = {
  name: serviceBusName
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource kek 'Microsoft.KeyVault/vaults/keys@2024-11-01' existing = {
  parent: vault
  name: 'secrets-kek'
}

resource appKek 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(kek.id, appPrincipalId, roles.keyVaultCryptoUser)
  scope: kek
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource podRoutes 'Microsoft.Network/routeTables@2025-05-01' existing = {
  name: podRouteTableName
}

resource appRoutes 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(podRoutes.id, appPrincipalId, roles.networkContributor)
  scope: podRoutes
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.networkContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Cluster upgrades scale the pools' scale sets out and in and reimage their VMs
// (adapters/nodes/azure.ts): Virtual Machine Contributor on the resource group, and Managed
// Identity Operator on the node identity the scale sets give their VMs.
resource appPools 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, appPrincipalId, roles.virtualMachineContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.virtualMachineContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appNodeIdentity 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(nodeIdentity.id, appPrincipalId, roles.managedIdentityOperator)
  scope: nodeIdentity
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.managedIdentityOperator)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource auditRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' existing = {
  name: auditRuleName
}

resource appAudit 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(auditRule.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: auditRule
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]: {
  name: guid(storage.id, appPrincipalId, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource appBus 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(bus.id, appPrincipalId, roles.serviceBusDataOwner)
  scope: bus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appInsights 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appCosmos 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-10-15' = {
  parent: cosmos
  name: guid(cosmos.id, appPrincipalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: appPrincipalId
    scope: cosmos.id
  }
}

resource nodeBus 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(bus.id, nodeIdentity.id, roles.serviceBusDataReceiver)
  scope: bus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: nodeIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource nodeLogs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(logsContainer.id, nodeIdentity.id, roles.storageBlobDataContributor)
  scope: logsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: nodeIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource nodePackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(agentContainer.id, nodeIdentity.id, roles.storageBlobDataReader)
  scope: agentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: nodeIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource nodeBusSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(bus.id, nodeIdentity.id, roles.serviceBusDataSender)
  scope: bus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: nodeIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The deployer (a user from a shell, the workflow's service principal from GitHub) uploads the agent
// package; no principalType, since it may be either.
resource deployerPackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(agentContainer.id, deployer().objectId, roles.storageBlobDataContributor)
  scope: agentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: deployer().objectId
  }
}

resource deployerReleases 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(releasesContainer.id, deployer().objectId, roles.storageBlobDataContributor)
  scope: releasesContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: deployer().objectId
  }
}

@description('Resource id of the node VMs\' user-assigned identity.')
output nodeIdentityId string = nodeIdentity.id

@description('Client id of the node VMs\' identity (AZURE_CLIENT_ID for the agent\'s credential).')
output nodeIdentityClientId string = nodeIdentity.properties.clientId
