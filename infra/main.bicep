// Coracle on Azure: one resource group holds one control plane and its node pools.
//
//   monitoring   Log Analytics + Application Insights (Entra ID ingestion only)
//   storage      Functions host state, durable task hub, app and agent packages, container logs
//   cosmos       the store: Cosmos DB for NoSQL, serverless
//   servicebus   the agents' work queues
//   keyvault     the key-encryption key of Secrets at rest
//   audit        the audit log's table, data collection endpoint and rule (Log Analytics)
//   functionapp  the API server, change feed, orchestrations (Flex Consumption, Node 22)
//   identity     the nodes' identity and every role assignment (no keys anywhere)
//   network      VNet, nodes' subnet, NAT gateway for outbound; no public IP on a VM; the
//                route table that makes pod CIDRs routable between VMs
//   nodepool     one VM scale set (Flexible orchestration) per pool, running `coracle agent`
//
// Deploy: see README "Deploy to Azure" (or .github/workflows/deploy.yml). Parameters for a small
// cluster: infra/main.bicepparam.
targetScope = 'resourceGroup'

@description('Azure region for every resource.')
param location string = resourceGroup().location

@description('Name of the cluster this control plane serves (the Cosmos DB partition key value).')
@minLength(1)
@maxLength(40)
param clusterName string = 'default'

@description('Prefix of every resource name (lowercase letters and digits).')
@minLength(3)
@maxLength(11)
param namePrefix string = 'coracle'

@description('Bearer token of the cluster admin (put it in your kubeconfig). Generate one: openssl rand -hex 32')
@secure()
@minLength(32)
param adminToken string

@description('Microsoft Entra tenant (directory) id whose users sign in with OIDC tokens; empty: no Entra sign-in, only the admin token and ServiceAccount tokens.')
param entraTenantId string = ''

@description('Client id of the API\'s Entra app registration: the audience tokens must carry (kubeconfigs ask for `<id>/.default`).')
param entraApiClientId string = ''

@description('Claim that names an Entra user (oid: the stable object id; preferred_username or upn for readable names).')
param entraUsernameClaim string = 'oid'

@description('Prefix of Entra usernames (RBAC subjects are `<prefix><claim>`; `-` for none).')
param entraUsernamePrefix string = 'entra:'

@description('Claim that carries the user\'s groups: groups (security group object ids, with the app\'s groupMembershipClaims) or roles (app roles).')
param entraGroupsClaim string = 'groups'

@description('Prefix of Entra groups (RBAC subjects are `<prefix><group object id or role>`).')
param entraGroupsPrefix string = 'entra:'

@description('Bootstrap token node agents join with, `<6 chars>.<16 chars>` of [a-z0-9]; empty when no pool has nodes yet.')
@secure()
param bootstrapToken string = ''

@description('Node pools: name (1-9 lowercase letters/digits), count, VM size.')
param nodePools { name: string, count: int, vmSize: string }[] = [{ name: 'pool1', count: 2, vmSize: 'Standard_B2s' }]

@description('SSH public key of the nodes\' administrator (no public IP reaches the VMs; for Bastion or serial console).')
param nodeSshPublicKey string

@description('Version the node pools run (a tag on each scale set; the NodeProvider compares it).')
param nodeVersion string = '0.1.0'

@description('The range nodes\' pod CIDRs are cut from, one /24 per node (outside the VNet\'s address space and the service CIDR 10.96.0.0/12).')
param clusterCidr string = '10.244.0.0/16'

@description('PEM bundle pods get as ca.crt to verify the API server at https://<app>.azurewebsites.net (the name agents give them); empty: the public roots Node ships, which verify the app\'s public certificate.')
param apiCaBundle string = ''

@description('Most Function App instances the API server may scale out to.')
@minValue(40)
param maximumInstanceCount int = 40

@description('Memory of one Function App instance, in MB (512, 2048 or 4096).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

var stem = '${namePrefix}-${uniqueString(resourceGroup().id, namePrefix)}'
// Entra ID v2.0 tokens: the tenant's issuer, and only the tenant's tokens (tid), as kube-apiserver's --oidc-* flags.
var entraSignIn = !empty(entraTenantId) && !empty(entraApiClientId)
var oidc = {
  issuerUrl: entraSignIn ? '${environment().authentication.loginEndpoint}${entraTenantId}/v2.0' : ''
  clientId: entraSignIn ? entraApiClientId : ''
  usernameClaim: entraUsernameClaim
  usernamePrefix: entraUsernamePrefix
  groupsClaim: entraGroupsClaim
  groupsPrefix: entraGroupsPrefix
  requiredClaims: entraSignIn ? 'tid=${entraTenantId}' : ''
}
var storageName = take(toLower('${namePrefix}${uniqueString(resourceGroup().id, namePrefix)}'), 24)
var containers = { package: 'app-package', agent: 'agent-package', logs: 'container-logs', releases: 'releases' }
var cosmosDatabase = 'coracle'
var cosmosContainer = 'objects'
var agentPackageBlob = 'coracle.zip'

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: { location: location, stem: stem }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    name: storageName
    packageContainerName: containers.package
    agentContainerName: containers.agent
    logsContainerName: containers.logs
    releasesContainerName: containers.releases
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: { location: location, name: '${stem}-cosmos', databaseName: cosmosDatabase, containerName: cosmosContainer }
}

module servicebus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: { location: location, name: '${stem}-bus' }
}

module keyvault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: { location: location, name: take('${namePrefix}kv${uniqueString(resourceGroup().id, namePrefix)}', 24) }
}

module audit 'modules/audit.bicep' = {
  name: 'audit'
  params: { location: location, stem: stem, workspaceName: monitoring.outputs.workspaceName }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    stem: stem
    storageName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    packageContainerName: containers.package
    releasesContainerName: containers.releases
    insightsConnectionString: monitoring.outputs.insightsConnectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmosDatabase
    cosmosContainer: cosmosContainer
    serviceBusNamespace: servicebus.outputs.fullyQualifiedNamespace
    keyVaultKeyId: keyvault.outputs.keyId
    auditEndpoint: audit.outputs.endpoint
    auditRuleId: audit.outputs.ruleId
    auditStream: audit.outputs.stream
    clusterCidr: clusterCidr
    apiCaBundle: apiCaBundle
    podRouteTableId: network.outputs.podRouteTableId
    clusterName: clusterName
    adminToken: adminToken
    oidc: oidc
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    stem: stem
    appPrincipalId: functionApp.outputs.principalId
    appName: functionApp.outputs.name
    releasesContainerName: containers.releases
    storageName: storage.outputs.name
    logsContainerName: containers.logs
    agentContainerName: containers.agent
    cosmosName: cosmos.outputs.name
    serviceBusName: servicebus.outputs.name
    insightsName: monitoring.outputs.insightsName
    keyVaultName: keyvault.outputs.name
    auditRuleName: audit.outputs.ruleName
    podRouteTableName: network.outputs.podRouteTableName
  }
}

module network 'modules/network.bicep' = {
  name: 'network'
  params: { location: location, stem: stem }
}

module pools 'modules/nodepool.bicep' = [for pool in nodePools: {
  name: 'nodepool-${pool.name}'
  params: {
    location: location
    stem: stem
    poolName: pool.name
    nodeCount: pool.count
    vmSize: pool.vmSize
    nodeVersion: nodeVersion
    subnetId: network.outputs.nodeSubnetId
    identityId: identity.outputs.nodeIdentityId
    identityClientId: identity.outputs.nodeIdentityClientId
    serverUrl: 'https://${functionApp.outputs.defaultHostName}'
    bootstrapToken: bootstrapToken
    agentPackageUrl: '${storage.outputs.blobEndpoint}${containers.agent}/${agentPackageBlob}'
    serviceBusNamespace: servicebus.outputs.fullyQualifiedNamespace
    logsBlobEndpoint: storage.outputs.blobEndpoint
    clusterCidr: clusterCidr
    adminSshPublicKey: nodeSshPublicKey
  }
}]

@description('The API server URL to put in a kubeconfig.')
output apiServerUrl string = 'https://${functionApp.outputs.defaultHostName}'

@description('The portal page (served by the API server). With Entra sign-in, register it as a single-page-application redirect URI of the API app registration (entraApiClientId): README, "The portal page".')
output portalUrl string = 'https://${functionApp.outputs.defaultHostName}/portal/'

@description('Registers portalUrl as a SPA redirect URI of the API app registration (Microsoft Graph; the page signs in with authorization code + PKCE, no secret). Empty without Entra sign-in.')
output portalRedirectUriCommand string = entraSignIn ? 'az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications(appId=\'${entraApiClientId}\')" --body \'{"spa":{"redirectUris":["https://${functionApp.outputs.defaultHostName}/portal/"]}}\'' : ''

@description('How to get a kubeconfig for the admin user (the token is the adminToken parameter, exported as CORACLE_ADMIN_TOKEN).')
output kubeconfigCommand string = 'kubectl config set-cluster ${clusterName} --server=https://${functionApp.outputs.defaultHostName} && kubectl config set-credentials ${clusterName}-admin --token="$CORACLE_ADMIN_TOKEN" && kubectl config set-context ${clusterName} --cluster=${clusterName} --user=${clusterName}-admin && kubectl config use-context ${clusterName}'

@description('Function App name (deploy the package to it).')
output functionAppName string = functionApp.outputs.name

@description('Storage account holding the app and agent packages.')
output storageAccountName string = storage.outputs.name

@description('Blob container URL of the release catalog (coracle release publish --container-url).')
output releasesContainerUrl string = '${storage.outputs.blobEndpoint}${containers.releases}'

@description('Blob container and name of the agent package the nodes download.')
output agentPackageBlob string = '${containers.agent}/${agentPackageBlob}'

@description('Nodes the pools ask for, all pools together (the workflow\'s smoke test waits for this many Ready).')
output nodeCount int = reduce(map(nodePools, p => p.count), 0, (sum, n) => sum + n)

@description('Node pools: name and scale set.')
output nodePools { name: string, scaleSet: string }[] = [for (pool, i) in nodePools: { name: pool.name, scaleSet: pools[i].outputs.scaleSetName }]

@description('Cosmos DB account name.')
output cosmosAccountName string = cosmos.outputs.name

@description('Service Bus namespace name.')
output serviceBusNamespace string = servicebus.outputs.name
