// The API server, change feed and orchestrations: a Function App on the Flex Consumption plan
// (Node 22), deployed from a blob container it reads with its system-assigned identity. Its app
// settings are the list in functions/settings.ts (test/infra/settings.test.ts compiles this
// template and fails on any drift between the two).

@description('Azure region.')
param location string

@description('Name stem shared by every resource of this deployment.')
param stem string

@description('Storage account of the Functions host, the durable task hub and the package.')
param storageName string

@description('Blob endpoint of that account.')
param blobEndpoint string

@description('Container the package is deployed to.')
param packageContainerName string

@description('Container of the release catalog (control-plane upgrades deploy from it).')
param releasesContainerName string

@description('Application Insights connection string.')
param insightsConnectionString string

@description('Cosmos DB document endpoint.')
param cosmosEndpoint string

@description('Cosmos DB database of the store.')
param cosmosDatabase string

@description('Cosmos DB container of the store.')
param cosmosContainer string

@description('Logs ingestion endpoint of the audit log\'s data collection endpoint.')
param auditEndpoint string

@description('Immutable id of the audit log\'s data collection rule.')
param auditRuleId string

@description('The audit rule\'s stream.')
param auditStream string

@description('Key Vault key (id without a version) that wraps the data keys of Secrets at rest.')
param keyVaultKeyId string

@description('Fully qualified Service Bus namespace.')
param serviceBusNamespace string

@description('Cluster name (the store\'s partition key value).')
param clusterName string

@description('Bearer token of the cluster admin.')
@secure()
param adminToken string

@description('OIDC sign-in (Microsoft Entra ID): the CORACLE_OIDC_* settings; an empty issuerUrl turns it off.')
param oidc { issuerUrl: string, clientId: string, usernameClaim: string, usernamePrefix: string, groupsClaim: string, groupsPrefix: string, requiredClaims: string }
@description('The range nodes\' pod CIDRs are cut from (one /24 per node).')
param clusterCidr string

@description('PEM bundle pods trust for the API server; empty: the public roots Node ships.')
param apiCaBundle string

@description('Resource id of the route table the route controller keeps the pod routes in.')
param podRouteTableId string

@description('Most instances the app may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of one instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: '${stem}-plan'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: '${stem}-api'
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
          value: '${blobEndpoint}${packageContainerName}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: maximumInstanceCount, instanceMemoryMB: instanceMemoryMB }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // Every name here is in functions/settings.ts, and every setting listed there for Azure is here.
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storageName }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'CORACLE_CLUSTER', value: clusterName }
        { name: 'CORACLE_ADMIN_TOKEN', value: adminToken }
        { name: 'COSMOS_ENDPOINT', value: cosmosEndpoint }
        { name: 'COSMOS_CONNECTION_STRING__accountEndpoint', value: cosmosEndpoint }
        { name: 'COSMOS_DATABASE', value: cosmosDatabase }
        { name: 'COSMOS_CONTAINER', value: cosmosContainer }
        { name: 'SERVICEBUS_NAMESPACE', value: serviceBusNamespace }
        { name: 'CORACLE_KEYVAULT_KEY_ID', value: keyVaultKeyId }
        { name: 'CORACLE_AUDIT_DCE_ENDPOINT', value: auditEndpoint }
        { name: 'CORACLE_AUDIT_DCR_ID', value: auditRuleId }
        { name: 'CORACLE_AUDIT_STREAM', value: auditStream }
        { name: 'LOGS_BLOB_ENDPOINT', value: blobEndpoint }
        { name: 'CORACLE_OIDC_ISSUER_URL', value: oidc.issuerUrl }
        { name: 'CORACLE_OIDC_CLIENT_ID', value: oidc.clientId }
        { name: 'CORACLE_OIDC_USERNAME_CLAIM', value: oidc.usernameClaim }
        { name: 'CORACLE_OIDC_USERNAME_PREFIX', value: oidc.usernamePrefix }
        { name: 'CORACLE_OIDC_GROUPS_CLAIM', value: oidc.groupsClaim }
        { name: 'CORACLE_OIDC_GROUPS_PREFIX', value: oidc.groupsPrefix }
        { name: 'CORACLE_OIDC_REQUIRED_CLAIMS', value: oidc.requiredClaims }
        { name: 'CORACLE_CLUSTER_CIDR', value: clusterCidr }
        { name: 'CORACLE_ROUTE_TABLE_ID', value: podRouteTableId }
        { name: 'CORACLE_API_CA_BUNDLE', value: apiCaBundle }
        // Where cluster upgrades add, reimage and remove nodes: the pools' scale sets (nodepool.bicep names them <stem>-pool-<pool>).
        { name: 'CORACLE_NODE_POOLS_RESOURCE_GROUP_ID', value: resourceGroup().id }
        { name: 'CORACLE_NODE_POOLS_SCALE_SET_PREFIX', value: '${stem}-pool-' }
        { name: 'CORACLE_RELEASES_URL', value: '${blobEndpoint}${releasesContainerName}' }
        { name: 'CORACLE_DEPLOYMENT_CONTAINER_URL', value: '${blobEndpoint}${packageContainerName}' }
        // The app's own resource id (computed, not app.id: a resource cannot refer to itself).
        { name: 'CORACLE_SITE_ID', value: resourceId('Microsoft.Web/sites', '${stem}-api') }
      ]
    }
  }
}

// Basic-auth publishing (FTP, SCM) is off: deployments sign in with Entra ID.
resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

@description('Function App name.')
output name string = app.name

@description('Principal id of the app\'s system-assigned identity.')
output principalId string = app.identity.principalId

@description('Default host name, e.g. <name>.azurewebsites.net.')
output defaultHostName string = app.properties.defaultHostName
