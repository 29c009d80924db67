// The node agents' work queues (one queue per node, created by the control plane). SAS keys are
// disabled: the control plane and the agents authenticate with their managed identities.

@description('Azure region.')
param location string

@description('Namespace name (6-50 letters, digits, hyphens).')
param name string

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: name
  location: location
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

@description('Namespace name.')
output name string = namespace.name

@description('Fully qualified namespace, e.g. <name>.servicebus.windows.net.')
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
