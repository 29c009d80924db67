// The Function App's storage (its package, the durable task hub's queues and tables), the node
// agents' package, container logs, and the release catalog. Shared keys are off: every client signs in with Entra ID.

@description('Azure region.')
param location string

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Blob container the Function App deploys its package from.')
param packageContainerName string

@description('Blob container the node VMs download the agent package from.')
param agentContainerName string

@description('Blob container the agents write container logs to.')
param logsContainerName string

@description('Blob container of the release catalog: the package zips a control-plane upgrade can deploy.')
param releasesContainerName string

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
    // The Functions host (AzureWebJobsStorage__accountName), Durable Functions' Azure Storage
    // provider and the blob log sink all authenticate with managed identities.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [for c in [packageContainerName, agentContainerName, logsContainerName, releasesContainerName]: {
  parent: blobs
  name: c
  properties: { publicAccess: 'None' }
}]

@description('Storage account name.')
output name string = account.name

@description('Blob endpoint, e.g. https://<name>.blob.core.windows.net/.')
output blobEndpoint string = account.properties.primaryEndpoints.blob
