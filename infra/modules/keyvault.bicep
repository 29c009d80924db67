// The key-encryption key of Secrets at rest (adapters/kms/keyvault.ts): an RSA key in a vault
// with RBAC authorization, soft delete and purge protection (a lost key would make every Secret
// unreadable). Key Vault rotates it (a new version every 180 days); the API server wraps new data
// keys with the newest version, older versions still unwrap, and `coracle secrets rotate`
// re-encrypts every Secret under the newest. The Function App's Key Vault Crypto User role on the
// key is assigned in identity.bicep.

@description('Azure region.')
param location string

@description('Vault name (3-24 letters, digits, hyphens; globally unique).')
param name string

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource kek 'Microsoft.KeyVault/vaults/keys@2024-11-01' = {
  parent: vault
  name: 'secrets-kek'
  properties: {
    kty: 'RSA'
    keySize: 3072
    keyOps: ['wrapKey', 'unwrapKey']
    rotationPolicy: {
      attributes: { expiryTime: 'P2Y' }
      lifetimeActions: [
        { action: { type: 'rotate' }, trigger: { timeAfterCreate: 'P180D' } }
      ]
    }
  }
}

@description('Vault name.')
output name string = vault.name

@description('The key\'s id without a version (CORACLE_KEYVAULT_KEY_ID).')
output keyId string = kek.properties.keyUri
