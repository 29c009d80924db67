// Coracle on Azure: one resource group holds one control plane.
//
//   Function App (Flex Consumption, Node 22)  — the API server, change feed, orchestrations
//   Cosmos DB (serverless, NoSQL)             — the store: container `objects`, partition key /cluster
//   Service Bus (Standard)                    — the node agents' work queues
//   Storage account                           — Functions' own state, durable task hub, container logs
//   Application Insights + Log Analytics      — telemetry
//
// Deploy (from CI or a shell with the Azure CLI):
//   az group create -n coracle-rg -l westeurope
//   az deployment group create -g coracle-rg -f infra/main.bicep -p clusterName=prod adminToken=$(openssl rand -hex 32)
//   npm run build && func-less zip deploy: see README "Deploy to Azure".
//
// Nothing here has a fixed name or key: names derive from the resource group, and the Function App
// reaches Storage with its managed identity. Cosmos DB and Service Bus keys go into app settings
// through listKeys() at deployment, never into source.

@description('Azure region for every resource.')
param location string = resourceGroup().location

@description('Name of the cluster this control plane serves (the Cosmos DB partition key value).')
@minLength(1)
@maxLength(40)
param clusterName string = 'default'

@description('Prefix of every resource name.')
@minLength(3)
@maxLength(11)
param namePrefix string = 'coracle'

@description('Most Function App instances the API server may scale out to.')
param maximumInstanceCount int = 40

@description('Bearer token of the cluster admin (put it in your kubeconfig). Generate one: openssl rand -hex 32')
@secure()
@minLength(32)
param adminToken string

@description('Memory of one Function App instance, in MB (512, 2048 or 4096).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

var suffix = uniqueString(resourceGroup().id, namePrefix)
var storageName = take(toLower('${namePrefix}${suffix}'), 24)
var deploymentContainer = 'app-package'
// Blob Data Owner (package, logs), Queue and Table Data Contributor (durable task hub).
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
]

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs-${suffix}'
  location: location
  properties: { sku: { name: 'PerGB2018' }, retentionInDays: 30 }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-ai-${suffix}'
  location: location
  kind: 'web'
  properties: { Application_Type: 'web', WorkspaceResourceId: logs.id }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
}

resource logsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'container-logs'
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: '${namePrefix}-cosmos-${suffix}'
  location: location
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    locations: [{ locationName: location, failoverPriority: 0, isZoneRedundant: false }]
    capabilities: [{ name: 'EnableServerless' }]
    disableLocalAuth: false
  }
}

resource cosmosDb 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: cosmos
  name: 'coracle'
  properties: { resource: { id: 'coracle' } }
}

// One container for every cluster; each cluster is one logical partition (etcd's one revision
// counter per cluster needs transactional batches, which Cosmos DB gives within a partition).
resource objects 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: cosmosDb
  name: 'objects'
  properties: {
    resource: {
      id: 'objects'
      partitionKey: { paths: ['/cluster'], kind: 'Hash', version: 2 }
      defaultTtl: -1 // TTL on, per item: history and tombstones expire, live objects never do
      indexingPolicy: {
        indexingMode: 'consistent'
        includedPaths: [{ path: '/type/?' }, { path: '/key/?' }, { path: '/revision/?' }, { path: '/modRevision/?' }]
        excludedPaths: [{ path: '/*' }]
      }
    }
  }
}

// The change feed function keeps its checkpoints here.
resource leases 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: cosmosDb
  name: 'leases'
  properties: { resource: { id: 'leases', partitionKey: { paths: ['/id'], kind: 'Hash' } } }
}

resource bus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: '${namePrefix}-bus-${suffix}'
  location: location
  sku: { name: 'Standard', tier: 'Standard' }
}

resource busRule 'Microsoft.ServiceBus/namespaces/AuthorizationRules@2022-10-01-preview' = {
  parent: bus
  name: 'coracle'
  properties: { rights: ['Listen', 'Send', 'Manage'] }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${namePrefix}-plan-${suffix}'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: '${namePrefix}-api-${suffix}'
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: maximumInstanceCount, instanceMemoryMB: instanceMemoryMB }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'CORACLE_CLUSTER', value: clusterName }
        { name: 'CORACLE_ADMIN_TOKEN', value: adminToken }
        // The store and the change-feed trigger (functions/changefeed.ts) both read the connection string.
        { name: 'COSMOS_CONNECTION_STRING', value: cosmos.listConnectionStrings().connectionStrings[0].connectionString }
        { name: 'COSMOS_DATABASE', value: 'coracle' }
        { name: 'COSMOS_CONTAINER', value: 'objects' }
        { name: 'SERVICEBUS_CONNECTION_STRING', value: busRule.listKeys().primaryConnectionString }
        { name: 'LOGS_BLOB_ENDPOINT', value: storage.properties.primaryEndpoints.blob }
      ]
    }
  }
}

// The Function App reads its package, its durable task hub and the container logs with its identity.
resource appStorageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, app.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}]

@description('The API server URL to put in a kubeconfig.')
output apiServerUrl string = 'https://${app.properties.defaultHostName}'
output functionAppName string = app.name
output cosmosAccountName string = cosmos.name
output serviceBusNamespace string = bus.name
