// The store: Cosmos DB for NoSQL, serverless, keys disabled (the Function App uses a data-plane
// role assignment). One container for every cluster; each cluster is one logical partition
// (etcd's one revision counter per cluster needs transactional batches, which Cosmos DB gives
// within a partition). The `leases` container holds the change-feed trigger's checkpoints.

@description('Azure region.')
param location string

@description('Account name (3-44 lowercase letters, digits, hyphens).')
param name string

@description('Database name (the COSMOS_DATABASE setting).')
param databaseName string

@description('Container of the objects (the COSMOS_CONTAINER setting; the change-feed trigger watches it).')
param containerName string

resource account 'Microsoft.DocumentDB/databaseAccounts@2025-10-15' = {
  name: name
  location: location
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    // Strong (single region): a read on any Function App instance sees every write acknowledged on any other (README, "Reads across instances").
    consistencyPolicy: { defaultConsistencyLevel: 'Strong' }
    locations: [{ locationName: location, failoverPriority: 0, isZoneRedundant: false }]
    capabilities: [{ name: 'EnableServerless' }]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-10-15' = {
  parent: account
  name: databaseName
  properties: { resource: { id: databaseName } }
}

resource objects 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-10-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      partitionKey: { paths: ['/cluster'], kind: 'Hash', version: 2 }
      defaultTtl: -1 // TTL on, per item: history and tombstones expire, live objects never do
      indexingPolicy: {
        indexingMode: 'consistent'
        includedPaths: [{ path: '/type/?' }, { path: '/key/?' }, { path: '/revision/?' }, { path: '/modRevision/?' }, { path: '/value/spec/nodeName/?' }]
        excludedPaths: [{ path: '/*' }]
        // The ORDER BYs of the store's queries (adapters/store/cosmos/container.ts, STORE_INDEXING_POLICY).
        compositeIndexes: [
          [{ path: '/type', order: 'ascending' }, { path: '/revision', order: 'ascending' }]
          [{ path: '/type', order: 'ascending' }, { path: '/key', order: 'ascending' }]
        ]
      }
    }
  }
}

resource leases 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-10-15' = {
  parent: database
  name: 'leases'
  properties: { resource: { id: 'leases', partitionKey: { paths: ['/id'], kind: 'Hash' } } }
}

@description('Account name.')
output name string = account.name

@description('Document endpoint, e.g. https://<name>.documents.azure.com:443/.')
output endpoint string = account.properties.documentEndpoint
