// One node pool: a virtual machine scale set in Flexible orchestration mode, VMs without public
// IPs in the nodes' subnet, each running `coracle agent` (installed by cloud-init, see
// infra/cloud-init/node.yaml) under the pool's user-assigned identity. The NodeProvider's Azure
// adapter (adapters/nodes/azure.ts) scales, updates and reimages this scale set afterwards.

@description('Azure region.')
param location string

@description('Name stem shared by every resource of this deployment.')
param stem string

@description('Node pool name (lowercase letters and digits; the VMs\' host names start with it).')
@minLength(1)
@maxLength(9)
param poolName string

@description('How many nodes the pool starts with (0 creates an empty scale set).')
@minValue(0)
@maxValue(100)
param nodeCount int

@description('VM size of every node.')
param vmSize string

@description('Version of the agent the nodes run (a label on the pool; the package is at agentPackageUrl).')
param nodeVersion string

@description('Resource id of the subnet the nodes join.')
param subnetId string

@description('Resource id of the nodes\' user-assigned identity.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('The API server URL the agents join.')
param serverUrl string

@description('Bootstrap token the agents join with (`<id>.<secret>`, see `coracle token create`).')
@secure()
param bootstrapToken string

@description('URL of the agent package blob (readable by the nodes\' identity).')
param agentPackageUrl string

@description('Fully qualified Service Bus namespace the agents receive their work from.')
param serviceBusNamespace string

@description('Blob endpoint of the account whose `container-logs` container the agents write container logs to.')
param logsBlobEndpoint string

@description('The cluster CIDR nodes\' pod CIDRs are cut from: pods get addresses from their node\'s, and only their traffic leaving it is masqueraded (empty: pods stay on Docker\'s default bridge).')
param clusterCidr string = ''

@description('Administrator user of the VMs (no password; SSH key only, and no public IP reaches it).')
param adminUsername string = 'coracle'

@description('SSH public key of the administrator user.')
param adminSshPublicKey string

var cloudInit = reduce(
  items({
    SERVER_URL: serverUrl
    BOOTSTRAP_TOKEN: bootstrapToken
    POOL_NAME: poolName
    SERVICEBUS_NAMESPACE: serviceBusNamespace
    LOGS_BLOB_ENDPOINT: logsBlobEndpoint
    IDENTITY_CLIENT_ID: identityClientId
    AGENT_PACKAGE_URL: agentPackageUrl
    VM_SIZE: vmSize
    LOCATION: location
    CLUSTER_CIDR: clusterCidr
  }),
  loadTextContent('../cloud-init/node.yaml'),
  (text, p) => replace(text, '{{${p.key}}}', p.value)
)

resource pool 'Microsoft.Compute/virtualMachineScaleSets@2025-04-01' = {
  name: '${stem}-pool-${poolName}'
  location: location
  tags: { 'coracle-pool': poolName, 'coracle-version': nodeVersion }
  sku: { name: vmSize, capacity: nodeCount }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    orchestrationMode: 'Flexible'
    platformFaultDomainCount: 1
    singlePlacementGroup: false
    virtualMachineProfile: {
      osProfile: {
        computerNamePrefix: poolName
        adminUsername: adminUsername
        customData: base64(cloudInit)
        linuxConfiguration: {
          disablePasswordAuthentication: true
          ssh: { publicKeys: [{ path: '/home/${adminUsername}/.ssh/authorized_keys', keyData: adminSshPublicKey }] }
          provisionVMAgent: true
        }
      }
      storageProfile: {
        imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' }
        osDisk: { createOption: 'FromImage', caching: 'ReadWrite', diskSizeGB: 64, managedDisk: { storageAccountType: 'StandardSSD_LRS' } }
      }
      networkProfile: {
        networkApiVersion: '2022-11-01'
        networkInterfaceConfigurations: [
          {
            name: '${poolName}-nic'
            properties: {
              primary: true
              // The node receives packets for its pods' addresses (its pod CIDR's route points at it).
              enableIPForwarding: true
              ipConfigurations: [{ name: 'ipv4', properties: { primary: true, subnet: { id: subnetId } } }]
            }
          }
        ]
      }
      diagnosticsProfile: { bootDiagnostics: { enabled: true } }
    }
  }
}

@description('Name of the pool\'s scale set.')
output scaleSetName string = pool.name
