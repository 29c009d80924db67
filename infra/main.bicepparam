// A small cluster: the control plane and one pool of two B2s nodes. Secrets and the SSH key come
// from the environment (README "Deploy to Azure" and .github/workflows/deploy.yml set them).
using 'main.bicep'

param clusterName = 'default'
param namePrefix = 'coracle'
param adminToken = readEnvironmentVariable('CORACLE_ADMIN_TOKEN')
param bootstrapToken = readEnvironmentVariable('CORACLE_BOOTSTRAP_TOKEN', '')
param nodeSshPublicKey = readEnvironmentVariable('CORACLE_NODE_SSH_KEY')
// Microsoft Entra sign-in (README "Signing in with OIDC / Microsoft Entra"): empty turns it off.
param entraTenantId = readEnvironmentVariable('CORACLE_ENTRA_TENANT_ID', '')
param entraApiClientId = readEnvironmentVariable('CORACLE_ENTRA_API_CLIENT_ID', '')
param entraGroupsClaim = 'groups'
param entraGroupsPrefix = 'entra:'
param nodePools = [
  { name: 'pool1', count: 2, vmSize: 'Standard_B2s' }
]
param nodeVersion = '0.1.0'
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
